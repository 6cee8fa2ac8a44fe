"""Recommendation rules: for training plans (REC-001 ...; the registry in
planner.plan.rules.registry, the rules by what they judge: precision and
memory in ``memory``, layout and constraints in ``run``, the fine-tuning
method in ``finetune``) and for serving
plans (SRV-001 ..., ``serving``)."""

from collections.abc import Callable
from typing import Any

from planner.plan.rules import finetune, memory, run  # noqa: F401  (registers the rules)
from planner.plan.rules.registry import RULES, SOURCES, register, run_rules
from planner.plan.rules.serving import SERVING_RULES, SERVING_SOURCES, run_serving_rules


def all_rules() -> dict[str, Callable[[Any], Any]]:
    """Every rule, training and serving, by id (``planner rules``)."""
    return {**RULES, **SERVING_RULES}


__all__ = [
    "RULES",
    "SERVING_RULES",
    "SERVING_SOURCES",
    "SOURCES",
    "all_rules",
    "register",
    "run_rules",
    "run_serving_rules",
]
