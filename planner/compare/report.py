"""The comparison report: records first (``build_compare_context``), then
Markdown (templates/md/compare.md.j2), HTML (that Markdown in the report
page), PDF (that HTML printed) and xlsx (planner/report/xlsx.py), written
as one set through the one writer (planner/report/writer.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from planner.compare.chart import Point, cost_duration
from planner.compare.options import NO_PRICE, Comparison
from planner.compare.output import notes, options_table, ranges_table, recommendation
from planner.errors import PlannerError
from planner.pipeline import Result
from planner.report.assumptions import assumptions_table
from planner.report.records import Chart, Table
from planner.units import fmt_int, fmt_pct, fmt_usd, money_lines

COMPARE_FORMATS = ("md", "html", "pdf", "xlsx")


@dataclass(frozen=True)
class CompareContext:
    name: str
    title: str
    version: str
    paper: str
    intro: str
    feasible: bool
    headline: str
    recommendation: str
    notes: list[str]
    options: Table
    ranges: Table
    table_notes: list[str]
    bill: Table
    bill_notes: list[str]
    specs: Table
    comparison: Comparison
    assumptions: dict[str, Table]  # option name -> its assumptions (the report's section 7)
    charts: dict[str, Chart] = field(default_factory=dict)
    generated: str | None = None  # never set: the same specs give the same bytes

    @property
    def chart_dir(self) -> str:
        return f"{self.name}_charts"


def default_name(names: Sequence[str]) -> str:
    """``compare-`` and the names' common prefix (``compare-llama-3-70b``)."""
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    prefix = re.sub(r"[-_.]+$", "", prefix)
    return f"compare-{prefix}" if prefix else "compare"


def _bill(c: Comparison) -> Table:
    rows = []
    for o in c.options:
        price = "-" if o.price_per_gpu_hour is None else fmt_usd(o.price_per_gpu_hour)
        if o.usd is None or o.contingency_usd is None or o.total_usd is None:
            money = ("no price", "-", "-")
        else:
            rate = fmt_pct(o.contingency, 0)
            subtotal, contingency, total = money_lines(o.usd, o.contingency)
            money = (subtotal, f"{contingency} ({rate})", total)
        name = o.name if o.feasible else f"{o.name} (infeasible)"
        rows.append((name, fmt_int(o.gpus), f"{o.hours:,.1f}", f"{o.gpu_hours:,.0f}", price,
                     *money))  # fmt: skip
    head = ("option", "GPUs", "hours", "GPU-hours", "USD/GPU-h", "subtotal", "contingency",
            "total")  # fmt: skip
    return Table(head, tuple(rows))


def _points(c: Comparison) -> list[Point]:
    out = []
    for o in c.options:
        if o.usd is None or o.usd_low is None or o.usd_high is None:
            continue
        out.append(Point(o.name, o.days, o.days_low, o.days_high, o.usd, o.usd_low, o.usd_high,
                         o.feasible, o.pareto, c.recommended is o))  # fmt: skip
    return out


def _chart(c: Comparison, results: list[Result]) -> Chart:
    limits = {r.spec.constraints.max_days for r in results}
    max_days = limits.pop() if len(limits) == 1 else None
    unpriced = [o.name for o in c.options if not o.priced]
    caption = (
        "Each priced option at its expected duration and cost (before contingency), with bars"
        " from the fast end to the slow end of its range; crosses are infeasible options. The"
        " Pareto front (ringed, joined by a dashed line): the options no other option beats on"
        " both duration and cost."
    )
    if unpriced:
        caption += f" Not plotted ({NO_PRICE}): {', '.join(unpriced)}."
    svg = cost_duration(_points(c), max_days)
    return Chart("cost_duration", 1, "Cost against duration", caption, svg)


def build_compare_context(
    results: list[Result], c: Comparison, name: str | None = None, charts: bool = True
) -> CompareContext:
    from planner import __version__

    names = [o.name for o in c.options]
    common = default_name(names).removeprefix("compare").lstrip("-")
    title = "Options compared: " + ", ".join(names)
    if len(names) > 3 and common:  # a title, not a list: the table names each option
        title = f"Options compared: {common}, {len(names)} options"
    intro = (
        f"{len(names)} options, one spec each, planned by planner and ranked by the objective;"
        " infeasible options and options without a price are ranked last."
    )
    specs = Table(
        ("option", "spec file", "title", "price source"),
        tuple((o.name, o.source, o.title, o.price_source) for o in c.options),
        ("l", "l", "l", "l"),
    )
    table_notes = [
        "Days and USD: expected; USD before contingency. The ranges below run from the fast end"
        " (high MFU, high goodput) to the slow end (low MFU, low goodput) of each plan.",
        "* marks the recommended option. Pareto front (no other option is both faster and"
        " cheaper): " + (", ".join(o.name for o in c.options if o.pareto) or "none") + ".",
    ]
    other_pricing = [o.name for o in c.options if o.priced and not o.cost_is_hours_x_price]
    bill_notes = [
        "GPU-hours = GPUs x wall-clock hours (hours); subtotal = GPU-hours x USD per GPU-hour;"
        " contingency = subtotal x rate; total = subtotal +"
        " contingency (rate: each spec's report.contingency). An infeasible option's total is"
        " shown for comparison, not requested. The xlsx format holds these as formulas.",
    ]
    if other_pricing:
        bill_notes.append(
            "The subtotal is the plan's cost under its pricing model, not GPU-hours x the listed"
            " price, for: " + ", ".join(other_pricing) + "."
        )
    return CompareContext(
        name=name or default_name(names),
        title=title,
        version=__version__,
        paper=results[0].spec.report.paper,
        intro=intro,
        feasible=c.recommended is not None,
        headline=recommendation(c)[0],
        recommendation=recommendation(c)[1],
        notes=notes(c),
        options=options_table(c),
        ranges=ranges_table(c),
        table_notes=table_notes,
        bill=_bill(c),
        bill_notes=bill_notes,
        specs=specs,
        comparison=c,
        assumptions={
            r.spec.name: assumptions_table(r.estimate_json, r.plan_json, r.spec) for r in results
        },
        charts={"cost_duration": _chart(c, results)} if charts else {},
    )


def parse_compare_formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in COMPARE_FORMATS]
    if bad or not fmts:
        raise PlannerError(
            f"-f: unknown report format(s) {bad}; choose from {', '.join(COMPARE_FORMATS)}"
        )
    return fmts


def render_compare_markdown(ctx: CompareContext) -> str:
    from planner.report.templating import environment

    text = environment().get_template("md/compare.md.j2").render(ctx=ctx)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def render_compare_html(ctx: CompareContext, markdown: str) -> str:
    from planner.report.render import _markdown_it
    from planner.report.templating import environment

    charts = {f"{ctx.chart_dir}/{c.filename}": (c.key, c.svg) for c in ctx.charts.values()}
    body = _markdown_it(charts).render(markdown)
    env = environment()
    css = env.get_template("html/report.css").render(ctx=ctx)
    css += env.get_template("html/compare.css").render(ctx=ctx)
    return env.get_template("html/page.html.j2").render(ctx=ctx, body=body, css=css)


def render_compare(ctx: CompareContext, formats: Sequence[str]) -> dict[str, bytes]:
    """Relative path -> bytes for each requested format (charts beside the md;
    planner.report.writer.render_formats, as a spec's report)."""
    from planner.report.writer import render_formats

    md = render_compare_markdown(ctx)
    files: dict[str, bytes] = {}
    if "xlsx" in formats:
        from planner.report.xlsx import compare_workbook

        files[f"{ctx.name}.xlsx"] = compare_workbook(ctx.comparison, ctx.assumptions)
    charts = [(c.filename, c.svg) for c in ctx.charts.values()]
    html = partial(render_compare_html, ctx, md)
    return render_formats(ctx.name, ctx.chart_dir, charts, md, html, formats, files).files


def write_compare_report(
    results: list[Result], c: Comparison, out_dir: str, formats: Sequence[str], name: str | None
) -> list[Path]:
    from planner.report.writer import write_files

    ctx = build_compare_context(results, c, name, charts="md" in formats or "html" in formats
                                or "pdf" in formats)  # fmt: skip
    files = render_compare(ctx, formats)
    return write_files(out_dir, ctx.name, files, [ctx.chart_dir] if "md" in formats else [])
