"""Plain records the report templates lay out. Raw numbers where a chart or
a test needs them, preformatted strings (planner.units) for the text; the
templates do no arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.units import fmt_bytes


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells (the Markdown macro escapes them).
    ``align`` holds one of "l" or "r" per column."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.align:
            object.__setattr__(self, "align", ("l",) + ("r",) * (len(self.header) - 1))
        assert all(len(r) == len(self.header) for r in self.rows), self.header


@dataclass(frozen=True)
class Chart:
    key: str  # file stem and id prefix
    number: int  # figure number in the report
    title: str
    caption: str  # what to read from it
    svg: str

    @property
    def filename(self) -> str:
        return f"{self.key}.svg"


@dataclass(frozen=True)
class Note:
    """A titled sentence: a difference explained, a seed mistake, a risk."""

    title: str
    text: str


@dataclass(frozen=True)
class Figure:
    """An assumed or sourced figure for the assumptions table."""

    name: str
    value: str
    source: str


@dataclass
class Sections:
    """Optional content, filled by the section builders."""

    budget: Table | None = None
    budget_notes: list[str] = field(default_factory=list)
    purchase: Table | None = None
    purchase_ownership: bool = False  # the purchase table is cluster.ownership's rent-vs-buy
    comparison: Table | None = None
    differences: list[Note] = field(default_factory=list)
    seed_mistakes: list[Note] = field(default_factory=list)
    precision: Table | None = None
    inference: Table | None = None
    inference_notes: list[str] = field(default_factory=list)
    plan_layout: Table | None = None
    plan_memory: Table | None = None
    optimizations: Table | None = None
    findings: Table | None = None
    alternatives: Table | None = None
    near_misses: Table | None = None
    time_cost: Table | None = None
    sensitivity: Table | None = None
    time_notes: list[str] = field(default_factory=list)
    finetuning: Table | None = None  # full vs LoRA vs QLoRA (planner/report/finetuning.py)
    finetuning_notes: list[str] = field(default_factory=list)


def gib(n: float) -> str:
    """The reports' table unit: GiB with two decimals."""
    return fmt_bytes(n, "GiB", 2)


def gib_gb(n: float) -> str:
    return f"{fmt_bytes(n, 'GiB', 2)} ({fmt_bytes(n, 'GB', 2)})"
