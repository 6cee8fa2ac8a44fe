"""Issue 12, items 2-5: pricing models, the cost of ownership, energy and
CO2, and the bill of materials' host RAM and checkpoint storage. Every
expected figure is worked out by hand in the test, from the spec's numbers
and the catalog's (planner/data/gpus.yaml)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import SpecError
from planner.pipeline import evaluate
from planner.pricing import Ownership
from planner.spec.loader import load_spec_text

BASE = """
name: p
model: llama-2-7b
training: {sequence_length: 4096, global_batch_size: 64, tokens: 2e9}
parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8, zero_stage: 1}
"""


def _json(cluster: str) -> dict:  # type: ignore[type-arg]
    return evaluate(load_spec_text(BASE + cluster, "p.yaml")).plan_json


def test_on_demand_is_gpu_hours_times_price() -> None:
    d = _json("cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0}\n")
    c = d["cost"]
    assert c["pricing_model"] == "on-demand" and c["price_per_gpu_hour"] == 2.0
    assert c["usd"] == pytest.approx(d["time"]["gpu_hours"] * 2.0)
    assert c["billed_gpu_hours"] == d["time"]["gpu_hours"] and c["unused_reserved_gpu_hours"] == 0


def test_reserved_pays_whole_terms() -> None:
    od = _json("cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0}\n")
    d = _json(
        "cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0,"
        " pricing: {model: reserved, discount: 0.3, term_months: 12}}\n"
    )
    c = d["cost"]
    # Same layout and time as on demand; the run (well under a year) pays
    # one 12-month term for each of the 8 GPUs: 8 x 12 x 8,760/12 = 70,080
    # GPU-hours at 2.0 x (1 - 0.3) = 1.40 USD = USD 98,112.
    assert d["time"]["gpu_hours"] == od["time"]["gpu_hours"] < 70_080
    assert c["price_per_gpu_hour"] == pytest.approx(1.40)
    assert c["billed_gpu_hours"] == pytest.approx(70_080)
    assert c["usd"] == pytest.approx(98_112)
    assert c["unused_reserved_gpu_hours"] == pytest.approx(70_080 - d["time"]["gpu_hours"])
    # A run longer than the term pays two terms: 1-month terms (730 h) and
    # a run of more than 730 h on 8 GPUs.
    long = _json(
        "cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0,"
        " pricing: {model: reserved, discount: 0.3, term_months: 1}}\n"
    )
    wall = long["time"]["gpu_hours"] / 8
    terms = math.ceil(wall / 730)
    assert long["cost"]["usd"] == pytest.approx(8 * terms * 730 * 1.40)


def test_reserved_report_says_the_term_is_paid(tmp_path: Path) -> None:
    spec = tmp_path / "r.yaml"
    spec.write_text(
        BASE + "cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0,"
        " pricing: {model: reserved, discount: 0.3, term_months: 12}}\n"
    )
    r = CliRunner().invoke(main, ["report", str(spec), "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0, r.output
    md = (tmp_path / "p.md").read_text()
    assert "paid for whole 12-month terms" in md and "70,080 reserved GPU-hours" in md
    assert "USD 98,112" in md  # the subtotal


def test_spot_discount_and_interruption_overhead() -> None:
    od = _json("cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0}\n")
    d = _json(
        "cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2.0,"
        " pricing: {model: spot, discount: 0.6, interruption_overhead: 0.25}}\n"
    )
    # GPU time x 1.25 for restarts; price 2.0 x 0.4 = 0.80:
    # cost = 1.25 x on-demand GPU-hours x 0.80 = on-demand cost x 0.5.
    assert d["time"]["gpu_hours"] == pytest.approx(od["time"]["gpu_hours"] * 1.25)
    assert d["time"]["days"] == pytest.approx(od["time"]["days"] * 1.25)
    assert d["cost"]["price_per_gpu_hour"] == pytest.approx(0.80)
    assert d["cost"]["usd"] == pytest.approx(od["cost"]["usd"] * 0.5)


OWN = (
    "  ownership: {purchase_price_per_gpu: 30000, infrastructure_overhead: 0.5, pue: 1.2,"
    " electricity_usd_per_kwh: 0.10, hosting_usd_per_kw_month: 150, depreciation_years: 5,"
    " utilization: 0.8}\n"
)


def test_owned_tco_by_hand() -> None:
    d = _json("cluster:\n  gpu: h100-sxm\n  max_gpus: 8\n  pricing: {model: owned}\n" + OWN)
    o = d["cost"]["ownership"]
    # Catalog (DGX H100 user guide): GPU 700 W; node 10,200 W - 8 x 700 W
    # = 4,600 W, 575 W per GPU: kW = (700 + 4,600 / 8) / 1000 = 1.275.
    assert o["kw_per_gpu"] == pytest.approx(1.275)
    # capital: 30,000 x 1.5 / (5 x 8,760 x 0.8) = 45,000 / 35,040 = 1.284247
    # electricity: 1.275 x 1.2 x 0.10 = 0.153
    # hosting: 150 x 1.275 x 1.2 x 12 / 8,760 = 2,754 / 8,760 = 0.314384
    # total: 1.751630 USD per GPU-hour
    assert o["capital_usd_per_gpu_hour"] == pytest.approx(1.284247, abs=1e-6)
    assert o["energy_usd_per_gpu_hour"] == pytest.approx(0.153)
    assert o["hosting_usd_per_gpu_hour"] == pytest.approx(0.314384, abs=1e-6)
    assert d["cost"]["owned_usd_per_gpu_hour"] == pytest.approx(1.751630, abs=1e-6)
    assert d["cost"]["price_per_gpu_hour"] == pytest.approx(1.751630, abs=1e-6)
    assert d["cost"]["usd"] == pytest.approx(d["time"]["gpu_hours"] * 1.751630, rel=1e-6)
    # Break-even against the catalog's on-demand H100 price, 3.49:
    # 45,000 / (5 x 8,760 x (3.49 - 0.153 - 0.314384)) = 45,000 / 132,390.6 = 0.339903
    assert o["rent_usd_per_gpu_hour"] == 3.49
    assert o["breakeven_utilization"] == pytest.approx(0.339903, abs=1e-6)
    # Capital: 8 GPUs x 30,000 x 1.5 = 360,000.
    assert o["capital_usd"] == pytest.approx(360_000)


def test_breakeven_is_none_when_renting_is_cheaper() -> None:
    o = Ownership(30_000, "", 0.5, 700, 4600, 8, "", 1.2, "", 0.1, 150, 5, 0.8)
    # Rent 0.40 < running 0.467384: owning never pays off.
    assert o.breakeven_utilization(0.40) is None
    # Rent 0.50: 45,000 / (43,800 x 0.032616) = 31.5 > 1: not within the hours.
    assert o.breakeven_utilization(0.50) is None


def test_rent_vs_buy_table_in_the_report(tmp_path: Path) -> None:
    spec = tmp_path / "o.yaml"
    spec.write_text(BASE + "cluster:\n  gpu: h100-sxm\n  max_gpus: 8\n" + OWN)
    r = CliRunner().invoke(main, ["report", str(spec), "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0, r.output
    md = (tmp_path / "p.md").read_text()
    assert "Rent vs buy" in md and "| Break-even utilisation | 34.0% |" in md
    assert "| Own: total per GPU-hour | USD 1.752 |" in md
    assert "Uptime" not in md.split("Rent vs buy")[1].split("##")[0]  # PUE from the spec
    # On demand at the catalog's 3.49: this run rented = GPU-hours x 3.49.
    d = evaluate(load_spec_text(spec.read_text(), "o.yaml")).plan_json
    rented = d["time"]["gpu_hours"] * 3.49
    assert d["cost"]["usd"] == pytest.approx(rented)
    owned = d["time"]["gpu_hours"] * 1.751630
    assert f"| This run, owned | {_usd(owned)} |" in md
    assert f"| This run, renting | {_usd(rented)} |" in md


def _usd(x: float) -> str:
    return f"USD {x:,.0f}" if x >= 100 else f"USD {x:,.2f}"


def test_energy_and_co2_by_hand() -> None:
    d = _json("cluster: {gpu: a100-80gb, max_gpus: 8, carbon_kg_per_kwh: 0.4}\n")
    e = d["energy"]
    # Catalog (DGX A100 user guide): 400 W per GPU, node 6,500 - 8 x 400 =
    # 3,300 W: kW = 0.4 + 3.3 / 8 = 0.8125; default PUE 1.56 (Uptime 2024).
    assert e["kw_per_gpu"] == pytest.approx(0.8125) and e["pue"] == 1.56
    assert "Uptime Institute" in e["source"] and "docs.nvidia.com" in e["source"]
    assert e["kwh"] == pytest.approx(d["time"]["gpu_hours"] * 0.8125 * 1.56)
    assert e["co2_kg"] == pytest.approx(e["kwh"] * 0.4)
    assert e["kwh_low"] < e["kwh"] < e["kwh_high"]
    assert _json("cluster: {gpu: a100-80gb, max_gpus: 8}\n")["energy"]["co2_kg"] is None


def test_bill_of_materials_host_ram_and_checkpoint() -> None:
    d = _json("cluster: {gpu: a100-80gb, max_gpus: 8}\n")
    b = d["bill_of_materials"]
    n = 6_738_415_616  # llama-2-7b parameters (HF num_parameters)
    assert d["plan"]["gpus"] == 8 and b["nodes"] == 1
    # DGX A100 host RAM default 1 TiB per node.
    assert b["host_memory_total"] == 1 * 1024**4
    # One checkpoint, bf16-mixed AdamW: 2 (weights) + 4 (fp32 master) + 8
    # (Adam m, v) = 14 bytes per parameter; two kept.
    assert b["checkpoint_bytes"] == 14 * n
    assert b["checkpoint_storage_bytes"] == 2 * 14 * n


@pytest.mark.parametrize(
    ("cluster", "phrase"),
    [
        ("pricing: {model: reserved, discount: 0.3}", "needs term_months"),
        ("pricing: {model: spot, discount: 0.3}", "needs interruption_overhead"),
        ("pricing: {model: on-demand, discount: 0.3}", "does not apply"),
        ("pricing: {model: owned}", "needs cluster.ownership"),
        ("pricing: {model: reserved, discount: 1.5, term_months: 12}", "discount"),
        ("pricing: {model: reserved, discount: 0.1, term_months: 1e6}", "term_months"),
        ("carbon_kg_per_kwh: 1e9", "carbon_kg_per_kwh"),
    ],
)
def test_bad_pricing_is_exit_2(cluster: str, phrase: str) -> None:
    text = BASE + f"cluster: {{gpu: a100-80gb, max_gpus: 8, {cluster}}}\n"
    with pytest.raises(SpecError, match=phrase):
        load_spec_text(text, "p.yaml")


def test_ownership_figures_the_catalog_lacks_are_required() -> None:
    text = BASE + (
        "cluster:\n  gpu: b200\n  max_gpus: 8\n  ownership: {infrastructure_overhead: 0.5,"
        " electricity_usd_per_kwh: 0.1, hosting_usd_per_kw_month: 150, depreciation_years: 5,"
        " utilization: 0.8}\n"
    )
    with pytest.raises(SpecError, match="purchase_price_per_gpu"):
        load_spec_text(text, "p.yaml")
