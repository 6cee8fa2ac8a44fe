"""The report's fine-tuning section: full fine-tuning vs LoRA vs QLoRA side
by side (memory per GPU, GPUs, time, cost), from the plan JSON's
``finetuning_methods`` (planner/plan/methods.py); no arithmetic beyond
formatting."""

from __future__ import annotations

from typing import Any

from planner.report.records import Table, gib
from planner.units import fmt_int, fmt_usd

NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def _name(method: str) -> str:
    return NAMES.get(method, method)


def finetuning_table(plan: dict[str, Any]) -> tuple[Table | None, list[str]]:
    rows_in = plan.get("finetuning_methods") or []
    if not rows_in:
        return None, []
    rows = []
    for r in rows_in:
        name = _name(r["method"]) + (" (this spec)" if r["is_spec"] else "")
        if r["fits"]:
            gpus, days = str(r["gpus"]), f"{r['days']:,.2f} days"
            usd = "-" if r["usd"] is None else fmt_usd(r["usd"])
            mem = f"{gib(r['memory_per_gpu'])} of {gib(r['usable'])}"
        else:
            need = r["min_gpus"]
            gpus = f"does not fit ({'needs ' + str(need) if need else 'no layout fits'})"
            days, usd = "-", "-"
            mem = f"{gib(r['memory_per_gpu'])} (nearest layout)"
        rows.append((name, fmt_int(r["trainable"]), mem, gpus, r["layout"], days, usd))
    table = Table(
        ("method", "trainable parameters", "memory per GPU", "GPUs", "layout", "duration",
         "cost"),
        tuple(rows),
        ("l", "r", "r", "r", "l", "r", "r"),
    )  # fmt: skip
    notes = [
        "Each method is planned with this spec's model, tokens, precision, cluster and"
        " objective (the same search, memory and time model); a method's GPUs are within"
        " cluster.max_gpus. LoRA and QLoRA use this spec's adapters (rank, targets), QLoRA"
        " an NF4 base with double quantization (Dettmers et al. 2023) unless the spec says"
        " otherwise. Whether adapters reach full fine-tuning's quality for this task is not"
        " something planner judges.",
    ]
    return table, notes
