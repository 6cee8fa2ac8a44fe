"""``make_plan(spec) -> Plan``: search, time the choice, run the rules."""

from __future__ import annotations

from dataclasses import replace

from planner.errors import PlannerError
from planner.estimate.compute import training_flops
from planner.estimate.params import ParameterCounts, count_parameters
from planner.estimate.states import convention
from planner.plan.layout import RECOMPUTE_MODES
from planner.plan.memory import PlanModel, gpu_memory, usable_memory_per_gpu
from planner.plan.methods import compare_methods, is_finetuning
from planner.plan.result import Plan
from planner.plan.search import Candidate, min_gpus_to_fit, search
from planner.plan.timing import run_range
from planner.spec.model import Spec


def _nearest_miss(pm: PlanModel, misses: tuple[Candidate, ...]) -> Candidate:
    """The failing layout closest to fitting, with its full memory."""
    mem_misses = [c for c in misses if c.time is None]
    if not mem_misses:
        raise PlannerError("no valid layout: check the global batch size and parallelism keys")
    c = min(mem_misses, key=lambda x: x.over_bytes)
    if c.memory is None:
        c = replace(c, memory=gpu_memory(pm, c.layout, c.usable))
    return c


def make_plan(spec: Spec, counts: ParameterCounts | None = None, compare: bool = True) -> Plan:
    """Plan a training run (``counts``: the spec's parameter counts, when the
    caller has them; planner.pipeline.evaluate passes its own). For a
    fine-tuning spec also plan full fine-tuning, LoRA and QLoRA
    (planner/plan/methods.py); ``compare=False`` plans one such variant
    alone, without comparisons or rules."""
    from planner.plan.rules import run_rules

    t = spec.training
    if t is None:
        raise PlannerError(
            "`planner plan` plans training runs; use `planner estimate` for inference"
        )
    counts = counts or count_parameters(spec.model)
    conv = convention(t.precision, t.gradient_precision)
    pm = PlanModel(spec, counts, conv)
    flops = {
        r: training_flops(spec.model, counts, t.sequence_length, r, pm.trainable)
        for r in RECOMPUTE_MODES
    }
    usable = {c.gpu.key: usable_memory_per_gpu(spec, c.gpu.memory_bytes) for c in spec.clusters}
    result = search(pm, flops, usable)
    best = result.ranked[0] if result.ranked else _nearest_miss(pm, result.near_misses)
    assert best.memory is not None
    times = run_range(pm, best.cluster, best.layout, flops[best.layout.recompute])
    min_gpus = {}
    if not result.ranked:
        min_gpus = {c.gpu.key: min_gpus_to_fit(pm, c, usable[c.gpu.key]) for c in spec.clusters}
    plan = Plan(spec, counts, pm, flops, best, best.memory, times, result, min_gpus)
    if not compare:
        return plan
    if is_finetuning(spec):
        plan = replace(plan, methods=compare_methods(spec, plan))
    return replace(plan, findings=run_rules(plan))
