"""The comparison's chart: cost against duration, one point per priced
option with its low-high range as error bars, the Pareto front ringed and
joined, infeasible options as crosses. Deterministic SVG with real text, as
every report chart (planner/report/svgplot.py: legend below the plot, USD
axis in k/M)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.report.charts import PALETTE, _svg, usd_tick
from planner.report.svgplot import Axis, Figure


@dataclass(frozen=True)
class Point:
    label: str
    days: float
    days_low: float
    days_high: float
    usd: float
    usd_low: float
    usd_high: float
    feasible: bool
    pareto: bool
    recommended: bool


def cost_duration(points: Sequence[Point], max_days: float | None = None) -> str:
    """USD (y) against days (x) for each priced option, with its low-high
    ranges as error bars; the Pareto front (options no other beats on both)
    ringed and joined by a dashed line; infeasible options as crosses."""
    fig = Figure("Cost against duration, one point per option",
                 xlabel="duration (days; bars: low to high range)",
                 left=Axis("cost (USD, before contingency)", usd_tick), x_zero=True)  # fmt: skip
    for i, p in enumerate(points):
        label = p.label + ("" if p.feasible else " (infeasible)")
        label += " (recommended)" if p.recommended else ""
        fig.point(p.days, p.usd, PALETTE[i % len(PALETTE)], label, "big" if p.feasible else "x",
                  (p.days_low, p.days_high), (p.usd_low, p.usd_high), p.label)  # fmt: skip
    front = sorted((p for p in points if p.pareto), key=lambda p: p.days)
    if front:  # ringed and joined: no other option is both faster and cheaper
        fig.line([p.days for p in front], [p.usd for p in front], "#000000", "Pareto front",
                 "O", dash="--")  # fmt: skip
    if max_days is not None:
        fig.vline(max_days, "#b22222", "-.", f"deadline (max_days {max_days:g})")
    return _svg(fig)
