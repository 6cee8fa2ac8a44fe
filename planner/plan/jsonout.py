"""``plan_to_dict(plan)``: the JSON of ``planner plan --format json``.

Keys are stable (docs/plan.md lists them). Memory in bytes (integers),
time in seconds/days/hours, cost in USD. ``plan.memory_per_gpu.total`` is
the sum of every listed component: weights (16-bit working weights),
master_weights (fp32 copy), gradients, optimizer_states (e.g. Adam m and
v), activations, other (= temporary + communication + fragmentation,
detailed in ``other_detail``).
"""

from __future__ import annotations

from typing import Any

from planner.plan.costout import bill_of_materials, energy_dict, pricing_fields
from planner.plan.deepspeed import deepspeed_estimate
from planner.plan.feasibility import feasibility
from planner.plan.memory import GpuMemory
from planner.plan.result import Plan
from planner.plan.search import NO_PRICE, Candidate, objective_text
from planner.plan.timing import RunTime, range_meaning

BYTES_PER_PARAM_NOTE = (
    "ZeRO (Rajbhandari et al. 2020 s3.1): 16 bytes/param for mixed-precision Adam with"
    " 16-bit gradients (2 weights + 2 gradients + 4 fp32 master + 8 Adam m, v); 18 with"
    " fp32 gradients (training.gradient_precision: fp32, as Megatron-LM)"
)


def _layout(c: Candidate) -> dict[str, Any]:
    lay = c.layout
    return {
        "gpu": c.cluster.gpu.key,
        "gpus": lay.gpus,
        "nodes": lay.nodes(c.cluster.gpus_per_node),
        "tensor_parallel": lay.t,
        "pipeline_parallel": lay.p,
        "data_parallel": lay.d,
        "context_parallel": lay.c,
        "expert_parallel": lay.e,
        "sequence_parallel": lay.sequence_parallel,
        "virtual_pipeline_stages": lay.v,
        "zero_stage": lay.zero_stage,
        "zero_shard_group": lay.z,
        "recompute": lay.recompute,
        "offload": lay.offload,
        "micro_batch_size": lay.micro_batch_size,
        "num_microbatches": lay.num_microbatches,
    }


def memory_dict(m: GpuMemory) -> dict[str, Any]:
    """Per-GPU memory by component (bytes); ``total`` is their sum."""
    return {
        "weights": m.weights,
        "master_weights": m.master_weights,
        "gradients": m.gradients,
        "optimizer_states": m.optimizer_states,
        "activations": m.activations,
        "other": m.other,
        "total": m.total,
        "other_detail": {
            "temporary": m.temporary,
            "communication": m.communication,
            "fragmentation": m.fragmentation,
        },
        "stage": m.stage,
    }


def _row(c: Candidate) -> dict[str, Any]:
    out = _layout(c)
    out["fits"] = c.fits
    out["memory_per_gpu_total"] = c.memory.total if c.memory else c.states_bytes
    if c.memory is not None:
        out["memory_per_gpu"] = memory_dict(c.memory)
    out["usable_memory_per_gpu"] = c.usable
    if c.time is not None:
        out.update(days=c.time.days, gpu_hours=c.time.gpu_hours, usd=c.time.usd)
        if c.time.usd is None:
            out["price_status"] = NO_PRICE
    if c.reason:
        out["reason"] = c.reason
    return out


def mfu_end_to_end(plan: Plan, rt: RunTime) -> float:
    """Model FLOPs per step / (GPUs x dense peak x step time): the MFU a
    user measures on a real run (PaLM's definition, Chowdhery et al. 2022
    App. B: model FLOPs, no recomputation; over the whole step, bubble and
    exposed communication included). The spec's ``mfu`` is the kernel MFU
    of the compute part only (docs/plan.md, Time model)."""
    t, lay = plan.spec.training, plan.layout
    assert t is not None
    model_flops = plan.flops[lay.recompute].model_per_token * lay.global_batch_size
    model_flops *= t.sequence_length
    peak = plan.cluster.gpu.compute_peak(plan.model.conv.compute_dtype)
    return model_flops / (lay.gpus * peak * rt.step.total)


def _time(plan: Plan) -> dict[str, Any]:
    r = plan.times
    e, lo, hi = r["expected"], r["low"], r["high"]
    st = e.step
    return {
        "step_seconds": st.total,
        "step_seconds_low": lo.step.total,
        "step_seconds_high": hi.step.total,
        "step_breakdown_seconds": {k: v for k, v in vars(st).items() if k != "mfu"},
        "steps": e.steps,
        "mfu": {"low": hi.step.mfu, "expected": st.mfu, "high": lo.step.mfu},
        "mfu_end_to_end": mfu_end_to_end(plan, e),
        "mfu_end_to_end_low": mfu_end_to_end(plan, hi),
        "mfu_end_to_end_high": mfu_end_to_end(plan, lo),
        "days": e.days,
        "days_low": lo.days,
        "days_high": hi.days,
        "gpu_hours": e.gpu_hours,
        "gpu_hours_low": lo.gpu_hours,
        "gpu_hours_high": hi.gpu_hours,
        "gpu_hours_steady": e.gpu_hours_steady,
        "gpu_hours_steady_low": lo.gpu_hours_steady,
        "gpu_hours_steady_high": hi.gpu_hours_steady,
        "tokens_per_second": e.tokens_per_second,
        "tokens_per_second_low": hi.tokens_per_second,
        "tokens_per_second_high": lo.tokens_per_second,
        "range_meaning": range_meaning(plan.spec),
    }


def deepspeed_figure(plan: Plan) -> int | None:
    """DeepSpeed's estimator for the same layout (planner/plan/deepspeed.py),
    with N = the ranks the states are sharded over (the shard group under
    hybrid sharding: DeepSpeed's MiCS shards within it)."""
    t, lay = plan.spec.training, plan.layout
    assert t is not None
    return deepspeed_estimate(
        plan.counts, t.precision, t.optimizer, lay.t, lay.p, lay.zero_stage, lay.z,
        lay.offload, plan.model.trainable.full,
    )  # fmt: skip


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    m, s, cl = plan.memory, plan.spec, plan.cluster
    p = _layout(plan.best)
    p["fits"] = plan.fits
    p["memory_per_gpu"] = memory_dict(m)
    p["usable_memory_per_gpu"] = m.usable
    p["usable_memory_definition"] = "device memory (driver-reported where known) - CUDA context"
    p["margin_bytes"] = m.margin
    p["bytes_per_param_convention"] = BYTES_PER_PARAM_NOTE
    p["model_states_per_gpu"] = m.model_states
    p["deepspeed_estimator_model_states"] = deepspeed_figure(plan)
    ts = plan.model.trainable
    p["trainable"] = {"kind": ts.kind, "parameters": ts.trainable, "frozen": ts.frozen}
    h = plan.host
    p["host_memory_per_node"] = h.total
    p["host_memory_per_node_detail"] = {
        "master_weights": h.master_weights,
        "optimizer_states": h.optimizer_states,
        "gradients": h.gradients,
        "weights": h.weights,
        "pinned_buffers": h.pinned_buffers,
        "ranks": h.ranks,
    }
    p["usable_host_memory_per_node"] = h.usable
    p["usable_host_memory_source"] = cl.host_memory_source
    e, lo, hi = (plan.times[k] for k in ("expected", "low", "high"))
    fz = feasibility(plan)
    methods = [vars(r) for r in plan.methods] if plan.methods else None
    return {
        "spec": {"name": s.name, "title": s.title, "source": s.source},
        "units": {"memory": "bytes", "time": "seconds", "cost": "USD"},
        "feasible": fz.feasible,
        "feasibility": fz.to_dict(),
        "objective": s.objective,
        "objective_text": objective_text(s),
        "plan": p,
        "time": _time(plan),
        "cost": {
            "usd": e.usd,
            "usd_low": lo.usd,
            "usd_high": hi.usd,
            "price_per_gpu_hour": cl.price_per_gpu_hour,
            "price_source": cl.price_source,
            "mfu_source": cl.mfu_source,
            **pricing_fields(plan),
        },
        "energy": energy_dict(plan),
        "bill_of_materials": bill_of_materials(plan),
        "assumptions": s.assumptions.model_dump(),
        "findings": [f.to_dict() for f in plan.findings],
        "finetuning_methods": methods,
        "alternatives": [_row(c) for c in plan.alternatives],
        "near_misses": [_row(c) for c in plan.search.near_misses],
        "search": {"evaluated": plan.search.evaluated, "feasible": len(plan.search.ranked)},
    }
