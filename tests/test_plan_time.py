"""Time model: pipeline bubble, and calibration against published runs."""

from __future__ import annotations

import pytest

from planner.plan import make_plan
from planner.plan.layout import Layout
from planner.plan.timing import run_time, step_time
from planner.spec import load_spec_text


def _spec(model: str, seq: int, batch: int, tokens: str, gpu: str, gpus: int, extra: str = ""):
    return load_spec_text(
        f"""
name: t
model: {model}
training: {{sequence_length: {seq}, global_batch_size: {batch}, tokens: {tokens} {extra}}}
cluster: {{gpu: {gpu}, max_gpus: {gpus}}}
objective: cheapest
"""
    )  # the time model's calibration is checked on the cheapest plan, which the
    # default `balanced` objective may trade for a faster one costing <= 10% more


@pytest.mark.parametrize(("v", "want"), [(1, 3 / 8), (2, 3 / 16)])
def test_pipeline_bubble(v: int, want: float) -> None:
    # Narayanan et al. 2021 s2.2: bubble fraction (p-1)/(m+p-1) of the step,
    # i.e. (p-1)/m of the ideal compute; interleaved (p-1)/(v*m).
    plan = make_plan(_spec("llama-2-7b", 4096, 8, "1e9", "a100-80gb", 8))
    lay = Layout(1, 4, 1, virtual_pipeline_stages=v, global_batch_size=8)  # m = 8
    st = step_time(plan.model, plan.cluster, lay, plan.flops["none"], 0.45)
    assert st.bubble / st.compute == pytest.approx(want)
    assert st.bubble / (st.bubble + st.compute) == pytest.approx(3 / (v * 8 + 3))


def test_compute_term_is_flops_over_peak_times_mfu() -> None:
    # Single GPU, no parallelism: step = 6N-style FLOPs / (312 TFLOP/s x MFU).
    # Hand count for Llama-2-7B (6,738,415,616 params; 32 layers, h 4096):
    # matmul weights/token = total - input embedding (32000 x 4096) - norms
    # (65 x 4096); the untied LM head (32000 x 4096) is a matmul and stays;
    # attention 4 x 32 x 4096 x 4096 per token; training = 3 x forward.
    plan = make_plan(_spec("llama-2-7b", 4096, 1, "1e9", "a100-80gb", 8))
    lay = Layout(1, 1, 1, global_batch_size=1)
    st = step_time(plan.model, plan.cluster, lay, plan.flops["none"], 0.5)
    matmul = 6_738_415_616 - 32000 * 4096 - 65 * 4096
    per_token = 3 * (2 * matmul + 4 * 32 * 4096 * 4096)
    assert st.compute == pytest.approx(per_token * 4096 / (312e12 * 0.5), rel=1e-9)
    assert st.total == st.compute


# Llama 2 (Touvron et al. 2023, Table 2; shared/reference/reference_runs.yaml
# llama2_family): A100-80GB, 2T tokens, context 4096, global batch 4M tokens
# (1024 sequences); published 184,320 and 1,720,320 GPU-hours.
#
# Tolerance: the planner's expected (budgeted) GPU-hours must lie within 15%
# of the published totals, the optimistic end of its range within 10% of
# them, and the pessimistic end above them. The A100 MFU default (0.40/0.52/0.58) is
# calibrated on two published sources together: Megatron-LM 2021 (44-52% of
# peak on executed FLOPs) and these Llama 2 totals (about 45% of peak over
# the whole run counting attention FLOPs, i.e. about 52% steady at goodput
# 0.85). One MFU cannot fit 7B and 70B exactly (their layouts add different
# bubble and communication terms; predictions are 1.03x and 1.11x at the fitted
# goodput 0.83), and the
# published totals include restarts Meta does not quantify: 15% covers both.
@pytest.mark.parametrize(
    ("preset", "published"), [("llama-2-7b", 184_320), ("llama-2-70b", 1_720_320)]
)
def test_llama2_gpu_hours(preset: str, published: int) -> None:
    plan = make_plan(_spec(preset, 4096, 1024, "2T", "a100-80gb", 2048))
    assert plan.fits
    ratio = plan.expected.gpu_hours / published
    assert 0.85 <= ratio <= 1.15, ratio
    # the optimistic end reaches the published figure within 10%, the
    # pessimistic end stays above it
    assert plan.times["low"].gpu_hours <= 1.10 * published <= 1.10 * plan.times["high"].gpu_hours
    assert plan.expected.gpu_hours_steady < plan.expected.gpu_hours


# Megatron-LM 2021 Table 1 (megatron2021_weak_scaling): achieved TFLOP/s per
# A100 counting recompute, all ten rows. Check: at the expected A100 MFU the predicted throughput is
# 80-110% of the published one. The MFU default is calibrated on this table
# and Llama 2 together (see above); the explicit bubble and TP terms come on
# top of it, so the largest pipelines (p = 35, 64) come out lowest (0.83x).
@pytest.mark.parametrize(
    "row",
    [
        (24, 2304, 24, 1, 1, 32, 512, 137),
        (32, 3072, 30, 2, 1, 64, 512, 138),
        (32, 4096, 36, 4, 1, 128, 512, 142),
        (48, 6144, 40, 8, 1, 256, 1024, 135),
        (64, 8192, 48, 8, 2, 512, 1536, 138),
        (80, 10240, 60, 8, 4, 1024, 1792, 140),
        (96, 12288, 80, 8, 8, 1536, 2304, 148),
        (128, 16384, 96, 8, 16, 1920, 2160, 155),
        (128, 20480, 105, 8, 35, 2520, 2520, 163),
        (160, 25600, 128, 8, 64, 3072, 3072, 163),
    ],
)
def test_megatron_throughput(row: tuple[int, ...]) -> None:
    heads, h, layers, t, p, gpus, batch, tflops = row
    model = (
        f"{{architecture: gpt, hidden_size: {h}, num_layers: {layers},"
        f" num_attention_heads: {heads}, vocab_size: 51200, max_position_embeddings: 2048}}"
    )
    plan = make_plan(_spec(model, 2048, batch, "1e10", "a100-80gb", gpus, ", recompute: full"))
    lay = Layout(t, p, gpus // (t * p), recompute="full", global_batch_size=batch)
    fl = plan.flops["full"]
    rt = run_time(plan.model, plan.cluster, lay, fl, plan.cluster.mfu.expected, 0.85)
    achieved = fl.hardware_per_token * rt.tokens_per_second / gpus / 1e12
    assert 0.8 <= achieved / tflops <= 1.1, achieved


# Narayanan et al. 2021 s5.2, Table 2 (megatron2021_gpt3_175b_ptd_vs_zero3):
# GPT-3 175B on A100-80GB, global batch 1536, full recompute; ZeRO-3 without
# model parallelism (micro-batch 4, 2, 1 on 384, 768, 1536 GPUs) against
# PTD-P (t=8, p=12, micro-batch 1). Published TFLOP/s per GPU: ZeRO-3 144,
# 88, 44; PTD-P 153, 149, 141. The overlap of ZeRO-3's gathers and of the
# gradient reduction with compute (assumptions.dp_overlap, 0.5) is
# calibrated on these ZeRO-3 rows (0.7 put them 13-24% high; 0.5 gives
# 1.01-1.07x). Check: each predicted figure within 0.85-1.15x of the
# published one, and the paper's conclusion that PTD-P overtakes ZeRO-3 as
# GPUs are added at fixed batch, by more than 2x at 1536 GPUs.
_GPT3 = (
    "{architecture: gpt, hidden_size: 12288, num_layers: 96, num_attention_heads: 96,"
    " vocab_size: 51200, max_position_embeddings: 2048}"
)


def _gpt3_tflops(gpus: int, lay: Layout) -> float:
    plan = make_plan(_spec(_GPT3, 2048, 1536, "1e10", "a100-80gb", gpus, ", recompute: full"))
    fl = plan.flops["full"]
    rt = run_time(plan.model, plan.cluster, lay, fl, plan.cluster.mfu.expected, 0.85)
    return fl.hardware_per_token * rt.tokens_per_second / gpus / 1e12


@pytest.mark.parametrize(
    ("gpus", "micro", "zero3", "ptdp"), [(384, 4, 144, 153), (768, 2, 88, 149), (1536, 1, 44, 141)]
)
def test_gpt3_zero3_vs_ptdp(gpus: int, micro: int, zero3: float, ptdp: float) -> None:
    z = _gpt3_tflops(
        gpus,
        Layout(
            1,
            1,
            gpus,
            zero_stage=3,
            recompute="full",
            micro_batch_size=micro,
            global_batch_size=1536,
        ),
    )
    m = _gpt3_tflops(
        gpus,
        Layout(8, 12, gpus // 96, recompute="full", micro_batch_size=1, global_batch_size=1536),
    )
    assert 0.85 <= z / zero3 <= 1.15, z
    assert 0.85 <= m / ptdp <= 1.15, m
    if gpus >= 768:
        assert m > z
    if gpus == 1536:
        assert m / z > 2


# MPT-7B (MosaicML blog and model card, 2023-05-05; reference_runs.yaml
# mpt_7b): 6.7B parameters, 1T tokens, sequence 2048, 440 A100-40GB, PyTorch
# FSDP full sharding (= ZeRO-3), LION; 9.5 days of wall time including
# checkpointing, evaluation and restarts, about USD 200k at about USD 2 per
# A100-40GB-hour. Architecture: h 4096, 32 layers, 32 heads, MLP 4h, vocab
# 50,432, no biases; ALiBi has no position parameters, which the gpt family
# models as 2048 x 4096 learned positions (8.4M, 0.1%: negligible). The
# global batch is not in the reference; 1760 sequences (4 per GPU) is an
# assumption. Tolerance 25%: an independent run (not used to calibrate), on a
# GPU the defaults share with A100-80GB.
def test_mpt_7b_days_and_cost() -> None:
    spec = load_spec_text(
        """
name: mpt
model: {architecture: gpt, hidden_size: 4096, num_layers: 32, num_attention_heads: 32,
        intermediate_size: 16384, vocab_size: 50432, max_position_embeddings: 2048,
        attention_bias: false, mlp_bias: false}
training: {sequence_length: 2048, micro_batch_size: 4, global_batch_size: 1760, tokens: 1e12,
           optimizer: lion}
cluster: {gpu: a100-40gb, max_gpus: 440, price_per_gpu_hour: 2.0}
parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 440, zero_stage: 3}
"""
    )
    plan = make_plan(spec)
    assert plan.fits
    assert plan.expected.days == pytest.approx(9.5, rel=0.25)
    assert plan.expected.usd == pytest.approx(200_000, rel=0.25)


# Megatron-LM README, H100 weak scaling (reference_runs.yaml
# megatron_h100_weak_scaling): GPT models, vocabulary 131,072, sequence 4096,
# published t, p, d and TFLOP/s per GPU (model FLOPs, MFU 41-49%). The H100
# default MFU (0.45/0.60/0.65, a kernel efficiency: bubbles and communication
# are modelled on top) is calibrated on this table. With the published
# layout (sequence parallel, distributed optimizer = ZeRO-1, the best of
# recompute none/selective/full and interleaving v = 1, 2, 4 that fits), the
# prediction is 0.68-1.00x the published throughput: our model does not let
# TP communication or the parameter all-gather overlap compute, which
# Megatron-core does here (tp-comm-overlap, overlap-param-gather), so the
# mid-size p = 1 rows (t = 2-8) come out lowest. Tolerance 0.65-1.05x, one
# side: the planner must never promise more than the published throughput.
_H100_ROWS = [
    (16, 2048, 24, 1, 1, 48, 192, 408.8),
    (32, 4096, 30, 2, 1, 48, 192, 465.9),
    (48, 6144, 32, 4, 1, 48, 192, 489.1),
    (56, 7168, 48, 8, 1, 48, 384, 459.6),
    (64, 8192, 84, 8, 2, 48, 384, 419.7),
    (80, 10240, 92, 8, 4, 48, 768, 420.5),
    (96, 12288, 96, 8, 6, 48, 1152, 432.8),
    (128, 16384, 96, 8, 8, 48, 1536, 474.4),
    (144, 18432, 112, 8, 16, 48, 3072, 459.9),
]


@pytest.mark.parametrize("row", _H100_ROWS)
def test_megatron_h100_throughput(row: tuple[int, ...]) -> None:
    from planner.plan.memory import gpu_memory

    heads, h, layers, t, p, d, batch, tflops = row
    gpus = t * p * d
    model = (
        f"{{architecture: gpt, hidden_size: {h}, num_layers: {layers},"
        f" num_attention_heads: {heads}, vocab_size: 131072, max_position_embeddings: 4096}}"
    )
    plan = make_plan(_spec(model, 4096, batch, "1e10", "h100-sxm", gpus))
    best = 0.0
    for rc in ("none", "selective", "full"):
        for v in (1, 2, 4):
            if (layers // p) % v:
                continue
            lay = Layout(t, p, d, sequence_parallel=True, virtual_pipeline_stages=v,
                         zero_stage=1, recompute=rc, global_batch_size=batch)  # fmt: skip
            if not gpu_memory(plan.model, lay, plan.memory.usable).fits:
                continue
            rt = run_time(
                plan.model, plan.cluster, lay, plan.flops[rc], plan.cluster.mfu.expected, 0.85
            )
            best = max(best, plan.flops[rc].model_per_token * rt.tokens_per_second / gpus / 1e12)
    assert 0.65 <= best / tflops <= 1.05, best / tflops
