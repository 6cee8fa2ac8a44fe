"""The parallel-layout planner: ``make_plan(spec) -> Plan`` and its JSON.

Modules: layout (the Layout record), memory (per-GPU memory), timing (step
time, run time, cost), search (enumerate and rank layouts), rules
(recommendations REC-xxx), jsonout (``plan_to_dict``), text (terminal),
serving (inference specs: GPUs per replica, throughput, cost).
"""

from typing import Any

from planner.plan.jsonout import plan_to_dict
from planner.plan.layout import Layout
from planner.plan.make import make_plan
from planner.plan.result import Finding, Plan
from planner.spec.model import Spec


def plan_json(spec: Spec) -> dict[str, Any]:
    """The JSON of `planner plan` for any spec: a training plan, or a serving
    plan for an inference spec (planner.plan.serving)."""
    if spec.inference is not None:
        from planner.plan.serving import make_serving_plan, serving_to_dict

        return serving_to_dict(make_serving_plan(spec))
    return plan_to_dict(make_plan(spec))


__all__ = ["Finding", "Layout", "Plan", "make_plan", "plan_json", "plan_to_dict"]
