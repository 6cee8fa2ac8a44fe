"""`planner compare` (issue 12, item 1): options side by side, read from each
option's own plan (never recomputed), ranked by the objective, unpriced
options after priced ones, the Pareto front, exit 1 when nothing is
feasible, exit 2 with the file and field on bad input."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from planner.compare import compare, evaluate_all
from planner.compare.options import NO_PRICE, Option, option_from, pareto_names, rank
from planner.compare.report import build_compare_context, default_name, render_compare_markdown

ROOT = Path(__file__).resolve().parents[1]
ON_DEMAND = [f"specs/compare/llama-3-70b-{g}.yaml" for g in ("a100", "h100", "h200")]
# A100 vs H100 vs H200, each on demand, 1-year reserved and owned.
EXAMPLE = [
    f"specs/compare/llama-3-70b-{g}{p}.yaml"
    for g in ("a100", "h100", "h200")
    for p in ("", "-reserved", "-owned")
]
SEED = ROOT / "specs" / "seed-7b.yaml"


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # options print the spec path as given


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["compare", *args])


def seed_variant(tmp_path: Path, name: str, **changes: Any) -> str:
    """specs/seed-7b.yaml with a new name and top-level sections updated."""
    data = yaml.safe_load(SEED.read_text())
    data["name"] = name
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            merged = {**data[key], **value}
            data[key] = {k: v for k, v in merged.items() if v is not None}  # None: drop the key
        else:
            data[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def example_json() -> dict[str, Any]:
    paths = [str(ROOT / p) for p in ON_DEMAND]  # module scope: before the chdir fixture
    result = CliRunner().invoke(main, ["compare", *paths, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_contract(example_json: dict[str, Any]) -> None:
    d = example_json
    assert [o["name"] for o in d["options"]] == [
        "llama-3-70b-a100",
        "llama-3-70b-h100",
        "llama-3-70b-h200",
    ]
    for o in d["options"]:
        for key in ("name", "gpus", "days", "usd", "feasible", "rank", "pareto", "failures"):
            assert key in o, key
    assert d["recommended"] == "llama-3-70b-h100"
    assert d["objective"] == "cheapest"


def test_figures_are_the_plans_own(example_json: dict[str, Any]) -> None:
    """Each option's GPUs, days, GPU-hours and USD are `planner plan`'s."""
    for o, path in zip(example_json["options"], ON_DEMAND, strict=True):
        assert o["spec"] == str(ROOT / path)
        res = CliRunner().invoke(main, ["plan", path, "--format", "json"])
        plan = json.loads(res.stdout)
        assert o["gpus"] == plan["plan"]["gpus"]
        assert o["days"] == plan["time"]["days"]
        assert o["gpu_hours"] == plan["time"]["gpu_hours"]
        assert (o["usd"], o["usd_low"], o["usd_high"]) == (
            plan["cost"]["usd"],
            plan["cost"]["usd_low"],
            plan["cost"]["usd_high"],
        )
        assert o["cost"] == plan["cost"]  # new pricing keys flow through as they are
        # The report's contingency on top (report.contingency = 15% in each spec).
        assert o["total_usd"] == pytest.approx(plan["cost"]["usd"] * 1.15, rel=1e-12)


def test_infeasible_option_says_which_constraint(example_json: dict[str, Any]) -> None:
    a100 = example_json["options"][0]
    # 512 A100s take about 123 days > max_days 90: REC-009 (the deadline).
    assert a100["days"] > 90
    assert not a100["feasible"]
    assert [f["id"] for f in a100["failures"]] == ["REC-009"]
    assert "max_days 90" in a100["status"]
    assert a100["rank"] == 3  # after both feasible options
    h100, h200 = example_json["options"][1:]
    assert h100["usd"] < h200["usd"] and h100["rank"] == 1 and h200["rank"] == 2
    # H200 is faster, H100 cheaper: both on the front; the infeasible A100 is not.
    assert h200["days"] < h100["days"]
    assert (h100["pareto"], h200["pareto"], a100["pareto"]) == (True, True, False)


def test_text_output_and_progress() -> None:
    res = run(*ON_DEMAND)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Recommended: llama-3-70b-h100" in out
    assert "infeasible: REC-009" in out
    assert "llama-3-70b-h100 *" in out
    for i, path in enumerate(ON_DEMAND, start=1):
        assert f"[{i}/3] {path}" in res.stderr
    assert "[1/3]" not in out  # progress never on stdout


# --- ranking on hand-made options -------------------------------------------


@pytest.fixture(scope="module")
def base() -> Option:
    from planner.pipeline import evaluate
    from planner.spec import load_spec

    return option_from(evaluate(load_spec(SEED)))


def opt(base: Option, name: str, days: float, usd: float | None, **kw: Any) -> Option:
    return replace(base, name=name, days=days, usd=usd, gpu_hours=kw.pop("gpu_hours", 100.0), **kw)


def test_rank_cheapest_fastest_and_unpriced(base: Option) -> None:
    a = opt(base, "a", days=10, usd=1000.0)
    b = opt(base, "b", days=5, usd=2000.0)
    free = opt(base, "free", days=1, usd=None, gpu_hours=1.0)  # no price: cheapest-looking
    assert [o.name for o in rank([free, b, a], "cheapest", 0.0)] == ["a", "b", "free"]
    assert [o.name for o in rank([free, b, a], "fastest", 0.0)] == ["b", "a", "free"]
    # balanced: the fastest costing at most band more than the cheapest.
    assert [o.name for o in rank([a, b], "balanced", 1.0)] == ["b", "a"]
    assert [o.name for o in rank([a, b], "balanced", 0.5)] == ["a", "b"]
    assert free.status == f"feasible; {NO_PRICE}"


def test_pareto_front_by_hand(base: Option) -> None:
    a = opt(base, "a", days=10, usd=1000.0)
    b = opt(base, "b", days=5, usd=2000.0)
    c = opt(base, "c", days=12, usd=1500.0)  # slower and dearer than a
    d = opt(base, "d", days=10, usd=1000.0 + 1e-6)  # as slow as a, a little dearer
    assert pareto_names([a, b, c, d]) == {"a", "b"}


def test_unpriced_never_wins(tmp_path: Path) -> None:
    priced = seed_variant(tmp_path, "priced", cluster={"price_per_gpu_hour": 9.0})
    unpriced = seed_variant(tmp_path, "unpriced", cluster={"gpu": "mi300x", "max_gpus": 1,
                                                           "price_per_gpu_hour": None})  # fmt: skip
    res = run(unpriced, priced, "--format", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["recommended"] == "priced"
    by = {o["name"]: o for o in d["options"]}
    assert by["unpriced"]["usd"] is None and by["unpriced"]["feasible"]
    assert (by["priced"]["rank"], by["unpriced"]["rank"]) == (1, 2)
    assert NO_PRICE in by["unpriced"]["status"]
    # Only unpriced options: the fewest GPU-hours is recommended, saying why.
    other = seed_variant(tmp_path, "unpriced-2", cluster={"gpu": "mi300x", "max_gpus": 1,
                                                          "price_per_gpu_hour": None},
                         training={"tokens": 2e9})  # fmt: skip
    d = json.loads(run(other, unpriced, "--format", "json").stdout)
    assert d["recommended"] == "unpriced" and "no feasible option has a price" in d["why"]


def test_exit_1_when_nothing_is_feasible(tmp_path: Path) -> None:
    late = {"max_days": 0.001}
    a = seed_variant(tmp_path, "late-a", constraints=late)
    b = seed_variant(tmp_path, "late-b", constraints=late, cluster={"gpu": "h100-sxm"})
    res = run(a, b, "--format", "json")
    assert res.exit_code == 1, res.output
    d = json.loads(res.stdout)
    assert d["recommended"] is None
    assert all(not o["feasible"] for o in d["options"])
    md = render_compare_markdown(
        build_compare_context(evaluate_all([a, b]), compare(evaluate_all([a, b])), charts=False)
    )
    assert "INFEASIBLE" in md and "no money is requested" in md


def test_objectives_that_differ_fall_back_to_cost(tmp_path: Path) -> None:
    a = seed_variant(tmp_path, "obj-a", objective="fastest")
    b = seed_variant(tmp_path, "obj-b", objective="cheapest", cluster={"gpu": "h100-sxm"})
    d = json.loads(run(a, b, "--format", "json").stdout)
    assert d["objective"] == "cheapest" and "different objectives" in d["objective_note"]
    cheapest = min(d["options"], key=lambda o: o["usd"])
    assert d["recommended"] == cheapest["name"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["specs/seed-7b.yaml"], "at least two specs"),
        (["specs/seed-7b.yaml", "specs/seed-7b.yaml"], "name: 'seed-7b' is also the name"),
        (["specs/seed-7b.yaml", "specs/llama-3-8b-serving-slo.yaml"], "inference section"),
        (["specs/seed-7b.yaml", "nope.yaml"], "nope.yaml"),
        (["specs/seed-7b.yaml", "specs/llama-2-7b-finetune.yaml", "-f", "docx"], "docx"),
    ],
)
def test_bad_input_exit_2(args: list[str], message: str) -> None:
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert message in res.stderr


def test_bad_field_names_file_and_field(tmp_path: Path) -> None:
    bad = seed_variant(tmp_path, "bad", training={"micro_batch_size": 0})
    res = run("specs/seed-7b.yaml", bad)
    assert res.exit_code == 2
    assert "bad.yaml" in res.stderr and "training.micro_batch_size" in res.stderr


def test_default_name() -> None:
    assert default_name(["llama-3-70b-a100", "llama-3-70b-h100"]) == "compare-llama-3-70b"
    assert default_name(["a", "b"]) == "compare"


# --- the report: golden file and the committed example ----------------------

CASE = "compare-llama-3-70b"


@pytest.fixture(scope="module")
def example_files() -> dict[str, bytes]:
    import os

    from planner.compare.report import render_compare

    here = os.getcwd()
    os.chdir(ROOT)  # module scope: the report prints the spec paths as given
    try:
        results = evaluate_all(EXAMPLE)
        ctx = build_compare_context(results, compare(results))
        return render_compare(ctx, ("md", "html", "xlsx"))
    finally:
        os.chdir(here)


def test_golden_comparison(golden: Any, example_files: dict[str, bytes]) -> None:
    for rel, data in example_files.items():
        if not rel.endswith(".xlsx"):
            golden.check(CASE, rel.replace("/", "__"), data)
    md = example_files[f"{CASE}.md"].decode("utf-8")
    assert "**Recommended: llama-3-70b-h100-owned.**" in md
    # By hand: the H100 on-demand option's cost is its GPU-hours x the
    # catalog's indicative on-demand price, USD 3.49 (RunPod, 2026-02-14).
    res = CliRunner().invoke(main, ["plan", ON_DEMAND[1], "--format", "json"])
    gpu_hours = json.loads(res.stdout)["time"]["gpu_hours"]
    assert f"USD {gpu_hours * 3.49:,.0f}" in md
    assert "llama-3-70b-a100 (infeasible)" in md and "REC-009" in md
    svg = example_files[f"{CASE}_charts/cost_duration.svg"].decode("utf-8")
    assert "Pareto front" in svg and "USD 2M" in svg  # real text, USD axis


def test_committed_report_is_current(example_files: dict[str, bytes]) -> None:
    """reports/compare-llama-3-70b.* is what `make reports` writes."""
    for rel, data in example_files.items():
        have = ROOT / "reports" / rel
        assert have.exists() and have.read_bytes() == data, (
            f"reports/{rel} is stale: run `make reports`"
        )
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO((ROOT / "reports" / f"{CASE}.pdf").read_bytes()))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Recommended: llama-3-70b-h100-owned." in text


def test_spec_text_is_escaped(tmp_path: Path) -> None:
    from planner.compare.report import render_compare_html

    evil = seed_variant(tmp_path, "evil", title="<script>alert(1)</script> | *x*")
    other = seed_variant(tmp_path, "other", cluster={"gpu": "h100-sxm"})
    results = evaluate_all([evil, other])
    ctx = build_compare_context(results, compare(results), charts=False)
    md = render_compare_markdown(ctx)
    assert "\\<script\\>" in md and "\\| \\*x\\*" in md
    assert "<script>" not in render_compare_html(ctx, md)


def test_terminal_progress_shows_each_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    import io as _io

    from planner.compare.cli import _progress

    class Tty(_io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    evaluate_all(ON_DEMAND[1:], _progress(2))
    out = tty.getvalue()
    assert f"[1/2] {ON_DEMAND[1]}: validating the spec" in out
    assert f"[2/2] {ON_DEMAND[2]}: planning" in out


def test_reserved_and_owned_notes_by_hand() -> None:
    """The notes say what a reserved or owned option's USD holds. H100 owned:
    capital 256 x 30,000 x 1.5 = USD 11,520,000; per GPU-hour 45,000 / (5 x
    8,760 x 0.8) = 1.2842 + 1.275 kW x 1.56 x 0.10 = 0.1989 + 150 x 1.275 x
    1.56 x 12 / 8,760 = 0.4087, total 1.89. H100 reserved: 256 GPUs x 8,760 h
    of the 12-month term paid at 3.49 x 0.65."""
    data = json.loads(run(*EXAMPLE, "--format", "json").stdout)
    by = {o["name"]: o for o in data["options"]}
    own = by["llama-3-70b-h100-owned"]
    assert abs(own["cost"]["owned_usd_per_gpu_hour"] - 1.891845) < 1e-5
    assert abs(own["usd"] - own["gpu_hours"] * 1.891845) < 1.0
    res = by["llama-3-70b-h100-reserved"]
    assert abs(res["usd"] - 256 * 8760 * 3.49 * 0.65) < 1.0
    text = CliRunner().invoke(main, ["compare", *EXAMPLE]).output
    assert "USD 11,520,000 for 256 GPUs" in text and "paid up front" in text
    assert "reserved GPU-hours the run does not use" in text
    assert "different sources or dates" in text
