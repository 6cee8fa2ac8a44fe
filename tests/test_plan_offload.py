"""CPU offload: ZeRO-1 keeps its gradients on the GPU, and the host RAM a
node needs (hand calculations; ZeRO-Offload, Ren et al. 2021 s4: fp32
master 4 + Adam m, v 8 + 16-bit gradients 2 = 14 bytes per parameter on the
host; DeepSpeed stage_1_and_2.py for the partitioning and the pinned
gradient staging buffer of the largest tensor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.plan import make_plan
from planner.plan.jsonout import plan_to_dict
from planner.plan.text import render_plan
from planner.spec import load_spec_text

LLAMA7 = 6_738_415_616
LLAMA7_LARGEST = 32000 * 4096  # embed_tokens = lm_head, the largest tensor


def _llama(zero: int, gpu: str = "a100-80gb") -> dict:
    spec = load_spec_text(f"""
name: t
model: llama-2-7b
training: {{sequence_length: 1024, global_batch_size: 8, tokens: 1e9, recompute: full}}
cluster: {{gpu: {gpu}, max_gpus: 8}}
parallelism: {{tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8,
              zero_stage: {zero}, offload: optimizer, micro_batch_size: 1}}
""")
    return plan_to_dict(make_plan(spec))["plan"]


def test_zero1_offload_keeps_full_16bit_gradients_on_the_gpu() -> None:
    # ZeRO-1 does not partition gradients (partition_gradients = stage >= 2):
    # the full 2-byte gradients of all 6.74 B parameters stay on the GPU.
    m = _llama(1)["memory_per_gpu"]
    assert (m["weights"], m["gradients"]) == (2 * LLAMA7, 2 * LLAMA7)
    assert m["master_weights"] == m["optimizer_states"] == 0


def test_zero2_offload_moves_gradients_off_the_gpu() -> None:
    m = _llama(2)["memory_per_gpu"]
    assert (m["weights"], m["gradients"], m["master_weights"], m["optimizer_states"]) == (
        2 * LLAMA7, 0, 0, 0,
    )  # fmt: skip


@pytest.mark.parametrize("zero", [1, 2])
def test_host_memory_per_node_llama_2_7b(zero: int) -> None:
    # 8 ranks, each holds its 1/8 partition of master, Adam and gradients:
    # the node holds 14 bytes x Ψ (ceil per rank; Ψ x 4 / 8 is whole here),
    # plus one pinned 16-bit staging buffer of the largest tensor per rank.
    p = _llama(zero)
    d = p["host_memory_per_node_detail"]
    assert d == {
        "master_weights": 4 * LLAMA7,
        "optimizer_states": 8 * LLAMA7,
        "gradients": 2 * LLAMA7,
        "weights": 0,
        "pinned_buffers": 8 * 2 * LLAMA7_LARGEST,
        "ranks": 8,
    }
    assert p["host_memory_per_node"] == 14 * LLAMA7 + 16 * LLAMA7_LARGEST  # 96.4 GB
    assert p["usable_host_memory_per_node"] == 2**40  # DGX A100: 1 TB of DIMMs = 1 TiB
    assert p["fits"]


def test_host_memory_default_is_2_tib_on_h100() -> None:
    assert _llama(2, "h100-sxm")["usable_host_memory_per_node"] == 2 * 2**40


def _gpt3(extra: str = "") -> str:
    # GPT-3 175B (Brown et al. 2020, Table 2.1): 96 layers, d_model 12288,
    # 96 heads, context 2048; 50257-token BPE vocabulary (GPT-2's).
    return f"""
name: gpt3
model: {{architecture: gpt, parameters: 175e9, hidden_size: 12288, num_layers: 96,
         num_attention_heads: 96, vocab_size: 50257, max_position_embeddings: 2048}}
training: {{sequence_length: 2048, global_batch_size: 8, tokens: 1e9, recompute: full}}
cluster: {{gpu: a100-80gb, max_gpus: 8 {extra}}}
parallelism: {{tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8, zero_stage: 3,
              offload: optimizer, micro_batch_size: 1}}
"""


# The plan splits a model given by count into 96 equal layers (floor,
# planner/estimate/params.py): 64 of the 175e9 parameters fall off the split.
GPT3 = 175 * 10**9 - 64
GPT3_PINNED = 8 * 2 * 50257 * 12288  # 8 ranks x 16-bit x the word embedding


def test_gpt3_175b_on_one_a100_node_needs_2_45_tb_of_host_ram() -> None:
    plan = make_plan(load_spec_text(_gpt3()))
    h = plan.host
    assert (h.master_weights, h.optimizer_states, h.gradients) == (4 * GPT3, 8 * GPT3, 2 * GPT3)
    states = h.master_weights + h.optimizer_states + h.gradients
    assert states == pytest.approx(2.45e12)  # 14 bytes x 175e9
    assert h.pinned_buffers == GPT3_PINNED  # 9.88 GB
    assert h.total == 14 * GPT3 + GPT3_PINNED == 2_459_880_927_360
    # The default node (DGX A100, 1 TiB) cannot hold it: the plan does not fit.
    assert not plan.fits
    reasons = [c.reason for c in plan.search.near_misses]
    assert any(r.startswith("host RAM per node 2.46 TB > 1.00 TiB usable") for r in reasons)
    out = plan_to_dict(plan)
    assert out["plan"]["fits"] is False
    assert out["plan"]["host_memory_per_node"] == h.total
    assert "host RAM per node (CPU offload, 8 ranks): 2,459.88 GB" in render_plan(plan)


def test_gpt3_fits_with_enough_host_ram() -> None:
    plan = make_plan(load_spec_text(_gpt3(", host_memory_per_node: 4096")))
    assert plan.host.usable == 4096 * 2**30
    assert plan.host.fits and plan.memory.fits and plan.fits


@pytest.mark.parametrize("value", ["0", "-1", ".inf", ".nan", "true"])
def test_host_memory_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(_gpt3(f", host_memory_per_node: {value}"))
    r = CliRunner().invoke(main, ["validate", str(f)])
    assert r.exit_code == 2
    assert "cluster.host_memory_per_node" in r.output
