"""Report sections that plug in: a builder reads the Result and returns a
``Section`` (a template and its records), or None to leave it out.

Adding a section touches three files: its template under
``templates/md/``, its builder here (``@section(order)``), and its test.
``report.md.j2`` includes every built section after the fixed ones, in
``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.pipeline import Result
from planner.report.records import Table, gib_gb

Builder = Callable[[Result], "Section | None"]
BUILDERS: list[tuple[int, Builder]] = []


@dataclass(frozen=True)
class Section:
    template: str  # path under templates/, e.g. "md/checkpoint.md.j2"
    table: Table
    notes: tuple[str, ...] = ()


def section(order: int) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        BUILDERS.append((order, fn))
        BUILDERS.sort(key=lambda ob: ob[0])
        return fn

    return deco


def build_sections(result: Result) -> list[Section]:
    return [s for _, fn in BUILDERS if (s := fn(result)) is not None]


@section(10)
def checkpoint(result: Result) -> Section | None:
    """One checkpoint of the training state: the 16-bit weights, the fp32
    master weights and the optimizer states (gradients are not saved), as
    DeepSpeed and Megatron-LM write it (DeepSpeed docs, "Model Checkpointing";
    Megatron-LM ``--save`` with the distributed optimizer). A weights-only
    export for serving is the 16-bit weights alone."""
    e: dict[str, Any] = result.estimate_json
    mem = e.get("memory")
    if mem is None:
        return None
    p, fin = mem["precise"], mem.get("finetuning")
    # LoRA / QLoRA: the frozen base is not rewritten; only the adapters are
    # (PEFT save_pretrained; trainable.py checkpoint_weight_bytes).
    saved = p["weights"] if fin is None else fin["adapter_weights"]
    full = saved + p["master_weights"] + p["optimizer_states"]
    label = "working weights" if fin is None else "adapter weights (the frozen base is not saved)"
    rows = (
        (label, gib_gb(saved)),
        ("fp32 master weights", gib_gb(p["master_weights"])),
        ("optimizer states", gib_gb(p["optimizer_states"])),
        ("one full checkpoint", gib_gb(full)),
        ("weights-only export", gib_gb(p["weights"])),
    )
    notes = (
        "Gradients are not saved. Keep at least two full checkpoints on storage while a new"
        " one is written (a crash mid-write must leave the previous one intact).",
    )
    return Section("md/checkpoint.md.j2", Table(("part", "size"), rows, ("l", "r")), notes)
