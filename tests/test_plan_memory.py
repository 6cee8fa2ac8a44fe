"""Per-GPU memory under a layout: ZeRO formulas, Korthikanti's per-GPU
activations, and Megatron-LM's published GPT layouts (fit / do not fit)."""

from __future__ import annotations

import pytest

from planner.estimate.params import count_parameters
from planner.estimate.states import convention
from planner.estimate.trainable import model_states, trainable_set
from planner.plan.layout import Layout
from planner.plan.memory import PlanModel, gpu_memory, usable_memory_per_gpu, zero_sharded
from planner.spec import load_spec_text

# ZeRO (Rajbhandari et al. 2020), s5 / Figure 1: Ψ = 7.5B, N_d = 64, K = 12.
PSI, ND = 7_500_000_000, 64


def _zero_states(stage: int, nd: int = ND) -> int:
    states = model_states(trainable_set("full", convention("bf16-mixed", None), (), PSI), "adamw")
    return zero_sharded(states, stage, nd).total


@pytest.mark.parametrize(("stage", "published_gb"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.88)])
def test_zero_figure1_published_values(stage: int, published_gb: float) -> None:
    # Figure 1 prints 120 GB, 31.4 GB, 16.6 GB, 1.88 GB (rounded).
    assert _zero_states(stage) / 1e9 == pytest.approx(published_gb, abs=0.05)


def test_zero_formulas_exact() -> None:
    k = 12
    assert _zero_states(0) == (2 + 2 + k) * PSI
    assert _zero_states(1) == 2 * PSI + 2 * PSI + k * PSI // ND
    assert _zero_states(2) == 2 * PSI + (2 + k) * PSI // ND
    assert _zero_states(3) == (2 + 2 + k) * PSI // ND


def _gpt(h: int, layers: int, heads: int, batch: int, extra: str = "") -> PlanModel:
    spec = load_spec_text(
        f"""
name: t
model: {{architecture: gpt, hidden_size: {h}, num_layers: {layers},
         num_attention_heads: {heads}, vocab_size: 51200, max_position_embeddings: 2048}}
training: {{sequence_length: 2048, global_batch_size: {batch}, tokens: 1e9,
            recompute: full, attention: eager, dropout: 0.1 {extra}}}
cluster: {{gpu: a100-80gb, max_gpus: 8}}
"""
    )
    t = spec.training
    assert t is not None
    return PlanModel(
        spec, count_parameters(spec.model), convention(t.precision, t.gradient_precision)
    )


@pytest.mark.parametrize("t", [1, 2, 4, 8])
@pytest.mark.parametrize("sp", [False, True])
def test_activation_per_layer_matches_korthikanti(t: int, sp: bool) -> None:
    # Korthikanti et al. 2022 s4.2: per layer, 16-bit, eager attention with
    # dropout: s*b*h*(10 + 24/t + 5as/(ht)) without sequence parallelism,
    # s*b*h*(34/t + 5as/(ht)) with it.
    s, b, h, a = 2048, 2, 4096, 32
    pm = _gpt(h, 4, a, 64)
    ab = pm.act_bytes(b, "none")
    lay = Layout(tensor_parallel=t, sequence_parallel=sp, micro_batch_size=b)
    got = ab.layer_tp / t + ab.layer_sp / (t if sp else 1)
    sbh = s * b * h
    want = sbh * (34 / t) if sp else sbh * (10 + 24 / t)
    want += 5 * a * s * s * b / t
    assert got == pytest.approx(want, rel=1e-12)
    assert lay.gpus == t


# Narayanan et al. 2021, Table 1 (shared/reference/reference_runs.yaml,
# megatron2021_weak_scaling): params_b, heads, hidden, layers, t, p, GPUs,
# global batch. All on A100-80GB, full recompute, seq 2048, vocab 51,200.
MEGATRON = [
    (1.7, 24, 2304, 24, 1, 1, 32, 512),
    (3.6, 32, 3072, 30, 2, 1, 64, 512),
    (7.5, 32, 4096, 36, 4, 1, 128, 512),
    (18.4, 48, 6144, 40, 8, 1, 256, 1024),
    (39.1, 64, 8192, 48, 8, 2, 512, 1536),
    (76.1, 80, 10240, 60, 8, 4, 1024, 1792),
    (145.6, 96, 12288, 80, 8, 8, 1536, 2304),
    (310.1, 128, 16384, 96, 8, 16, 1920, 2160),
    (529.6, 128, 20480, 105, 8, 35, 2520, 2520),
    (1008.0, 160, 25600, 128, 8, 64, 3072, 3072),
]


def _megatron(row: tuple[float, ...], t: int, p: int) -> tuple[PlanModel, Layout, int]:
    _, heads, h, layers, _, _, gpus, batch = (int(x) for x in row)
    # Megatron-LM 2021 kept fp32 gradients (18 bytes/param) and no ZeRO.
    pm = _gpt(h, layers, heads, batch, ", gradient_precision: fp32")
    d = gpus // (row[4] * row[5])
    lay = Layout(t, p, int(d), recompute="full", micro_batch_size=1, global_batch_size=batch)
    return pm, lay, usable_memory_per_gpu(pm.spec, pm.spec.cluster.gpu.memory_bytes)


@pytest.mark.parametrize("row", MEGATRON, ids=[f"{r[0]}B" for r in MEGATRON])
def test_megatron_published_layouts_fit(row: tuple[float, ...]) -> None:
    pm, lay, usable = _megatron(row, int(row[4]), int(row[5]))
    # Parameter count = Narayanan et al. 2021 eq. 2 (the table's sizes are
    # rounded labels): P = 12lh^2 (1 + 13/(12h) + (V + s)/(12lh)).
    h, lyr = row[2], row[3]
    eq2 = 12 * lyr * h * h * (1 + 13 / (12 * h) + (51200 + 2048) / (12 * lyr * h))
    assert pm.counts.total == pytest.approx(eq2, rel=1e-3)
    assert gpu_memory(pm, lay, usable).fits


@pytest.mark.parametrize("row", MEGATRON[2:], ids=[f"{r[0]}B" for r in MEGATRON[2:]])
def test_megatron_models_without_model_parallelism_do_not_fit(row: tuple[float, ...]) -> None:
    # From 7.5B up, 18 bytes/param alone exceed 80 GB on one GPU (t = p = 1).
    pm, lay, usable = _megatron(row, 1, 1)
    assert not gpu_memory(pm, lay, usable).fits


PIPELINED = [r for r in MEGATRON if r[5] > 1]


@pytest.mark.parametrize("row", PIPELINED, ids=[f"{r[0]}B" for r in PIPELINED])
def test_megatron_models_with_half_the_pipeline_do_not_fit(row: tuple[float, ...]) -> None:
    # Half the published pipeline stages (hence half the GPUs per replica):
    # each stage's model states double, above 80 GB.
    pm, lay, usable = _megatron(row, int(row[4]), int(row[5]) // 2)
    assert not gpu_memory(pm, lay, usable).fits


def test_small_megatron_models_fit_on_one_gpu() -> None:
    # 1.7B and 3.6B need 18 x 1.65e9 = 29.7 GB and 18 x 3.56e9 = 64.1 GB of
    # model states: they fit without model parallelism, which Megatron used
    # for weak scaling, not for memory.
    for row in MEGATRON[:2]:
        pm, lay, usable = _megatron(row, 1, 1)
        assert gpu_memory(pm, lay, usable).fits


def test_first_stage_holds_min_p_m_microbatches() -> None:
    # Korthikanti s4.2.3: under 1F1B the first stage keeps p micro-batches of
    # activations (m >= p); with m < p only m.
    pm = _gpt(4096, 32, 32, 8)
    ab = pm.act_bytes(1, "full")
    per_layer = ab.layer_tp / 8 + ab.layer_sp
    base = dict(tensor_parallel=8, pipeline_parallel=4, recompute="full")
    many = gpu_memory(pm, Layout(**base, data_parallel=1, global_batch_size=8), 10**12)
    few = gpu_memory(pm, Layout(**base, data_parallel=1, global_batch_size=2), 10**12)
    # 8 layers per stage; first stage: 4 (m=8) versus 2 (m=2) micro-batches.
    first_extra = ab.first_tp / 8 + ab.first_sp
    assert many.stage == few.stage == "first"
    assert many.activations == round(8 * per_layer * 4 + first_extra * 4)
    assert few.activations == round(8 * per_layer * 2 + first_extra * 2)


def test_usable_memory_is_device_minus_cuda_context() -> None:
    pm = _gpt(1024, 2, 16, 8)
    assert usable_memory_per_gpu(pm.spec, 80 * 2**30) == 79 * 2**30  # default 1 GiB context
