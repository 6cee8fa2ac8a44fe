"""What-if figures for the report: the chosen layout with one thing changed.

This is the only report module that calls the planner's functions
(planner.plan.memory.gpu_memory, planner.plan.timing.run_time) instead of
reading the plan's JSON: the charts and tables need the same memory and time
model evaluated at layouts the plan did not choose. The layout itself is
read back from the plan's JSON keys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from planner.estimate.compute import training_flops
from planner.estimate.params import count_parameters
from planner.estimate.states import convention
from planner.plan.layout import Layout
from planner.plan.memory import GpuMemory, PlanModel, gpu_memory, usable_memory_per_gpu
from planner.plan.timing import RunTime, run_time
from planner.report.budget import cluster_for
from planner.spec.model import ClusterChoice, Spec

LAYOUT_KEYS = (
    "tensor_parallel", "pipeline_parallel", "data_parallel", "context_parallel",
    "expert_parallel", "sequence_parallel", "virtual_pipeline_stages", "zero_stage",
    "zero_shard_group", "recompute", "micro_batch_size", "offload",
)  # fmt: skip


@dataclass(frozen=True)
class WhatIf:
    """The chosen layout and the model facts to re-evaluate it."""

    spec: Spec
    pm: PlanModel
    cluster: ClusterChoice
    layout: Layout
    usable: int

    def memory(self, lay: Layout) -> GpuMemory:
        return gpu_memory(self.pm, lay, self.usable)

    def time(self, lay: Layout, mfu: float | None = None) -> RunTime:
        t = self.spec.training
        assert t is not None
        flops = training_flops(self.spec.model, self.pm.counts, t.sequence_length, lay.recompute)
        return run_time(self.pm, self.cluster, lay, flops, mfu or self.cluster.mfu.expected)


def layout_of(row: dict[str, Any], spec: Spec) -> Layout:
    """A layout read back from a plan JSON row (``plan``, an alternative or a
    near-miss: they share the layout keys)."""
    fields = {k: row[k] for k in LAYOUT_KEYS if k in row}
    return Layout(**fields, global_batch_size=spec.global_batch_size)


def what_if(plan: dict[str, Any], spec: Spec) -> WhatIf:
    t = spec.training
    assert t is not None
    p = plan["plan"]
    lay = layout_of(p, spec)
    conv = convention(t.precision, t.gradient_precision)
    pm = PlanModel(spec, count_parameters(spec.model), conv)
    cl = cluster_for(spec, p["gpu"])
    return WhatIf(spec, pm, cl, lay, usable_memory_per_gpu(spec, cl.gpu.memory_bytes))


def _powers_of_two(limit: int) -> list[int]:
    out, n = [], 1
    while n <= limit:
        out.append(n)
        n *= 2
    return out


def zero_sweep(w: WhatIf) -> dict[str, list[tuple[int, int]]]:
    """Memory per GPU of the chosen layout's model-parallel group (t, p) with
    d = 1, 2, 4, ... data-parallel replicas, for ZeRO stages 0-3 (no
    offload), up to four times the spec's GPU limit (at least d = 16). ZeRO stages need d > 1
    to shard anything; d must divide the global batch with the micro-batch."""
    lay = replace(w.layout, offload="none")
    mp = lay.t * lay.p * lay.c
    B = w.spec.global_batch_size
    ds = [
        d
        for d in _powers_of_two(max(4 * w.cluster.max_gpus // mp, 16))
        if B % (lay.micro_batch_size * d) == 0
    ]
    out: dict[str, list[tuple[int, int]]] = {}
    for z in range(4):
        pts = [(mp * d, w.memory(replace(lay, zero_stage=z, data_parallel=d)).total) for d in ds]
        out[f"ZeRO-{z}" if z else "ZeRO-0 (plain data parallel)"] = pts
    return out


def gpu_sweep(w: WhatIf) -> list[tuple[int, float, float | None]]:
    """(GPUs, days, USD) of the chosen layout with the data-parallel degree
    scaled by powers of two, up to the spec's GPU limit, where it fits."""
    lay = w.layout
    mp = lay.t * lay.p * lay.c
    B = w.spec.global_batch_size
    out = []
    for d in _powers_of_two(max(w.cluster.max_gpus // mp, 1)):
        if B % (lay.micro_batch_size * d) or (d == 1 and lay.zero_stage):
            continue
        cand = replace(lay, data_parallel=d)
        if not w.memory(cand).fits:
            continue
        rt = w.time(cand)
        out.append((cand.gpus, rt.days, rt.usd))
    return out


def mfu_days(w: WhatIf, factors: tuple[float, ...] = (0.8, 1.0, 1.2)) -> dict[float, float]:
    """Duration of the chosen layout at the expected MFU times each factor."""
    e = w.cluster.mfu.expected
    return {f: w.time(w.layout, min(e * f, 1.0)).days for f in factors}


def switched_off(w: WhatIf) -> list[tuple[str, GpuMemory, RunTime]]:
    """The chosen layout with each applied optimization switched off."""
    lay, out = w.layout, []
    if lay.zero_stage:
        off = replace(lay, zero_stage=0)
        out.append((f"ZeRO-{lay.zero_stage} (vs plain data parallel)", off))
    if lay.recompute != "none":
        out.append((f"{lay.recompute} recompute (vs none)", replace(lay, recompute="none")))
    if lay.offload != "none":
        out.append((f"CPU offload of {lay.offload} (vs none)", replace(lay, offload="none")))
    if lay.t > 1 and lay.sequence_parallel:
        out.append(("sequence parallelism (vs none)", replace(lay, sequence_parallel=False)))
    return [(name, w.memory(x), w.time(x)) for name, x in out]
