"""``evaluate(spec) -> Result``: the one model of a run, computed once.

Data flows one way (docs/architecture.md):

    spec -> families / estimate -> plan (search, time, rules) -> sweeps -> Result
         -> outputs (text, JSON, Markdown, HTML, PDF)

Every output renders from the ``Result``: none calls the planner again.
``planner estimate`` and ``planner plan`` print the same GPUs, GPU-hours
and USD because the estimate's time and cost are the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from planner.engine import Estimate, estimate, to_dict
from planner.estimate.params import count_parameters
from planner.findings import Finding
from planner.plan.jsonout import plan_to_dict
from planner.plan.result import Plan
from planner.plan.serving import ServingPlan
from planner.plan.sweeps import Sweeps
from planner.plan.timing import RunTime
from planner.spec.model import Spec


@dataclass(frozen=True)
class Result:
    """Everything planner knows about one spec."""

    spec: Spec
    estimate: Estimate
    plan: Plan | None  # training specs
    serving: ServingPlan | None  # inference specs
    sweeps: Sweeps | None  # what-if figures around the training plan

    @property
    def findings(self) -> tuple[Finding, ...]:
        if self.plan is not None:
            return self.plan.findings
        return self.serving.findings if self.serving is not None else ()

    @property
    def feasible(self) -> bool:
        """A plan meets the spec's constraints (``planner plan`` and
        ``planner report`` exit 1 when not; planner/plan/feasibility.py)."""
        return bool(self.plan_json["feasible"])

    @cached_property
    def estimate_json(self) -> dict[str, Any]:
        """The JSON of ``planner estimate`` (planner.engine.to_dict)."""
        cluster = self.plan.cluster if self.plan is not None else None
        return to_dict(self.estimate, estimate_time(self.plan), cluster)

    @cached_property
    def plan_json(self) -> dict[str, Any]:
        """The JSON of ``planner plan``: a training or a serving plan."""
        if self.serving is not None:
            from planner.plan.serving import serving_to_dict

            return serving_to_dict(self.serving)
        assert self.plan is not None
        return plan_to_dict(self.plan)


def _time(rt: RunTime, plan: Plan) -> dict[str, Any]:
    conv = plan.model.conv
    return {
        "gpus": rt.gpus,
        "mfu": rt.step.mfu,
        "peak_tflops_per_gpu": plan.cluster.gpu.compute_peak(conv.compute_dtype) / 1e12,
        "seconds": rt.budgeted_seconds,
        "days": rt.days,
        "gpu_hours": rt.gpu_hours,
        "usd": rt.usd,
    }


def estimate_time(plan: Plan | None) -> dict[str, Any] | None:
    """The plan's low / expected / high run time and cost, in the estimate's
    keys; None when there is no plan or nothing fits (then no figure is
    printed rather than one no layout can achieve)."""
    if plan is None or not plan.fits:
        return None
    return {k: _time(plan.times[k], plan) for k in ("low", "expected", "high")}


def evaluate(spec: Spec) -> Result:
    """Estimate, plan (training or serving) and sweeps for ``spec``, once."""
    from planner.plan.make import make_plan
    from planner.plan.serving import make_serving_plan
    from planner.plan.sweeps import make_sweeps

    counts = count_parameters(spec.model)
    est = estimate(spec, counts)
    if spec.training is not None:
        plan = make_plan(spec, counts)
        return Result(spec, est, plan, None, make_sweeps(plan))
    return Result(spec, est, None, make_serving_plan(spec), None)
