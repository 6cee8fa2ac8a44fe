"""Does the plan meet the spec's constraints, and if not, what would?

A training plan is feasible when its layout fits in GPU (and host) memory
and no rule reports an error: memory (REC-008), the deadline (REC-009),
the budget or a missing price (REC-010), an unsupported precision
(REC-001, REC-002). ``planner plan`` and ``planner report`` exit 1 when it
is not; the report then says INFEASIBLE at the top and requests no money.

``would_meet`` lists the changes that would meet each failed constraint,
read from the search itself (no new search): the smallest GPU count that
fits (planner.plan.search.min_gpus_to_fit), the shortest duration and the
lowest cost among the fitting layouts found, and the GPU count the deadline
needs by linear scaling (REC-009's evidence, a lower bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.plan.result import Plan
from planner.plan.search import NO_PRICE
from planner.spec.model import Spec


@dataclass(frozen=True)
class Feasibility:
    feasible: bool
    reasons: tuple[str, ...]  # each error finding's message ("" when feasible)
    would_meet: tuple[str, ...]  # what would meet the constraints

    def to_dict(self) -> dict[str, Any]:
        return {
            "feasible": self.feasible,
            "reasons": list(self.reasons),
            "would_meet": list(self.would_meet),
        }


def _evidence(plan: Plan, rule: str, name: str) -> float | None:
    for f in plan.findings:
        if f.id == rule:
            for e in f.evidence:
                if e.name == name and isinstance(e.value, int | float):
                    return float(e.value)
    return None


def _memory(plan: Plan) -> list[str]:
    out = []
    for key, lay in plan.min_gpus.items():
        name = next(c.gpu.name for c in plan.spec.clusters if c.gpu.key == key)
        if lay is None:
            out.append(f"{name}: no layout fits at this global batch size; lower it")
        else:
            out.append(
                f"{name}: at least {lay.gpus} GPUs fit ({lay.describe()});"
                f" set cluster.max_gpus to at least {lay.gpus}"
            )
    return out


def _deadline(plan: Plan, spec: Spec) -> list[str]:
    limit = spec.constraints.max_days
    if limit is None or plan.expected.days <= limit:
        return []
    timed = [c.time for c in plan.search.ranked if c.time is not None]
    fastest = min(t.days for t in timed) if timed else plan.expected.days
    out = [
        f"constraints.max_days of at least {fastest:,.1f} days (the fastest fitting layout found)"
    ]
    need = _evidence(plan, "REC-009", "gpus_needed_linear")
    if need is not None:
        out.append(
            f"about {need:,.0f} or more GPUs (cluster.max_gpus; linear scaling, a lower bound)"
        )
    return out


def _budget(plan: Plan, spec: Spec) -> list[str]:
    limit = spec.constraints.max_budget_usd
    if limit is None:
        return []
    if plan.expected.usd is None:
        return [f"{NO_PRICE} (cluster.price_per_gpu_hour or the GPU's price_per_gpu_hour)"]
    if plan.expected.usd <= limit:
        return []
    costs = [c.time.usd for c in plan.search.ranked if c.time and c.time.usd is not None]
    cheapest = min(costs) if costs else plan.expected.usd
    return [
        f"constraints.max_budget_usd of at least USD {cheapest:,.0f} (the cheapest fitting"
        " layout found)"
    ]


def feasibility(plan: Plan) -> Feasibility:
    errors = tuple(f.message for f in plan.findings if f.severity == "error")
    feasible = plan.fits and not errors
    if feasible:
        return Feasibility(True, (), ())
    reasons = errors or ("no layout fits in GPU memory",)
    meet = (*_memory(plan), *_deadline(plan, plan.spec), *_budget(plan, plan.spec))
    return Feasibility(False, reasons, meet)
