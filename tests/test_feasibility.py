"""Issue 12, items 7 and 8: feasibility gates, unpriced candidates, price
citations.

* `plan` and `report` exit 1 when no plan meets the constraints; bad input
  stays exit 2.
* An infeasible report says INFEASIBLE at the top, says what would meet
  the constraints and requests no money.
* A candidate without a price never wins a cost objective: it is listed as
  "no price: set price_per_gpu_hour" and ranked after every priced one.
* Prices are printed with their date and the catalog source's title,
  never an internal id such as ``price_snapshot_2026_02``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from planner.catalog import gpu_catalog, gpu_sources
from planner.cli import main
from planner.pipeline import evaluate
from planner.spec.loader import load_spec_text

DEADLINE = "specs/llama-3-8b-deadline-missed.yaml"

# b200 has no catalog price; a100-80gb gets one in the spec. Without the
# gate the cheapest objective compared b200's GPU-hours with a100's USD.
MIXED = """
name: mixed
model: llama-2-7b
training: {sequence_length: 4096, global_batch_size: 64, tokens: 2e9}
cluster:
  gpu: [b200, {preset: a100-80gb, price_per_gpu_hour: 2.0}]
  max_gpus: 8
objective: cheapest
"""


def test_plan_exits_1_when_infeasible_and_says_what_would_meet() -> None:
    r = CliRunner().invoke(main, ["plan", DEADLINE, "--format", "json"])
    assert r.exit_code == 1, r.output
    d = json.loads(r.output)
    assert d["feasible"] is False and d["feasibility"]["feasible"] is False
    meet = d["feasibility"]["would_meet"]
    # The deadline: 14 days cannot be met; the fastest layout found is the
    # run's duration on 16 GPUs, and REC-009's linear-scaling GPU count.
    fastest = min(r["days"] for r in [d["plan"] | d["time"], *d["alternatives"]])
    assert any(f"max_days of at least {fastest:,.1f}" in w for w in meet), meet
    rec9 = next(f for f in d["findings"] if f["id"] == "REC-009")
    need = next(e["value"] for e in rec9["evidence"] if e["name"] == "gpus_needed_linear")
    assert any(f"about {need:,.0f} or more GPUs" in w for w in meet), meet
    assert any("max_budget_usd of at least USD" in w for w in meet), meet
    text = CliRunner().invoke(main, ["plan", DEADLINE])
    assert text.exit_code == 1 and "INFEASIBLE" in text.output


def test_plan_exits_0_when_feasible_and_2_on_bad_input(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["plan", "specs/seed-7b.yaml", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["feasible"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text(MIXED.replace("max_gpus: 8", "max_gpus: 0"))
    assert CliRunner().invoke(main, ["plan", str(bad)]).exit_code == 2
    assert CliRunner().invoke(main, ["report", str(bad), "-o", str(tmp_path)]).exit_code == 2


def test_report_exits_1_infeasible_at_the_top_and_requests_no_money(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["report", DEADLINE, "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 1, r.output
    assert "INFEASIBLE" in r.output
    md = (tmp_path / "llama-3-8b-deadline-missed.md").read_text()
    head = md.split("## Summary")[0]
    assert "INFEASIBLE: no plan meets the constraints" in head
    assert "Total to request" not in md and "request **" not in md
    assert "No money is requested" in md
    assert "What would meet the constraints" in md and "max_days of at least" in md
    ok = CliRunner().invoke(main, ["report", "specs/seed-7b.yaml", "-o", str(tmp_path), "-f", "md"])
    assert ok.exit_code == 0
    assert "INFEASIBLE" not in (tmp_path / "seed-7b.md").read_text()


@pytest.mark.parametrize("objective", ["cheapest", "balanced"])
def test_unpriced_candidate_never_wins_a_cost_objective_and_ranks_last(objective: str) -> None:
    res = evaluate(load_spec_text(MIXED.replace("cheapest", objective), "mixed.yaml"))
    plan = res.plan
    assert plan is not None and plan.cluster.gpu.key == "a100-80gb"
    ranked = [c.time for c in plan.search.ranked if c.time is not None]
    priced = [t.usd is not None for t in ranked]
    assert any(not p for p in priced), "b200 layouts fit and are listed"
    assert priced == sorted(priced, reverse=True), "every priced layout before the unpriced"
    # By hand: the cheapest priced layout is the plan (USD = GPU-hours x 2.0).
    usd = min(t.usd for t in ranked if t.usd is not None)
    assert plan.expected.usd == pytest.approx(plan.expected.gpu_hours * 2.0)
    if objective == "cheapest":
        assert plan.expected.usd == usd
    else:  # balanced: the fastest priced plan within 10% of the cheapest priced one
        ok = [t for t in ranked if t.usd is not None and t.usd <= usd * 1.10]
        assert plan.expected.days == min(t.days for t in ok)
    rows = res.plan_json["alternatives"] + res.plan_json["near_misses"]
    assert all(r["price_status"] == "no price: set price_per_gpu_hour" for r in rows
               if r.get("usd", 0) is None)  # fmt: skip


def test_unpriced_with_a_budget_is_infeasible() -> None:
    spec = MIXED.replace(", {preset: a100-80gb, price_per_gpu_hour: 2.0}", "")
    res = evaluate(load_spec_text(spec + "constraints: {max_budget_usd: 1e6}\n", "t.yaml"))
    assert res.feasible is False
    msgs = [f.message for f in res.findings if f.id == "REC-010"]
    assert msgs and "no price: set price_per_gpu_hour" in msgs[0]


def test_prices_cite_the_catalog_source_not_an_id(tmp_path: Path) -> None:
    sources = gpu_sources()
    for g in gpu_catalog().values():
        if g.price_per_gpu_hour is None:
            continue
        assert g.price_date and g.price_date in g.price_note
        assert "price_" not in g.price_note and g.price_citation in g.price_note
    raw = yaml.safe_load(Path("planner/data/gpus.yaml").read_text())
    for e in raw["gpus"].values():
        for k in ("price_per_gpu_hour", "purchase_price_usd", "power"):
            if k in e:
                assert e[k]["source"] in sources, (k, e[k])
    spec = tmp_path / "cat.yaml"  # the catalog's H100 price: RunPod, 2026-02-14
    spec.write_text(MIXED.replace("[b200, {preset: a100-80gb, price_per_gpu_hour: 2.0}]", "h100"))
    r = CliRunner().invoke(main, ["report", str(spec), "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0, r.output
    md = (tmp_path / "mixed.md").read_text()
    title = sources["price_snapshot_2026_02"]["title"]
    assert "USD 3.49 per GPU-hour (indicative: RunPod" in md and "2026-02-14" in md
    assert title in md
    ids = [k for k in sources if k in md]
    assert not ids, f"internal source ids printed: {ids}"
    d = json.loads(CliRunner().invoke(main, ["plan", str(spec), "--format", "json"]).output)
    assert d["cost"]["price_date"] == "2026-02-14" and d["cost"]["price_citation"] == title
