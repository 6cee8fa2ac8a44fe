"""Serving capacity plans (inference.traffic): KV capacity, roofline step
times, queueing, search and exit codes, against hand calculations from the
formulas in planner/plan/roofline.py and planner/plan/queueing.py, and
against published TensorRT-LLM measurements."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.estimate.inference import kv_cache_bytes
from planner.estimate.params import count_parameters
from planner.pipeline import evaluate
from planner.plan.capacity import make_capacity_plan
from planner.plan.queueing import load_point
from planner.plan.roofline import expert_read_share, make_replica
from planner.spec import load_spec_text

GIB = 2**30
H100_MEMORY = 81559 * 2**20  # driver-reported (planner/data/gpus.yaml)


def _spec(
    model: str = "llama-3-8b",
    gpu: str = "h100-sxm",
    rps: str = "20",
    slo: str = "{ttft_ms: 2000, tpot_ms: 50}",
    extra: str = "",
    cluster_extra: str = "",
) -> str:
    return f"""
name: serve
model: {model}
inference:
  prompt_tokens: 1024
  generated_tokens: 256
  traffic: {{requests_per_second: {rps}}}
  slo: {slo}
  engine: vllm
{extra}
cluster: {{gpu: {gpu}{cluster_extra}}}
"""


def _replica(text: str, tp: int = 1, pp: int = 1, i: int = 0):  # type: ignore[no-untyped-def]
    s = load_spec_text(text)
    return make_replica(s, count_parameters(s.model), s.clusters[i], tp, pp)


# --- spec contract ------------------------------------------------------------


def test_existing_serving_specs_still_plan() -> None:
    for f in ("specs/llama-2-70b-fp16-serving.yaml", "specs/llama-2-13b-int4-serving.yaml"):
        r = CliRunner().invoke(main, ["plan", f, "--format", "json"])
        assert r.exit_code == 0, r.output
        d = json.loads(r.output)
        assert "capacity" not in d
        # the inverse question for one replica: most sequences and the longest context
        assert d["plan"]["replicas"] == 1
        assert d["plan"]["max_concurrency"] >= 1
        assert d["plan"]["max_context_tokens"] >= 1


def test_prompt_mean_and_p99(tmp_path: Path) -> None:
    s = load_spec_text(
        _spec().replace("prompt_tokens: 1024", "prompt_tokens: {mean: 1024, p99: 4096}")
    )
    assert s.inference is not None
    assert (s.inference.prompt_mean, s.inference.prompt_p99) == (1024, 4096)
    bad = tmp_path / "bad.yaml"
    bad.write_text(_spec().replace("prompt_tokens: 1024", "prompt_tokens: {mean: 1024, p99: 10}"))
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2 and "p99" in r.output


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("requests_per_second: 20", "requests_per_second: fast"), "requests_per_second"),
        (("engine: vllm", "engine: triton"), "engine"),
        (("  engine: vllm", "  engine: vllm\n  warp: 3"), "warp"),
        (("tpot_ms: 50}", "tpot_ms: 50, p50: 3}"), "p50"),
        (("  traffic: {requests_per_second: 20}\n", ""), "inference.slo"),
    ],
)
def test_bad_serving_fields_exit_2(tmp_path: Path, change: tuple[str, str], words: str) -> None:
    f = tmp_path / "bad.yaml"
    text = _spec()
    assert change[0] in text
    f.write_text(text.replace(*change))
    r = CliRunner().invoke(main, ["plan", str(f)])
    assert r.exit_code == 2, r.output
    assert words in r.output and "Traceback" not in r.output


def test_max_days_refused_on_inference(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(_spec() + "constraints: {max_days: 3}\n")
    r = CliRunner().invoke(main, ["plan", str(f)])
    assert r.exit_code == 2 and "constraints.max_days" in r.output


# --- KV cache and memory (vLLM's profile) -------------------------------------


def test_kv_cache_bytes_by_hand() -> None:
    s = load_spec_text(_spec())
    # Llama-3-8B: 2 x 32 layers x 8 kv heads x 128 x 2 bytes = 131,072 B per token
    assert kv_cache_bytes(s.model, 1000, "bf16") == 131_072 * 1000
    w = load_spec_text(_spec(model="{preset: llama-3-8b, sliding_window: 4096}"))
    assert kv_cache_bytes(w.model, 10_000, "bf16") == 131_072 * 4096  # capped at the window


def test_kv_capacity_as_vllm_profiles_it() -> None:
    r = _replica(_spec())
    budget = int(H100_MEMORY * 0.9)  # gpu_memory_utilization 0.9 x total memory
    weights = 2 * 8_030_261_248
    # vLLM's OpenAI-server defaults on an 80 GB H100 (arg_utils.py
    # get_batch_defaults): 8,192 tokens per step, 1,024 sequences. Workspace
    # of that profiling step: hidden 2h x 2 B, widest input 3 x 14,336
    # (SwiGLU) x 2 B, fp32 logits of 1,024 sequences x 128,256
    assert (r.eff.max_num_batched_tokens, r.eff.max_num_seqs) == (8192, 1024)
    workspace = 8192 * 2 * 4096 * 2 + 8192 * 3 * 14336 * 2 + 1024 * 128_256 * 4
    runtime = GIB + GIB  # CUDA context (assumption) + vLLM profile's runtime_gib
    kv = budget - weights - workspace - runtime
    block = 131_072 * 16  # vLLM block: 16 tokens
    m = r.memory
    assert (m.budget, m.weights, m.workspace, m.runtime) == (budget, weights, workspace, runtime)
    assert m.kv_cache == kv
    assert m.kv_blocks == kv // block
    assert m.kv_tokens == kv // block * 16
    # max concurrency at 1,024 + 256 tokens: 80 blocks per sequence
    assert r.max_sequences(1280) == kv // block // 80
    a100 = _replica(_spec(gpu="a100-80gb")).eff  # vLLM keeps A100 at 2,048 / 256
    assert (a100.max_num_batched_tokens, a100.max_num_seqs) == (2048, 256)


def test_tensor_parallel_splits_weights_and_kv_heads() -> None:
    one, two = _replica(_spec(), 1), _replica(_spec(), 2)
    assert two.memory.weights == -(-2 * 8_030_261_248 // 2)
    assert two.memory.kv_bytes_per_block == 131_072 * 16 // 2
    assert two.memory.kv_tokens > 2 * one.memory.kv_tokens  # the weights no longer fill each GPU


# --- roofline -----------------------------------------------------------------


def test_dense_decode_at_batch_1_is_the_bandwidth_bound() -> None:
    r = _replica(_spec())
    ctx = 1024 + 128
    bound = (2 * 8_030_261_248 + 131_072 * ctx) / (3350e9 * 0.70)  # H100 3.35 TB/s, vLLM 0.70
    assert r.decode_step_seconds(1, ctx) == pytest.approx(bound, rel=1e-12)


def test_moe_decode_at_batch_1_reads_only_the_routed_experts() -> None:
    # Mixtral-8x7B on one H200 (141 GB): no tensor parallelism, no all-reduce
    r = _replica(_spec(model="mixtral-8x7b", gpu="h200"))
    total, experts = 46_702_792_704, 32 * 8 * 3 * 4096 * 14336  # published count; w1, w2, w3
    ctx = 1024 + 128
    kv = 2 * 32 * 8 * 128 * 2 * ctx
    read = 2 * (total - experts) + 2 * experts * 2 / 8  # top-2 of 8 at batch 1
    assert r.decode_step_seconds(1, ctx) == pytest.approx((read + kv) / (4800e9 * 0.7), rel=1e-9)
    every = (2 * total + kv) / (4800e9 * 0.7)
    assert every / r.decode_step_seconds(1, ctx) == pytest.approx(3.6, abs=0.1)  # the old bug


def test_expected_distinct_experts() -> None:
    s = load_spec_text(_spec(model="mixtral-8x7b", gpu="h200"))
    # E (1 - (1 - k/E)^B) of E = 8 at k = 2: B=1: 2; B=2: 8 x (1 - 0.75^2) = 3.5
    assert 8 * expert_read_share(s.model, 1) == pytest.approx(2.0)
    assert 8 * expert_read_share(s.model, 2) == pytest.approx(3.5)
    assert expert_read_share(s.model, 64) == pytest.approx(1.0, abs=1e-7)
    assert expert_read_share(load_spec_text(_spec()).model, 1) == 1.0  # dense


def test_static_serving_plan_moe_decode_fixed() -> None:
    text = """
name: mix
model: mixtral-8x7b
inference: {batch_size: 1, prompt_tokens: 512, generated_tokens: 256, weight_precision: bf16}
cluster: {gpu: h200, price_per_gpu_hour: 5}
"""
    from planner.plan.serving import make_serving_plan

    o = make_serving_plan(load_spec_text(text)).best
    assert o.degree_checked == 1
    experts = 32 * 8 * 3 * 4096 * 14336
    read = 2 * (46_702_792_704 - experts) + 2 * experts / 4
    kv = 2 * 32 * 8 * 128 * 2 * (512 + 128)
    assert o.decode_step_seconds == pytest.approx((read + kv) / (4800e9 * 0.7), rel=1e-9)


def test_prefill_is_compute_bound_by_hand() -> None:
    r = _replica(_spec())
    flops = 1024 * (2 * 7_504_658_432 + 4 * 32 * 1024 * 4096 / 2)  # matmuls + causal attention
    assert r.prefill_seconds(1024) == pytest.approx(flops / (989e12 * 0.5), rel=1e-12)


def test_tp_all_reduce_adds_per_layer() -> None:
    r1, r2 = _replica(_spec(), 1), _replica(_spec(), 2)
    ctx = 1152
    mem2 = (2 * 8_030_261_248 + 131_072 * ctx) / (2 * 3350e9 * 0.7)
    ring = 2 * (1 / 2) * 4096 * 2 / (450e9 * 0.7)  # 1 token x hidden x 2 B over NVLink
    assert r2.decode_step_seconds(1, ctx) == pytest.approx(mem2 + 2 * 32 * max(ring, 10e-6))
    assert r2.decode_step_seconds(1, ctx) > r1.decode_step_seconds(1, ctx) / 2


def test_engine_efficiency_override() -> None:
    base = _replica(_spec())
    slow = _replica(_spec(extra="  efficiency: {decode_bandwidth: 0.35}"))
    assert slow.decode_step_seconds(1, 100) == pytest.approx(2 * base.decode_step_seconds(1, 100))


# --- published measurements ---------------------------------------------------
# NVIDIA TensorRT-LLM docs/source/performance.md (commit 138f96d, data from
# TensorRT-LLM v0.5 / v0.6.1), A100 FP16 tables, gptSessionBenchmark static
# batching. The doc does not name the A100's memory size; a100-80gb is used
# (2,039 GB/s). Tolerance: 30% for throughput, 40% for first-token latency
# (the tensorrt-llm profile's assumed efficiencies, not fitted to these rows;
# its prefill MFU 0.55 is capped at the A100 catalog's expected 0.52, while
# these rows imply about 0.68: the planner is 27-31% slow there; the
# throughput rows come out at 0.75-1.05 of the published figures).

TOL = 0.30
TOL_TTFT = 0.40


def _trt(model: str, tp: int):  # type: ignore[no-untyped-def]
    text = _spec(model=model, gpu="a100-80gb").replace("engine: vllm", "engine: tensorrt-llm")
    text = text.replace("  prompt_tokens: 1024", "  prompt_tokens: 1024\n  weight_precision: fp16")
    return _replica(text + "", tp)


@pytest.mark.parametrize(
    ("model", "tp", "tokens", "ms"),
    [("llama-2-7b", 1, 2048, 133), ("llama-2-70b", 4, 2048, 377)],
)
def test_first_token_latency_vs_trt_llm_a100(model: str, tp: int, tokens: int, ms: float) -> None:
    # "Low Latency" table: batch 1, 1st-token latency at input 2,048
    r = _trt(model, tp)
    assert r.prefill_seconds(tokens) * 1e3 == pytest.approx(ms, rel=TOL_TTFT)


@pytest.mark.parametrize(
    ("batch", "inp", "out", "tok_s"),
    [(384, 128, 128, 5586), (60, 128, 2048, 1928), (52, 2048, 128, 591)],
)
def test_static_throughput_vs_trt_llm_a100(batch: int, inp: int, out: int, tok_s: float) -> None:
    # "Peak Throughput" table, LLaMA 7B, TP 1: batch x output / (prefill + output x step)
    r = _trt("llama-2-7b", 1)
    seconds = r.prefill_seconds(inp, batch) + out * r.decode_step_seconds(batch, inp + out / 2)
    assert batch * out / seconds == pytest.approx(tok_s, rel=TOL)


# --- queueing -----------------------------------------------------------------


def test_load_point_littles_law_and_pk_by_hand() -> None:
    r = _replica(_spec(), 2)
    rate, ctx = 5.0, 1024 + 128
    pt = load_point(r, rate, 256)
    assert pt.stable
    rho_p = rate * r.prefill_seconds(1024)
    assert pt.prefill_share == pytest.approx(rho_p)
    tpot = r.decode_step_seconds(pt.concurrency, ctx) / (1 - rho_p)
    assert pt.tpot_p50 == pytest.approx(tpot)
    assert pt.concurrency == pytest.approx(rate * 256 * tpot, rel=1e-6)  # Little's law
    b99 = pt.concurrency + 2.326 * math.sqrt(pt.concurrency)
    assert pt.tpot_p99 == pytest.approx(r.decode_step_seconds(b99, ctx) / (1 - rho_p))
    s = r.prefill_seconds(1024) + 1 * r.decode_step_seconds(pt.concurrency, ctx)  # one chunk
    rho = rate * s
    wait = rho * s / (2 * (1 - rho))  # Pollaczek-Khinchine, M/D/1
    assert pt.ttft_p50 == pytest.approx(s + (wait / rho * math.log(rho / 0.5) if rho > 0.5 else 0))
    assert pt.ttft_p99 == pytest.approx(s + wait / rho * math.log(rho / 0.01))


def test_overload_is_unstable() -> None:
    r = _replica(_spec())
    pt = load_point(r, 1e4, 256)
    assert not pt.stable and "prefill" in pt.reason


# --- search -------------------------------------------------------------------


def _plan(text: str):  # type: ignore[no-untyped-def]
    s = load_spec_text(text)
    return make_capacity_plan(s, count_parameters(s.model))


def test_issue_example_meets_slos() -> None:
    p = _plan(Path("specs/llama-3-8b-serving-slo.yaml").read_text())
    b = p.best
    assert b is not None and b.meets and b.point is not None
    assert b.point.ttft_p99 <= 2.0 and b.point.tpot_p99 <= 0.050
    assert b.rate == 20
    # the cheapest: nothing that meets the targets costs less per hour
    assert all(c.usd_per_hour >= b.usd_per_hour for c in p.candidates if c.meets)


def test_four_times_the_traffic_needs_about_four_times_the_gpus() -> None:
    text = _spec(model="llama-3.1-70b", rps="{}", slo="{ttft_ms: 2000, tpot_ms: 50}")
    g = {}
    for rps in (5, 20):
        b = _plan(text.replace("{requests_per_second: {}}", f"{{requests_per_second: {rps}}}")).best
        assert b is not None
        g[rps] = b.gpus
    assert 3.0 <= g[20] / g[5] <= 5.0, g


def test_no_plan_exits_1_with_reasons(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(_spec(slo="{tpot_ms: 1}"))
    r = CliRunner().invoke(main, ["plan", str(f)])
    assert r.exit_code == 1, r.output
    assert "no configuration meets the targets" in r.output and "TPOT" in r.output
    r = CliRunner().invoke(main, ["plan", str(f), "--format", "json"])
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert d["feasible"] is False and d["capacity"]["closest"]
    assert any(x["id"] == "SRV-005" for x in d["findings"])


def test_budget_is_applied(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(_spec() + "constraints: {max_budget_usd: 1000}\n")
    r = CliRunner().invoke(main, ["plan", str(f), "--format", "json"])
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert any("budget" in m for c in d["capacity"]["candidates"] for m in c["misses"])
    assert {"SRV-005", "SRV-008"} <= {x["id"] for x in d["findings"]}
    f.write_text(_spec() + "constraints: {max_budget_usd: 100000}\n")
    assert CliRunner().invoke(main, ["plan", str(f)]).exit_code == 0


def test_budget_on_static_serving_spec(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    spec = Path("specs/llama-2-70b-fp16-serving.yaml").read_text()
    f.write_text(spec + "constraints: {max_budget_usd: 100}\n")
    r = CliRunner().invoke(main, ["plan", str(f), "--format", "json"])
    assert r.exit_code == 1
    assert "SRV-008" in {x["id"] for x in json.loads(r.output)["findings"]}


def test_fixed_batch_size_caps_concurrency() -> None:
    p = _plan(_spec(extra="  batch_size: 16"))
    assert {c.max_concurrency for c in p.candidates if c.replicas} == {16}


def test_max_traffic_on_the_given_cluster() -> None:
    one = _plan(_spec(rps="max", cluster_extra=", max_gpus: 8")).best
    two = _plan(_spec(rps="max", cluster_extra=", max_gpus: 16")).best
    assert one is not None and two is not None and one.point is not None
    assert one.point.tpot_p99 <= 0.050 and one.point.ttft_p99 <= 2.0
    assert one.gpus <= 8 and two.gpus <= 16
    assert two.rate == pytest.approx(2 * one.rate, rel=0.01)  # twice the replicas


def test_plan_json_keys() -> None:
    d = evaluate(load_spec_text(_spec())).plan_json
    for k in ("replicas", "gpus", "gpus_per_replica", "max_concurrency", "kv_cache_tokens"):
        assert isinstance(d["plan"][k], int)
    assert d["plan"]["gpus"] == d["plan"]["replicas"] * d["plan"]["gpus_per_replica"]
    assert d["throughput"]["output_tokens_per_second"] == pytest.approx(20 * 256)
    for k in ("ttft_ms", "tpot_ms", "ttft_ms_p50", "tpot_ms_p50"):
        assert d["latency"][k] > 0
    assert d["latency"]["ttft_ms_p50"] <= d["latency"]["ttft_ms"]
    c = d["cost"]
    assert c["usd_per_million_output_tokens"] == pytest.approx(
        c["usd_per_hour"] / (20 * 256 * 3600) * 1e6
    )
    assert c["gpu_hours_per_month"] == d["plan"]["gpus"] * 720
    assert c["usd_per_month"] == pytest.approx(c["usd_per_hour"] * 720)


def test_search_under_a_second_for_8_gpu_types_and_1000_gpus() -> None:
    gpus = "[h100-sxm, h200, a100-80gb, a100-40gb, mi300x, l40s, b200, h800]"
    text = _spec(model="llama-3.1-70b", gpu=gpus, rps="200", cluster_extra=", max_gpus: 1000")
    s = load_spec_text(text)
    counts = count_parameters(s.model)
    start = time.process_time()
    p = make_capacity_plan(s, counts)
    assert time.process_time() - start < 1.0
    assert len({c.replica.cluster.gpu.key for c in p.candidates}) == 8
    assert p.best is not None and p.best.gpus <= 1000


# --- rules, report, commands ----------------------------------------------------


def _ids(text: str) -> set[str]:
    return {f.id for f in evaluate(load_spec_text(text)).findings}


def test_capacity_rules_fire_and_stay_silent() -> None:
    example = Path("specs/llama-3-8b-serving-slo.yaml").read_text()
    assert not {"SRV-005", "SRV-006", "SRV-007", "SRV-008", "SRV-009"} & _ids(example)
    big = Path("specs/llama-3.1-70b-serving-slo.yaml").read_text()
    assert {"SRV-006", "SRV-007"} <= _ids(big)  # prefill share 57%, KV holds 108 sequences
    # Llama-3.1-405B in bf16 (810 GB) does not fit one node of 8 H100s: two stages
    huge = _spec(model="llama-3.1-405b", rps="1", slo="{ttft_ms: 10000, tpot_ms: 200}")
    assert "SRV-009" in _ids(huge)


def test_nothing_fits_exits_1_and_reports(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(_spec(model="llama-3.1-405b", gpu="l4", cluster_extra=", max_gpus: 8"))
    r = CliRunner().invoke(main, ["plan", str(f)])
    assert r.exit_code == 1 and "does not fit" in r.output
    r = CliRunner().invoke(main, ["report", str(f), "-o", str(tmp_path), "-f", "md"])
    # The report is written and says INFEASIBLE at the top; the command exits 1 (issue 12).
    assert r.exit_code == 1, r.output
    md = (tmp_path / "serve.md").read_text()
    assert "no replica fits on any candidate GPU" in md
    assert "INFEASIBLE" in md.split("## Summary")[0]


def test_report_has_latency_and_cost_charts(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["report", "specs/llama-3.1-70b-serving-slo.yaml", "-o", str(tmp_path), "-f", "md"]
    )
    assert r.exit_code == 0, r.output
    md = (tmp_path / "llama-3.1-70b-serving-slo.md").read_text()
    assert "p99 latency vs load" in md and "Cost per million output tokens by GPU type" in md
    assert "3 replicas x 4 NVIDIA H100" in md  # the plan: 12 H100 at USD 41.88/h
    assert "AMD Instinct MI300X" in md
    charts = tmp_path / "llama-3.1-70b-serving-slo_charts"
    assert (charts / "serving_latency.svg").exists() and (charts / "serving_cost.svg").exists()


def test_rules_command_explains_capacity_rules() -> None:
    for rid in ("SRV-005", "SRV-006", "SRV-007", "SRV-008", "SRV-009"):
        r = CliRunner().invoke(main, ["rules", rid])
        assert r.exit_code == 0 and rid in r.output


def test_summary_says_why_not_fewer_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """specs/llama-3-8b-serving-slo.yaml plans 2 H100s for 20 requests/s; one
    H100 (t=1) is overloaded: at 20 requests/s it needs more running sequences
    than its KV cache holds (437,888 tokens / 1,280 per sequence = 342). The
    plan JSON and the summary carry that evidence."""
    from pathlib import Path

    from planner.pipeline import evaluate
    from planner.report.capacity import capacity_texts
    from planner.spec import load_spec

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    spec = load_spec("specs/llama-3-8b-serving-slo.yaml")
    plan = evaluate(spec).plan_json
    assert plan["plan"]["gpus"] == 2
    why = plan["capacity"]["why_not_fewer_gpus"]
    assert len(why) == 1 and why[0].startswith("1 x 1 GPU (t=1, p=1): overloaded")
    assert "342 running sequences" in why[0]
    head, _ = capacity_texts(plan, spec)
    assert "Fewer GPUs miss the targets (1 x 1 GPU" in head


def test_summary_memory_is_the_planned_peak_not_one_sequence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The capacity summary's memory is the replica at the plan's p99 running
    sequences, each at its longest: for llama-3-8b-serving-slo, KV bytes =
    concurrency_p99 x (1,024 + 256) tokens x 131,072 bytes (2 x 32 layers x
    8 KV heads x 128 x 2 bytes), not one sequence's 0.16 GiB."""
    from pathlib import Path

    from planner.pipeline import evaluate
    from planner.report.serving import serving_summary
    from planner.spec import load_spec

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    spec = load_spec("specs/llama-3-8b-serving-slo.yaml")
    r = evaluate(spec)
    plan, e = r.plan_json, r.estimate_json
    assert e["inference"]["kv_cache_per_token"] == 2 * 32 * 8 * 128 * 2
    kv = int(plan["latency"]["concurrency_p99"] * 1280 * 131_072)
    s = serving_summary(e, plan, spec)
    assert f"KV cache {kv / 2**30:,.2f} GiB" in s.memory_breakdown
    assert "running sequences (p99) of up to 1,280 tokens" in s.memory_breakdown
