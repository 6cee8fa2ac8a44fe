"""DeepSpeed's model-state estimators as a cross-check (planner/plan/deepspeed.py)."""

from __future__ import annotations

import pytest

from planner.plan import make_plan, plan_to_dict
from planner.plan.deepspeed import zero2_gpu_bytes, zero3_gpu_bytes
from planner.spec import load_spec_text

GIB = 2**30


def test_zero3_matches_deepspeeds_printed_table_for_t5_small() -> None:
    # DeepSpeed docs ("Memory Requirements") example, as printed by
    # estimate_zero3_model_states_mem_needs_all_live for t5-small on 1 GPU:
    # "60M total params, 16M largest layer params"; per GPU 0.06 GB (params
    # and optimizer offloaded), 0.17 GB (optimizer offloaded), 1.08 GB (no
    # offload); DeepSpeed divides by 2**30. t5-small: 60,506,624 parameters,
    # largest module the shared 32128 x 512 embedding = 16,449,536.
    total, largest = 60_506_624, 32128 * 512
    assert round(zero3_gpu_bytes(total, largest, 1, "optimizer+params") / GIB, 2) == 0.06
    assert round(zero3_gpu_bytes(total, largest, 1, "optimizer") / GIB, 2) == 0.17
    assert round(zero3_gpu_bytes(total, largest, 1, "none") / GIB, 2) == 1.08


def test_zero2_formula() -> None:
    # stage_1_and_2.py: 4 x params + 16 x params / GPUs, or 2 x params offloaded.
    assert zero2_gpu_bytes(7_000_000_000, 8, False) == 28_000_000_000 + 14_000_000_000
    assert zero2_gpu_bytes(7_000_000_000, 8, True) == 14_000_000_000


def _plan(zero: int, t: int = 1) -> dict:
    return plan_to_dict(
        make_plan(
            load_spec_text(
                f"""
name: ds
model: llama-2-7b
training: {{sequence_length: 2048, global_batch_size: 64, tokens: 1e9}}
cluster: {{gpu: a100-80gb, max_gpus: 8}}
parallelism: {{tensor_parallel: {t}, pipeline_parallel: 1, data_parallel: {8 // t},
              zero_stage: {zero}, offload: none}}
"""
            )
        )
    )["plan"]


def test_plan_reports_deepspeeds_figure_next_to_its_own() -> None:
    p = _plan(3)
    total = 6_738_415_616
    largest = 32000 * 4096  # embed_tokens (and lm_head) of Llama-2-7B
    assert p["deepspeed_estimator_model_states"] == 4 * largest + int(18 * total / 8)
    # planner's own (ZeRO paper): 16 bytes/param sharded over the 8 GPUs
    assert p["model_states_per_gpu"] == pytest.approx(16 * total / 8, rel=1e-3)


def test_deepspeed_figure_absent_where_its_estimator_does_not_apply() -> None:
    assert _plan(3, t=2)["deepspeed_estimator_model_states"] is None  # tensor parallel
    assert _plan(1)["deepspeed_estimator_model_states"] is None  # no ZeRO-1 estimator
