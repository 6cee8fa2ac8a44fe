"""Hybrid sharding (ZeRO within groups of data-parallel ranks, replicated
across groups: PyTorch FSDP HYBRID_SHARD, DeepSpeed MiCS), by hand."""

from __future__ import annotations

import pytest

from planner.errors import SpecError
from planner.plan import make_plan, plan_to_dict
from planner.plan.layout import Layout
from planner.plan.memory import gpu_memory
from planner.plan.timing import step_time
from planner.spec import load_spec_text

P = 6_738_415_616  # Llama-2-7B


def _plan(par: str = "") -> object:
    return make_plan(
        load_spec_text(
            f"""
name: hy
model: llama-2-7b
training: {{sequence_length: 2048, global_batch_size: 64, tokens: 1e9}}
cluster: {{gpu: a100-80gb, max_gpus: 16}}
{par}
"""
        )
    )


def test_states_shard_over_the_group_not_all_ranks() -> None:
    plan = _plan()
    usable = plan.memory.usable  # type: ignore[attr-defined]
    full = gpu_memory(plan.model, Layout(1, 1, 16, zero_stage=3, global_batch_size=64), usable)  # type: ignore[attr-defined]
    hyb = gpu_memory(
        plan.model,  # type: ignore[attr-defined]
        Layout(1, 1, 16, zero_stage=3, zero_shard_group=8, global_batch_size=64),
        usable,
    )
    # ZeRO-3: 16 bytes/param sharded over 16 ranks vs over the 8 of a node
    assert full.model_states == pytest.approx(16 * P / 16, rel=1e-3)
    assert hyb.model_states == pytest.approx(16 * P / 8, rel=1e-3)


def test_hybrid_keeps_gathers_on_nvlink_and_all_reduces_shards_across_nodes() -> None:
    plan = _plan()
    lay = Layout(1, 1, 16, zero_stage=3, zero_shard_group=8, global_batch_size=64)
    st = step_time(plan.model, plan.cluster, lay, plan.flops["none"], 0.5)  # type: ignore[attr-defined]
    eff = 0.7  # assumptions.bandwidth_efficiency
    intra, inter = 300e9 * eff, 25e9 * eff  # A100: NVLink 300 GB/s, 25 GB/s network per GPU
    m = 64 // 16  # micro-batches per step at micro-batch 1
    w = g = 2 * P  # 16-bit weights and gradients, one stage (t = p = 1)
    gathers = m * 2 * 7 / 8 * w / intra  # forward + backward all-gather inside a node
    assert st.zero3_gather == pytest.approx(max(0.0, gathers - 0.5 * st.compute), rel=1e-6)
    reduce = 7 / 8 * g / intra + 2 * 1 / 2 * (g / 8) / inter  # RS in node + AR across 2
    backward_one = st.compute * 2 / 3 / m
    assert st.data_parallel == pytest.approx(max(0.0, reduce - 0.5 * backward_one), rel=1e-6)


def test_fixed_hybrid_layout_and_json() -> None:
    par = "parallelism: {data_parallel: 16, zero_stage: 3, zero_shard_group: 8}"
    d = plan_to_dict(_plan(par))["plan"]  # type: ignore[arg-type]
    assert d["zero_shard_group"] == 8 and d["data_parallel"] == 16
    plain = plan_to_dict(
        _plan("parallelism: {data_parallel: 16, zero_stage: 3, zero_shard_group: 0}")
    )  # type: ignore[arg-type]
    assert plain["plan"]["zero_shard_group"] == 16  # 0 means all ranks


def test_shard_group_must_divide_data_parallel() -> None:
    with pytest.raises(SpecError, match=r"parallelism\.zero_shard_group: must divide"):
        _plan("parallelism: {data_parallel: 16, zero_stage: 3, zero_shard_group: 6}")
