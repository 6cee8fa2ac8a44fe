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
from planner.units import fmt_int, fmt_pct, fmt_usd, money_lines


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


def short_status(o: Option) -> str:
    """The table's status cell; the failures in full go in ``notes``."""
    if not o.feasible:
        return "infeasible: " + ", ".join(f.id for f in o.failures)
    return "feasible" if o.priced else "feasible, no price"


def options_table(c: Comparison) -> Table:
    """One row per option, in the order the specs were given."""
    rows = []
    for o in c.options:
        mark = " *" if c.recommended is o else ""
        rows.append((
            o.name + mark, f"{o.rank}", o.gpu_name, fmt_int(o.gpus), fmt_int(o.nodes),
            f"{o.days:,.1f}", f"{o.gpu_hours:,.0f}",
            "no price" if o.usd is None else fmt_usd(o.usd), short_status(o),
        ))  # fmt: skip
    head = ("option", "rank", "GPU", "GPUs", "nodes", "days", "GPU-hours", "USD", "status")
    return Table(head, tuple(rows), ("l", "r", "l", "r", "r", "r", "r", "r", "l"))


def ranges_table(c: Comparison) -> Table:
    """Each option's days and USD from the fast end (high MFU, high goodput)
    to the slow end (low MFU, low goodput) of its plan."""
    rows = []
    for o in c.options:
        usd = (
            "no price"
            if o.usd_low is None or o.usd_high is None
            else f"{fmt_usd(o.usd_low)} to {fmt_usd(o.usd_high)}"
        )
        rows.append((o.name, f"{o.days_low:,.1f} to {o.days_high:,.1f}", usd))
    return Table(("option", "days, fast to slow end", "USD, fast to slow end"), tuple(rows),
                 ("l", "l", "l"))  # fmt: skip


def notes(c: Comparison) -> list[str]:
    """The objective, and each option that is infeasible (its failing
    findings in full) or has no price."""
    out = [f"Objective: {c.objective_text}."]
    if c.objective_note:
        out.append(f"Note: {c.objective_note}.")
    for o in c.ranked:
        if not o.feasible:
            why = "; ".join(f"{f.id}: {f.message}" for f in o.failures)
            out.append(f"{o.name} is infeasible: {why}.")
        elif not o.priced:
            out.append(f"{o.name} has {NO_PRICE}; it ranks after the priced options.")
    out += [n for o in c.options if (n := _pricing_note(o))]
    sources = {(o.cost.get("price_citation"), o.cost.get("price_date")) for o in c.options}
    sources.discard((None, None))
    if len(sources) > 1:
        out.append(
            f"The on-demand prices come from {len(sources)} different sources or dates (see the"
            " spec files table): the ranking is only as good as that basis; compare quotes"
            " for the same terms before deciding."
        )
    return out


def _pricing_note(o: Option) -> str:
    """What a reserved or owned option's USD leaves out or pays for
    (planner/pricing.py): the whole reserved term, the up-front capital."""
    c = o.cost
    if c.get("pricing_model") == "reserved" and c.get("unused_reserved_gpu_hours"):
        return (
            f"{o.name} pays whole {c['term_months']:g}-month terms: its USD includes"
            f" {c['unused_reserved_gpu_hours']:,.0f} reserved GPU-hours the run does not use."
        )
    own = c.get("ownership") or {}
    if c.get("pricing_model") == "owned" and own.get("capital_usd"):
        return (
            f"{o.name} is bought: its USD is the cost of ownership of this run's GPU-hours"
            f" (USD {c['owned_usd_per_gpu_hour']:,.2f} per GPU-hour: the capital spread over"
            f" {own.get('depreciation_years', 0):g} years at"
            f" {fmt_pct(own.get('utilization', 0), 0)} utilisation, plus power and hosting);"
            f" the purchase itself, {fmt_usd(own['capital_usd'])} for {fmt_int(o.gpus)} GPUs"
            f" with {fmt_pct(own['infrastructure_overhead'], 0)} for servers, network and"
            " storage, is paid up front."
        )
    return ""


def recommendation(c: Comparison) -> tuple[str, str]:
    """(headline, detail) of the recommendation."""
    r = c.recommended
    if r is None:
        return (
            "INFEASIBLE: no option meets its constraints.",
            "Nothing is recommended and no money is requested; the notes say what fails.",
        )
    money = "no price" if r.usd is None else fmt_usd(r.usd)
    if r.total_usd is not None and r.usd is not None:
        total = money_lines(r.usd, r.contingency)[2]
        money += f", {total} with the {fmt_pct(r.contingency, 0)} contingency"
    detail = (
        f"{fmt_int(r.gpus)} x {r.gpu_name}, {r.days:,.1f} days, {r.gpu_hours:,.0f} GPU-hours,"
        f" {money}. Why: {c.why}."
    )
    return f"Recommended: {r.name}.", detail


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

    lines = [line(t.header), line(tuple("-" * w for w in widths))]
    lines += [line(r) for r in t.rows]
    lines += ["", "Ranges (fast end to slow end of each plan):"]
    lines += [f"  {n}: {d} days, {u}" for n, d, u in ranges_table(c).rows]
    lines += ["", " ".join(recommendation(c)), ""]
    lines += [f"- {n}" for n in notes(c)]
    front = [o.name for o in c.options if o.pareto]
    if front:
        lines.append("- Pareto front (no other option is both faster and cheaper): "
                     + ", ".join(front))  # fmt: skip
    return "\n".join(lines)
