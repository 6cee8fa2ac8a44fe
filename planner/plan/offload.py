"""ZeRO sharding and CPU offload of the model states: what each GPU keeps,
and the host RAM a node needs for what the GPUs hand to it.

Host RAM per node (``host_memory``), under CPU offload only:

* each rank keeps on the host what it offloads (Ren et al. 2021,
  "ZeRO-Offload", s4.1, Figure 2: fp32 master weights, optimizer states and
  the 16-bit gradients, 2 + 12 = 14 bytes per trainable parameter for
  mixed-precision Adam; ZeRO-Infinity, Rajbhandari et al. 2021, s5, also the
  16-bit weights under ``optimizer+params``). With ZeRO >= 1 the optimizer
  runs on the rank's partition, so the host holds that partition of master
  weights, optimizer states and gradients (DeepSpeed
  ``stage_1_and_2.py``: ``single_partition_of_fp32_groups`` and its
  gradient live on the CPU, one partition per rank); the 16-bit weights are
  partitioned at stage 3 only. Without ZeRO (one GPU) the rank holds all of
  it. Gradients are counted at the convention's gradient bytes, as the
  paper does (DeepSpeed accumulates them on the host in fp32: up to 2 bytes
  per trainable parameter more);
* plus pinned transfer buffers, ASSUMPTION: one staging buffer per rank the
  size of the largest trainable tensor (TP-local) in the 16-bit dtype, as
  DeepSpeed allocates (``stage_1_and_2.py``:
  ``temp_grad_buffer_for_cpu_offload``, ``largest_param_numel`` elements,
  pinned);
* a node holds min(GPUs, gpus_per_node) ranks, each counted at the worse
  pipeline stage's figure (conservative);
* usable host RAM is ``cluster.host_memory_per_node`` (default: the DGX
  system of the GPU, planner/spec/model.py); ASSUMPTION: nothing else on
  the host (data loader, page cache) is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.estimate.states import ModelStates
from planner.plan.layout import Layout
from planner.spec.model import ClusterChoice

if TYPE_CHECKING:
    from planner.plan.memory import PlanModel


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def zero_sharded(states: ModelStates, zero_stage: int, d: int) -> ModelStates:
    """ZeRO's per-GPU model states (Rajbhandari et al. 2020, s5, Figure 1):
    P_os shards master weights + optimizer states, P_os+g also gradients,
    P_os+g+p also the 16-bit weights, each over N_d = d ranks (ceil: the
    flat buffers are padded to a multiple of d)."""
    return ModelStates(
        master_weights=ceil_div(states.master_weights, d)
        if zero_stage >= 1
        else states.master_weights,
        optimizer_states=(
            ceil_div(states.optimizer_states, d) if zero_stage >= 1 else states.optimizer_states
        ),
        gradients=ceil_div(states.gradients, d) if zero_stage >= 2 else states.gradients,
        weights=ceil_div(states.weights, d) if zero_stage >= 3 else states.weights,
    )


def offloaded(states: ModelStates, offload: str, zero_stage: int) -> ModelStates:
    """What stays on the GPU under CPU offload (planner/plan/memory.py's
    docstring): ZeRO-1 does not partition gradients, so the full 16-bit
    gradients stay on the GPU through accumulation (DeepSpeed
    ``stage_1_and_2.py``: ``partition_gradients`` is stage >= 2); ZeRO-2/3
    (and one GPU, the paper's s4 schedule) stream them to the host per
    bucket during backward."""
    if offload == "none":
        return states
    weights = 0 if offload == "optimizer+params" else states.weights
    grads = states.gradients if zero_stage == 1 else 0
    return ModelStates(master_weights=0, weights=weights, gradients=grads, optimizer_states=0)


@dataclass(frozen=True)
class HostMemory:
    """Host RAM one node needs for CPU offload, per component (bytes)."""

    master_weights: int
    optimizer_states: int
    gradients: int
    weights: int  # 16-bit weights (optimizer+params only)
    pinned_buffers: int
    ranks: int  # GPUs (ranks) on the node
    usable: int  # cluster.host_memory_per_node in bytes

    @property
    def total(self) -> int:
        return (
            self.master_weights
            + self.optimizer_states
            + self.gradients
            + self.weights
            + self.pinned_buffers
        )

    @property
    def fits(self) -> bool:
        return self.total <= self.usable


def host_states(full: ModelStates, lay: Layout) -> ModelStates:
    """One rank's offloaded share of its (TP/PP-local) model states."""
    if lay.offload == "none":
        return ModelStates(0, 0, 0, 0)
    z, stage = lay.z, lay.zero_stage
    part = (lambda x: ceil_div(x, z)) if stage >= 1 else (lambda x: x)
    weights = 0
    if lay.offload == "optimizer+params":
        weights = ceil_div(full.weights, z) if stage >= 3 else full.weights
    return ModelStates(
        master_weights=part(full.master_weights),
        weights=weights,
        gradients=part(full.gradients),
        optimizer_states=part(full.optimizer_states),
    )


def host_memory(pm: PlanModel, lay: Layout, cl: ClusterChoice) -> HostMemory:
    """Host RAM per node under ``lay`` (module docstring)."""
    ranks = min(lay.gpus, cl.gpus_per_node)
    if lay.offload == "none":
        return HostMemory(0, 0, 0, 0, 0, ranks, cl.host_memory_bytes)
    shares = [host_states(pm.scaled_states(p, tr), lay) for p, tr in pm.stages(lay)]
    worst = max(shares, key=lambda s: s.total)
    staging = pm.conv.weight_bytes * ceil_div(pm.trainable.largest_trainable_tensor(), lay.t)
    return HostMemory(
        master_weights=ranks * worst.master_weights,
        optimizer_states=ranks * worst.optimizer_states,
        gradients=ranks * worst.gradients,
        weights=ranks * worst.weights,
        pinned_buffers=ranks * staging,
        ranks=ranks,
        usable=cl.host_memory_bytes,
    )
