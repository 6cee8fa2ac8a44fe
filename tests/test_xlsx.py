"""`-f xlsx` (issue 12, item 6): the bill of materials as cells with formulas
a finance reader can change, the formulas' results equal to planner's own
figures (evaluated here by hand), the same bytes for the same spec."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.report.writer import build, render
from planner.report.xlsx import BILL_ROWS

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = "specs/llama-3-70b-pretrain.yaml"
EXAMPLE = [f"specs/compare/llama-3-70b-{g}.yaml" for g in ("a100", "h100", "h200")]
_SIMPLE = re.compile(r"^=([A-Z]+[0-9]+)([*+])([A-Z]+[0-9]+)$")


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def value(ws: Any, ref: str) -> float:
    """A cell's value, evaluating `=X1*Y2` and `=X1+Y2` by hand (recursively):
    the only formulas the priced bill of materials uses."""
    v = ws[ref].value
    if isinstance(v, str) and v.startswith("="):
        m = _SIMPLE.match(v)
        assert m, f"{ref}: {v} is not a simple product or sum"
        a, op, b = value(ws, m.group(1)), m.group(2), value(ws, m.group(3))
        return a * b if op == "*" else a + b
    assert isinstance(v, int | float), (ref, v)
    return float(v)


def report_xlsx(spec: str) -> bytes:
    return render(build(spec, charts=False), ("xlsx",)).files[f"{Path(spec).stem}.xlsx"]


def load(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def pretrain() -> tuple[Any, dict[str, Any]]:
    from planner.pipeline import evaluate
    from planner.spec import load_spec

    spec = str(ROOT / PRETRAIN)  # module scope: before the chdir fixture
    return load(report_xlsx(spec)), evaluate(load_spec(spec)).plan_json


def test_report_bill_formulas(pretrain: tuple[Any, dict[str, Any]]) -> None:
    wb, plan = pretrain
    ws = wb["Bill of materials"]

    def b(key: str) -> str:
        return f"B{BILL_ROWS[key]}"

    assert ws[b("gpu_hours")].value == f"={b('gpus')}*{b('hours')}"
    assert ws[b("subtotal")].value == f"={b('gpu_hours')}*{b('price')}"
    assert ws[b("contingency")].value == f"={b('subtotal')}*{b('rate')}"
    assert ws[b("total")].value == f"={b('subtotal')}+{b('contingency')}"
    # Inputs are the plan's figures: 2.50 USD/GPU-hour and 15% in the spec.
    assert ws[b("gpus")].value == plan["plan"]["gpus"]
    assert ws[b("price")].value == 2.50 == plan["cost"]["price_per_gpu_hour"]
    assert ws[b("rate")].value == 0.15
    assert ws[b("hours")].value == pytest.approx(plan["time"]["days"] * 24, rel=1e-12)
    # The formulas give planner's own figures.
    assert value(ws, b("gpu_hours")) == pytest.approx(plan["time"]["gpu_hours"], rel=1e-12)
    assert value(ws, b("subtotal")) == pytest.approx(plan["cost"]["usd"], rel=1e-12)
    total = plan["cost"]["usd"] * 1.15
    assert value(ws, b("total")) == pytest.approx(total, rel=1e-12)
    assert ws[f"D{BILL_ROWS['total']}"].value == pytest.approx(total, rel=1e-12)  # as planned
    assert ws[b("usd_low")].value == plan["cost"]["usd_low"]
    # A finance reader changes the price: the total moves with it.
    ws[b("price")].value = 2.00
    assert value(ws, b("total")) == pytest.approx(plan["time"]["gpu_hours"] * 2.00 * 1.15)


def test_report_assumptions_are_cells(pretrain: tuple[Any, dict[str, Any]]) -> None:
    wb, _ = pretrain
    rows = list(wb["Assumptions"].iter_rows(values_only=True))
    assert rows[0] == ("option", "figure", "value", "source")
    figures = {r[1]: r[2] for r in rows[1:]}
    assert figures["Budget contingency"] == "15%"
    assert "2.50" in figures["GPU price"]


def test_same_spec_same_bytes() -> None:
    first, second = report_xlsx(PRETRAIN), report_xlsx(PRETRAIN)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(2024, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2024-01-01T00:00:00Z" in core
    assert load(first).properties.modified.year == 2024


def test_unpriced_bill_waits_for_a_price(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(Path("specs/seed-7b.yaml").read_text())
    data["cluster"] = {"gpu": "mi300x", "max_gpus": 1}  # the catalog has no MI300X price
    spec = tmp_path / "unpriced.yaml"
    spec.write_text(yaml.safe_dump(data))
    ws = load(render(build(spec, charts=False), ("xlsx",)).files["seed-7b.xlsx"])[
        "Bill of materials"
    ]
    price = f"B{BILL_ROWS['price']}"
    assert ws[price].value is None
    assert ws[f"B{BILL_ROWS['subtotal']}"].value.startswith(f"=IF(ISNUMBER({price}),")
    assert "set price_per_gpu_hour" in ws[f"B{BILL_ROWS['subtotal']}"].value


def test_inference_spec_refused() -> None:
    res = CliRunner().invoke(
        main, ["report", "specs/llama-3-8b-serving-slo.yaml", "-o", "-", "-f", "xlsx"]
    )
    assert res.exit_code == 2 and "inference spec" in res.stderr


def test_compare_workbook(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["compare", *EXAMPLE, "-o", str(tmp_path), "-f", "xlsx", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    import json

    options = json.loads(res.stdout)["options"]
    data = (tmp_path / "compare-llama-3-70b.xlsx").read_bytes()
    ws = load(data)["Options"]
    header = [c.value for c in ws[1]]
    col = {name: chr(ord("A") + i) for i, name in enumerate(header)}
    for r, o in enumerate(options, start=2):
        assert ws[f"A{r}"].value == o["name"]
        assert ws[f"{col['GPU-hours']}{r}"].value == f"=C{r}*D{r}"
        assert ws[f"{col['subtotal (USD)']}{r}"].value == f"=E{r}*F{r}"
        assert ws[f"{col['total (USD)']}{r}"].value == f"=G{r}+I{r}"
        assert value(ws, f"E{r}") == pytest.approx(o["gpu_hours"], rel=1e-12)
        assert value(ws, f"G{r}") == pytest.approx(o["usd"], rel=1e-12)
        assert value(ws, f"J{r}") == pytest.approx(o["total_usd"], rel=1e-12)
        assert ws[f"{col['feasible']}{r}"].value == ("yes" if o["feasible"] else "no")
    last = len(options) + 3  # after a blank row
    assert ws[f"A{last}"].value == "Recommended" and ws[f"B{last}"].value == "llama-3-70b-h100"
    # Written twice: the same bytes.
    again = tmp_path / "again"
    CliRunner().invoke(main, ["compare", *EXAMPLE, "-o", str(again), "-f", "xlsx"])
    assert (again / "compare-llama-3-70b.xlsx").read_bytes() == data


def test_pricing_that_is_not_hours_x_price_stays_the_plans_figure() -> None:
    """A pricing model whose cost is not GPU-hours x the listed price (a
    reserved term paid whole, say): the subtotal is the plan's figure as a
    value, and contingency and total are still formulas on it."""
    from dataclasses import replace

    from planner.compare.options import option_from
    from planner.pipeline import evaluate
    from planner.report.records import Table
    from planner.report.xlsx import report_workbook
    from planner.spec import load_spec

    o = option_from(evaluate(load_spec(ROOT / "specs" / "seed-7b.yaml")))
    assert o.cost_is_hours_x_price
    assert o.usd is not None
    term = replace(o, usd=o.usd * 3)  # e.g. a term three times the run
    assert not term.cost_is_hours_x_price
    ws = load(report_workbook(term, Table(("figure", "value", "source"), ()), "t"))[
        "Bill of materials"
    ]
    sub = f"B{BILL_ROWS['subtotal']}"
    assert ws[sub].value == pytest.approx(o.usd * 3)
    assert "not GPU-hours x price" in ws[f"C{BILL_ROWS['subtotal']}"].value
    assert value(ws, f"B{BILL_ROWS['total']}") == pytest.approx(o.usd * 3 * (1 + o.contingency))
