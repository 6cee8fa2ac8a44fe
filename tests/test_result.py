"""One model of a run (planner.pipeline): the Result is computed once and
every output renders from it; estimate and plan print one budget; findings
carry their evidence; hybrid sharding is named wherever the layout is."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.pipeline import evaluate
from planner.plan import memory as plan_memory
from planner.report.context import build_context
from planner.report.render import render_html, render_markdown
from planner.spec import load_spec, load_spec_text

ROOT = Path(__file__).resolve().parents[1]
TRAINING_SPECS = [
    p for p in sorted((ROOT / "specs").glob("*.yaml")) if "inference:" not in p.read_text()
]
P7B = 6_738_415_616  # Llama-2-7B (Touvron et al. 2023, model card)


@pytest.mark.parametrize("path", TRAINING_SPECS, ids=lambda p: p.stem)
def test_estimate_and_plan_give_one_budget(path: Path) -> None:
    r = evaluate(load_spec(path))
    assert r.plan is not None
    t, plan = r.estimate_json["compute"]["time"], r.plan_json
    if not r.plan.fits:
        assert t is None  # no layout fits: no time or cost printed
        return
    e = t["expected"]
    assert e["gpus"] == plan["plan"]["gpus"]
    assert e["gpu_hours"] == plan["time"]["gpu_hours"]
    assert e["usd"] == plan["cost"]["usd"]
    assert r.estimate_json["compute"]["gpu"] == plan["plan"]["gpu"]


def test_mfu_end_to_end_by_hand() -> None:
    # Model FLOPs per step / (GPUs x dense peak x step time). Llama-2-7B,
    # 8 x A100 (312 dense bf16 TFLOP/s, NVIDIA A100 datasheet), kernel MFU 0.5.
    spec = load_spec_text(
        """
name: m
model: llama-2-7b
training: {sequence_length: 2048, global_batch_size: 64, tokens: 1e9}
cluster: {gpu: a100-80gb, max_gpus: 8, mfu: 0.5}
parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8, zero_stage: 1,
              micro_batch_size: 1, recompute: none}
"""
    )
    r = evaluate(spec)
    tm = r.plan_json["time"]
    matmul = 6_476_005_376 + 32000 * 4096  # linear weights + LM head (test_memory.py)
    model_per_token = 3 * (2 * matmul + 4 * 32 * 2048 * 4096)
    step = tm["step_seconds"]
    want = model_per_token * 64 * 2048 / (8 * 312e12 * step)
    assert tm["mfu_end_to_end"] == pytest.approx(want, rel=1e-12)
    # Without recompute the compute phase runs at the kernel MFU, so the
    # end-to-end MFU is the kernel MFU times compute / step.
    compute = tm["step_breakdown_seconds"]["compute"]
    assert tm["mfu_end_to_end"] == pytest.approx(0.5 * compute / step, rel=1e-12)
    assert tm["mfu_end_to_end"] <= tm["mfu"]["expected"]


def test_report_renders_from_the_result_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluate once; then building and rendering the report runs no memory
    model, and during evaluation each layout's memory is computed once."""
    spec = load_spec(ROOT / "specs" / "llama-3-70b-pretrain.yaml")
    computed: list[object] = []
    inner = plan_memory._worst_stage

    def counting(pm: object, lay: object, usable: int) -> object:
        computed.append((lay, usable))
        return inner(pm, lay, usable)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_memory, "_worst_stage", counting)
    result = evaluate(spec)
    assert computed, "the memory model ran during evaluation"
    assert len(computed) == len(set(computed)), "a layout's memory was computed twice"
    computed.clear()

    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("the report called the planner")

    for mod, name in (
        ("planner.plan.make", "make_plan"),
        ("planner.plan.search", "search"),
        ("planner.plan.timing", "run_time"),
        ("planner.plan.sweeps", "make_sweeps"),
        ("planner.engine", "estimate"),
    ):
        monkeypatch.setattr(f"{mod}.{name}", forbidden)
    ctx = build_context(result)
    html = render_html(ctx, render_markdown(ctx))
    assert computed == []
    assert 'href="#rec-004"' in html and 'id="rec-004"' in html  # finding -> its rule


def test_findings_carry_evidence_and_source() -> None:
    r = evaluate(load_spec(ROOT / "specs" / "seed-7b.yaml"))
    f = next(x for x in r.plan_json["findings"] if x["id"] == "REC-004")
    ev = {e["name"]: e for e in f["evidence"]}
    # 7e9 parameters x 16 bytes (ZeRO s3.1) on one replica: 112e9 bytes
    assert ev["model_states_per_replica_gpu"]["value"] == 112_000_000_000
    assert ev["model_states_per_replica_gpu"]["unit"] == "bytes"
    assert "ZeRO" in f["source"]


def test_serving_plans_get_findings() -> None:
    r = evaluate(load_spec(ROOT / "specs" / "llama-2-13b-int4-serving.yaml"))
    ids = {f["id"] for f in r.plan_json["findings"]}
    # batch 32 x 6 k tokens of fp16 KV cache outweighs 4-bit weights
    assert "SRV-002" in ids
    kv = next(f for f in r.plan_json["findings"] if f["id"] == "SRV-002")
    ev = {e["name"]: e["value"] for e in kv["evidence"]}
    assert ev["kv_cache_per_gpu"] > ev["weights_per_gpu"]


def _spec(extra: str, band: str = "") -> str:
    return f"""
name: c
model: llama-2-7b
training: {{sequence_length: 2048, global_batch_size: 64, tokens: 2e10}}
cluster: {{gpu: a100-80gb, max_gpus: 64, price_per_gpu_hour: 2}}
{band}
{extra}
"""


def test_cheapest_is_the_cheapest_plan_found_unless_a_band_is_asked() -> None:
    plain = evaluate(load_spec_text(_spec("objective: cheapest")))
    assert plain.plan is not None
    costs = [c.time.usd for c in plain.plan.search.ranked if c.time and c.time.usd]
    assert plain.plan.expected.usd == min(costs)
    assert plain.plan_json["objective_text"] == "cheapest"
    banded = evaluate(
        load_spec_text(_spec("objective: cheapest", "assumptions: {cost_tie_band: 0.05}"))
    )
    assert banded.plan is not None and banded.plan.expected.usd is not None
    assert banded.plan.expected.usd <= 1.05 * min(costs)
    assert banded.plan.expected.days <= plain.plan.expected.days
    assert "within 5%" in banded.plan_json["objective_text"]


def test_rec003_never_prints_a_false_comparison() -> None:
    # Recompute fixed although the layout fits without it: the finding says
    # so (a warning) instead of "needs X > usable Y" with X < Y.
    fixed = "parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8, zero_stage: 1, micro_batch_size: 1, recompute: full}"  # noqa: E501
    r = evaluate(load_spec_text(_spec(fixed)))
    f = next(x for x in r.plan_json["findings"] if x["id"] == "REC-003")
    ev = {e["name"]: e["value"] for e in f["evidence"]}
    assert ev["memory_per_gpu_without_recompute"] <= ev["usable_memory_per_gpu"]
    assert f["severity"] == "warning" and "fits without it" in f["message"]
    assert " > usable" not in f["message"]


HYBRID = """
name: hy
model: llama-2-7b
training: {sequence_length: 2048, global_batch_size: 64, tokens: 1e9}
cluster: {gpu: a100-80gb, max_gpus: 16}
parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 16, zero_stage: 3,
              zero_shard_group: 8, micro_batch_size: 1, recompute: none}
"""


def test_hybrid_sharding_is_named_and_deepspeed_uses_the_shard_group() -> None:
    r = evaluate(load_spec_text(HYBRID))
    p = r.plan_json["plan"]
    largest = 32000 * 4096  # embed_tokens of Llama-2-7B
    # estimate_zero3_model_states_mem_needs (deepspeed/runtime/zero/stage3.py):
    # 4 x largest layer + 18 x params / N, with N = the 8 ranks of a shard.
    assert p["deepspeed_estimator_model_states"] == 4 * largest + int(18 * P7B / 8)
    ctx = build_context(r)
    md = render_markdown(ctx)
    assert "ZeRO-3 hybrid (shards of 8, 2 replicas)" in ctx.summary.layout
    assert "| ZeRO stage | ZeRO-3 hybrid (shards of 8, 2 replicas) |" in md
    assert "ZeRO-3 hybrid (shards of 8)" in r.sweeps.zero  # type: ignore[union-attr]
    assert "The plan shards hybrid" in ctx.charts["zero_stages"].caption
