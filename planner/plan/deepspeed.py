"""DeepSpeed's own model-state estimators, as a cross-check of the plan.

planner counts model states with the ZeRO paper's convention (2 + 2 + K
bytes per parameter, K = 12 for mixed-precision Adam; Rajbhandari et al.
2020 s5). DeepSpeed ships estimators whose conventions differ, and users
compare against them, so the plan reports what they would print:

* ZeRO-2, ``deepspeed/runtime/zero/stage_1_and_2.py``,
  ``estimate_zero2_model_states_mem_needs``: per GPU 4Ψ + 16Ψ/N without
  offload (16-bit weights and 16-bit gradient buffers kept whole, plus the
  fp32 master, Adam moments and fp32 gradient partition), 2Ψ with
  optimizer offload.
* ZeRO-3, ``deepspeed/runtime/zero/stage3.py``,
  ``estimate_zero3_model_states_mem_needs``: 4L + 18Ψ/N without offload,
  4L + 2Ψ/N with optimizer offload, 4L with parameters offloaded too, where
  L is the largest layer's parameter count (the largest single module's own
  parameters, ``model_to_params``).

Both assume pure data parallelism (N = all GPUs), mixed-precision Adam and
that every parameter trains (they count ``model.parameters()``); they say
nothing for ZeRO-1, tensor or pipeline parallelism, other optimizers or
precisions, or frozen parameters, so the cross-check is given only where
they apply.
"""

from __future__ import annotations

from planner.estimate.params import ParameterCounts


def largest_layer_params(counts: ParameterCounts) -> int:
    """The largest single parameter tensor (a module's weight; its bias,
    under 0.1% of it, is left out): DeepSpeed's ``largest_layer_params``."""
    return max(t.numel // t.count for t in counts.tensors)


def zero2_gpu_bytes(total: int, gpus: int, offload: bool) -> int:
    """estimate_zero2_model_states_mem_needs: bytes per GPU."""
    return 2 * total if offload else 4 * total + int(16 * total / gpus)


def zero3_gpu_bytes(total: int, largest: int, gpus: int, offload: str) -> int:
    """estimate_zero3_model_states_mem_needs: bytes per GPU; ``offload`` is
    planner's none / optimizer / optimizer+params."""
    layer = 4 * largest
    if offload == "optimizer+params":
        return layer
    if offload == "optimizer":
        return layer + int(2 * total / gpus)
    return layer + int(18 * total / gpus)


def deepspeed_estimate(
    counts: ParameterCounts,
    precision: str,
    optimizer: str,
    t: int,
    p: int,
    zero_stage: int,
    gpus: int,
    offload: str,
    all_trainable: bool = True,
) -> int | None:
    """What DeepSpeed's estimator prints for the plan's layout, or None where
    it does not apply (see the module docstring)."""
    mixed_adam = precision in ("fp16-mixed", "bf16-mixed") and optimizer in ("adam", "adamw")
    if not mixed_adam or not all_trainable or t * p != 1 or zero_stage not in (2, 3):
        return None
    if zero_stage == 2:
        if offload == "optimizer+params":
            return None
        return zero2_gpu_bytes(counts.total, gpus, offload == "optimizer")
    return zero3_gpu_bytes(counts.total, largest_layer_params(counts), gpus, offload)
