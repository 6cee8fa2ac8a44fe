"""The parallel-layout planner: ``make_plan(spec) -> Plan`` and its JSON.

Modules: layout (the Layout record), memory (per-GPU memory), timing (step
time, run time, cost), search (enumerate and rank layouts), rules
(recommendations REC-xxx), jsonout (``plan_to_dict``), text (terminal).
"""

from planner.plan.jsonout import plan_to_dict
from planner.plan.layout import Layout
from planner.plan.make import make_plan
from planner.plan.result import Finding, Plan

__all__ = ["Finding", "Layout", "Plan", "make_plan", "plan_to_dict"]
