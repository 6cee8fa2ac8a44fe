"""The comparison as JSON (``planner compare --format json``) and as text.

JSON keys (docs/plan.md, "planner compare"): ``objective``,
``objective_text``, ``objective_note``, ``options`` (in the order the specs
were given, each with its ``rank``), ``recommended`` (an option's name, or
null when none is feasible), ``why``, ``units``.
"""

from __future__ import annotations

from typing import Any

from planner.compare.options import NO_PRICE, Comparison, Option
from planner.report.records import Table
from planner.units import fmt_duration_range, fmt_int, fmt_usd


def option_dict(o: Option) -> dict[str, Any]:
    return {
        "name": o.name,
        "title": o.title,
        "spec": o.source,
        "rank": o.rank,
        "feasible": o.feasible,
        "priced": o.priced,
        "status": o.status,
        "failures": [{"id": f.id, "message": f.message} for f in o.failures],
        "pareto": o.pareto,
        "gpu": o.gpu,
        "gpu_name": o.gpu_name,
        "gpus": o.gpus,
        "nodes": o.nodes,
        "layout": o.layout,
        "days": o.days,
        "days_low": o.days_low,
        "days_high": o.days_high,
        "gpu_hours": o.gpu_hours,
        "gpu_hours_low": o.gpu_hours_low,
        "gpu_hours_high": o.gpu_hours_high,
        "usd": o.usd,
        "usd_low": o.usd_low,
        "usd_high": o.usd_high,
        "price_per_gpu_hour": o.price_per_gpu_hour,
        "price_source": o.price_source,
        "contingency": o.contingency,
        "contingency_usd": o.contingency_usd,
        "total_usd": o.total_usd,
        "objective": o.objective,
        "cost": o.cost,
    }


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {
        "units": {"time": "days", "cost": "USD"},
        "objective": c.objective,
        "objective_text": c.objective_text,
        "objective_note": c.objective_note,
        "options": [option_dict(o) for o in c.options],
        "recommended": c.recommended.name if c.recommended else None,
        "why": c.why,
    }


def usd_text(o: Option) -> str:
    if o.usd is None or o.usd_low is None or o.usd_high is None:
        return NO_PRICE
    return f"{fmt_usd(o.usd)} ({fmt_usd(o.usd_low)} to {fmt_usd(o.usd_high)})"


def days_text(o: Option) -> str:
    return f"{o.days:,.1f} ({fmt_duration_range(o.days_low * 86400, o.days_high * 86400, like=o.days * 86400)})"  # noqa: E501


def options_table(c: Comparison) -> Table:
    """One row per option, in the order the specs were given."""
    rows = []
    for o in c.options:
        mark = " *" if c.recommended is o else ""
        rows.append((
            f"{o.rank}", o.name + mark, o.gpu_name, fmt_int(o.gpus), days_text(o),
            f"{o.gpu_hours:,.0f}", usd_text(o), o.status,
        ))  # fmt: skip
    head = ("rank", "option", "GPU", "GPUs", "days (range)", "GPU-hours",
            "USD expected (range)", "status")  # fmt: skip
    return Table(head, tuple(rows), ("r", "l", "l", "r", "r", "r", "r", "l"))


def recommendation_text(c: Comparison) -> str:
    r = c.recommended
    if r is None:
        return "No option meets its constraints: nothing is recommended and no money is requested."
    total = "" if r.total_usd is None else f", {fmt_usd(r.total_usd)} with contingency"
    return (
        f"Recommended: {r.name} ({fmt_int(r.gpus)} x {r.gpu_name}, {r.days:,.1f} days,"
        f" {usd_text(r)}{total}). Why: {c.why}."
    )


def render_text(c: Comparison) -> str:
    t = options_table(c)
    cells = [t.header, *t.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(t.header))]

    def line(row: tuple[str, ...]) -> str:
        out = [
            cell.rjust(w) if a == "r" else cell.ljust(w)
            for cell, w, a in zip(row, widths, t.align, strict=True)
        ]
        return "  ".join(out).rstrip()

    lines = [f"Objective: {c.objective_text}"]
    if c.objective_note:
        lines.append(f"Note: {c.objective_note}")
    lines += ["", line(t.header), line(tuple("-" * w for w in widths))]
    lines += [line(r) for r in t.rows]
    lines += ["", recommendation_text(c)]
    front = [o.name for o in c.options if o.pareto]
    if front:
        lines.append("Pareto front (no option is both faster and cheaper): " + ", ".join(front))
    return "\n".join(lines)
