"""The comparison's chart: cost against duration, one point per priced
option with its low-high range as error bars, the Pareto front ringed and
joined, infeasible options as crosses. Deterministic SVG with real text, as
every report chart (planner/report/charts.py: fixed hashsalt, no date,
legend outside the plot, USD axis in k/M)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.report.charts import PALETTE, _figure, _svg, usd_tick


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
    """USD (y) against days (x) for each priced option; the Pareto front
    (options no other beats on both) ringed and joined by a dashed line."""
    with _figure() as (fig, ax):
        for i, p in enumerate(points):
            colour = PALETTE[i % len(PALETTE)]
            ax.errorbar(
                [p.days],
                [p.usd],
                xerr=[[p.days - p.days_low], [p.days_high - p.days]],
                yerr=[[p.usd - p.usd_low], [p.usd_high - p.usd]],
                fmt="o" if p.feasible else "x",
                markersize=9 if p.recommended else 6,
                color=colour,
                ecolor=colour,
                elinewidth=0.8,
                capsize=3,
                alpha=1.0 if p.feasible else 0.6,
                label=p.label
                + ("" if p.feasible else " (infeasible)")
                + (" (recommended)" if p.recommended else ""),
            )
            ax.annotate(p.label, (p.days, p.usd), textcoords="offset points", xytext=(6, 6),
                        fontsize=8)  # fmt: skip
        front = sorted((p for p in points if p.pareto), key=lambda p: p.days)
        if front:  # ringed and joined: no other option is both faster and cheaper
            ax.plot([p.days for p in front], [p.usd for p in front], color="black",
                    linestyle="--", linewidth=1.2, marker="o", markersize=14,
                    markerfacecolor="none", label="Pareto front")  # fmt: skip
        if max_days is not None:
            ax.axvline(max_days, color="#b22222", linestyle="-.", linewidth=1.0,
                       label=f"deadline (max_days {max_days:g})")  # fmt: skip
        ax.set_xlabel("duration (days; bars: low to high range)")
        ax.set_ylabel("cost (USD, before contingency)")
        ax.yaxis.set_major_formatter(usd_tick)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title("Cost against duration, one point per option")
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False,
                   ncols=2)  # fmt: skip
        return _svg(fig)
