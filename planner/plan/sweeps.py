"""What-if sweeps: the chosen layout with one thing changed, computed once
with the plan's own memory and time model, for the report's charts and
tables (which never call the planner themselves).

* ``zero``: memory per GPU of the chosen model-parallel group (t, p, c)
  with d = 1, 2, 4, ... data-parallel replicas, for ZeRO stages 0-3 (no
  offload), up to four times the spec's GPU limit (at least d = 16); d
  must divide the global batch with the micro-batch (Narayanan et al. 2021
  s2.2: m = B / (b d)).
* ``gpus``: (GPUs, days, USD) of the chosen layout with the data-parallel
  degree scaled by powers of two up to the GPU limit, where it fits.
* ``mfu_days``: the chosen layout's duration at the expected MFU x 0.8,
  1.0 and 1.2 (the report's sensitivity table).
* ``switched_off``: the chosen layout with each applied optimization
  (ZeRO, recompute, offload, sequence parallelism) switched off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.plan.layout import Layout
from planner.plan.memory import GpuMemory, gpu_memory
from planner.plan.result import Plan
from planner.plan.timing import RunTime, run_time

MFU_FACTORS = (0.8, 1.0, 1.2)


@dataclass(frozen=True)
class SwitchedOff:
    name: str  # "ZeRO-3 (vs plain data parallel)"
    memory: GpuMemory
    time: RunTime


@dataclass(frozen=True)
class Sweeps:
    zero: dict[str, list[tuple[int, int]]]  # series name -> (GPUs, bytes per GPU)
    gpus: list[tuple[int, float, float | None]]  # (GPUs, days, USD)
    mfu_days: dict[float, float]  # MFU factor -> days
    switched_off: list[SwitchedOff]
    usable: int  # usable memory per GPU of the chosen GPU type, bytes


def _powers_of_two(limit: int) -> list[int]:
    out, n = [], 1
    while n <= limit:
        out.append(n)
        n *= 2
    return out


def _memory(plan: Plan, lay: Layout) -> GpuMemory:
    return gpu_memory(plan.model, lay, plan.memory.usable)


def _time(plan: Plan, lay: Layout, mfu: float | None = None) -> RunTime:
    cl = plan.cluster
    mfu = mfu or cl.mfu.expected
    return run_time(
        plan.model, cl, lay, plan.flops[lay.recompute], mfu, plan.spec.assumptions.goodput
    )


def zero_sweep(plan: Plan) -> dict[str, list[tuple[int, int]]]:
    """Each ZeRO stage sharded over all d ranks; when the plan shards hybrid
    (FSDP HYBRID_SHARD / MiCS: shards of z ranks, d / z replicas), one more
    line for its stage with shards of z, so the chart shows the plan's own
    layout and not only full sharding."""
    lay = replace(plan.layout, offload="none", zero_shard_group=0)
    mp = lay.t * lay.p * lay.c
    B = plan.spec.global_batch_size
    limit = max(4 * plan.cluster.max_gpus // mp, 16)
    ds = [d for d in _powers_of_two(limit) if B % (lay.micro_batch_size * d) == 0]
    out: dict[str, list[tuple[int, int]]] = {}
    for z in range(4):
        pts = [
            (mp * d, _memory(plan, replace(lay, zero_stage=z, data_parallel=d)).total) for d in ds
        ]
        out[f"ZeRO-{z}" if z else "ZeRO-0 (plain data parallel)"] = pts
    chosen = plan.layout
    if chosen.hybrid:
        g, stage = chosen.z, chosen.zero_stage
        hybrid = replace(lay, zero_stage=stage, zero_shard_group=g)
        out[f"ZeRO-{stage} hybrid (shards of {g})"] = [
            (mp * d, _memory(plan, replace(hybrid, data_parallel=d)).total)
            for d in ds
            if d >= g and d % g == 0
        ]
    return out


def gpu_sweep(plan: Plan) -> list[tuple[int, float, float | None]]:
    lay = plan.layout
    mp = lay.t * lay.p * lay.c
    B = plan.spec.global_batch_size
    out = []
    for d in _powers_of_two(max(plan.cluster.max_gpus // mp, 1)):
        if B % (lay.micro_batch_size * d) or (d == 1 and lay.zero_stage):
            continue
        cand = replace(lay, data_parallel=d)
        if not _memory(plan, cand).fits:
            continue
        rt = _time(plan, cand)
        out.append((cand.gpus, rt.days, rt.usd))
    return out


def switched_off(plan: Plan) -> list[SwitchedOff]:
    lay, out = plan.layout, []
    if lay.zero_stage:
        out.append((f"ZeRO-{lay.zero_stage} (vs plain data parallel)", replace(lay, zero_stage=0)))
    if lay.recompute != "none":
        out.append((f"{lay.recompute} recompute (vs none)", replace(lay, recompute="none")))
    if lay.offload != "none":
        out.append((f"CPU offload of {lay.offload} (vs none)", replace(lay, offload="none")))
    if lay.t > 1 and lay.sequence_parallel:
        out.append(("sequence parallelism (vs none)", replace(lay, sequence_parallel=False)))
    return [SwitchedOff(name, _memory(plan, x), _time(plan, x)) for name, x in out]


def make_sweeps(plan: Plan) -> Sweeps:
    e = plan.cluster.mfu.expected
    return Sweeps(
        zero=zero_sweep(plan),
        gpus=gpu_sweep(plan),
        mfu_days={f: _time(plan, plan.layout, min(e * f, 1.0)).days for f in MFU_FACTORS},
        switched_off=switched_off(plan),
        usable=plan.memory.usable,
    )
