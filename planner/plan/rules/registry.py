"""The rule registry: small functions with stable ids (REC-001 ...).

Each rule reads a finished ``Plan`` and returns the findings it fires on,
with the decisive numbers as evidence (planner.findings). Ids are never
reused. The docstring of each rule says what it recommends, why, the
formula and the source; ``planner rules ID`` prints it, and the report's
appendix quotes it next to every finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from planner.findings import Finding
from planner.plan.result import Plan

Rule = Callable[[Plan], list[Finding]]
RULES: dict[str, Rule] = {}
SOURCES: dict[str, str] = {}  # rule id -> the source its reasoning rests on


def add_rule(
    rules: dict[str, Any], sources: dict[str, str], rule_id: str, source: str
) -> Callable[[Any], Any]:
    """A decorator that adds a rule to ``rules`` under a stable id, with the
    source of its reasoning (shared by the training and serving registries)."""

    def deco(fn: Any) -> Any:
        if rule_id in rules:
            raise ValueError(f"duplicate rule id {rule_id}")
        rules[rule_id] = fn
        sources[rule_id] = source
        return fn

    return deco


def register(rule_id: str, source: str) -> Callable[[Rule], Rule]:
    """Add a training rule under a stable id (pycodestyle's ``register_check``)."""
    return add_rule(RULES, SOURCES, rule_id, source)


def run_rules(plan: Plan) -> tuple[Finding, ...]:
    """Every registered rule on ``plan``, in id order; each finding carries
    its rule's source."""
    out: list[Finding] = []
    for rid in sorted(RULES):
        out += [replace(f, source=SOURCES[rid]) for f in RULES[rid](plan)]
    return tuple(out)


def gpus_text(plan: Plan) -> str:
    return f"{plan.layout.gpus} x {plan.cluster.gpu.name}"
