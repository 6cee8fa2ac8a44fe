"""The report's charts: one function per chart, plain numbers in, SVG text out.

Drawn by planner.report.svgplot (no matplotlib): deterministic bytes (the
golden tests compare them), text as real ``<text>`` elements in DejaVu Sans
(searchable and copyable in the HTML and the PDF), legends below the plot
area so they never cross a line, money axes in USD with k/M (never "1e6"),
and the spec's limits drawn where it has them (usable memory,
constraints.max_days, constraints.max_budget_usd, cluster.max_gpus).

Sizes are plotted in GiB (2**30 bytes), money in USD; every axis says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.report.svgplot import Axis, Figure
from planner.units import GiB

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#9c755f",
    "#bab0ac",
)
LIMIT = "#b22222"  # cluster.max_gpus


def _svg(fig: Figure) -> str:
    """The figure's SVG (one place, so a test can inspect every figure)."""
    return fig.svg()


def usd_tick(value: float) -> str:
    """A money axis tick: "USD 250k", "USD 1.5M" (never "1e6")."""
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"USD {value / div:,.3g}{suffix}"
    return f"USD {value:,.0f}"


def _max_gpus_line(fig: Figure, max_gpus: int | None, xs: Sequence[int]) -> None:
    """A vertical "max_gpus" line when the x axis runs past cluster.max_gpus."""
    if max_gpus is not None and xs and max(xs) > max_gpus:
        fig.vline(max_gpus, LIMIT, "-.", f"max_gpus ({max_gpus})")


def _gib(n_bytes: float) -> float:
    return n_bytes / GiB


def memory_comparison(simplified: Mapping[str, int], precise: Mapping[str, int]) -> str:
    """Two stacked bars: the back-of-envelope method (the seed document's
    simplified one) and the precise method,
    per component, in GiB, for one model replica."""
    fig = Figure("Training memory of one replica: back-of-envelope vs precise",
                 left=Axis("memory (GiB, 2^30 bytes)"))  # fmt: skip
    fig.stacked(
        ["back-of-envelope", "precise"],
        [{k: _gib(v) for k, v in simplified.items()}, {k: _gib(v) for k, v in precise.items()}],
        PALETTE,
    )
    return _svg(fig)


def plan_memory(
    bars: Sequence[tuple[str, Mapping[str, float]]],
    usable_bytes: int,
    title: str = "Memory per GPU: recommended plan and alternatives",
) -> str:
    """Per-GPU memory of the recommended plan and its alternatives, stacked by
    component (GiB), with the usable memory per GPU as a dashed line."""
    fig = Figure(title, left=Axis("memory per GPU (GiB)"), xtick_font=7.0)
    fig.stacked([label for label, _ in bars],
                [{k: _gib(v) for k, v in comp.items()} for _, comp in bars], PALETTE)  # fmt: skip
    fig.hline(_gib(usable_bytes), "#000000", "--", "usable per GPU")
    return _svg(fig)


def zero_stages(
    series: Mapping[str, Sequence[tuple[int, int]]],
    usable_bytes: int,
    max_gpus: int | None = None,
) -> str:
    """Memory per GPU (GiB) against the number of GPUs, one line per ZeRO
    stage (or layout); the usable memory per GPU as a dashed line, and
    cluster.max_gpus where the axis runs past it.
    ``series`` maps a label to (GPUs, bytes per GPU) points."""
    fig = Figure("Memory per GPU vs number of GPUs (data parallel, by ZeRO stage)",
                 xlabel="GPUs (data-parallel degree)", left=Axis("memory per GPU (GiB)"),
                 log2=True)  # fmt: skip
    xs: set[int] = set()
    for i, (label, points) in enumerate(series.items()):
        x = [p[0] for p in points]
        xs.update(x)
        fig.line(x, [_gib(p[1]) for p in points], PALETTE[i % len(PALETTE)], label)
    fig.hline(_gib(usable_bytes), "#000000", "--", "usable per GPU")
    _max_gpus_line(fig, max_gpus, sorted(xs))
    fig.xticks = [float(t) for t in sorted(xs)]
    return _svg(fig)


def time_cost(
    points: Sequence[tuple[int, float, float | None]],
    chosen_gpus: int | None,
    max_gpus: int | None = None,
    max_days: float | None = None,
    max_usd: float | None = None,
) -> str:
    """Training days (left axis) and cost in USD (right axis) against the
    number of GPUs; the recommended GPU count is marked, and the spec's
    deadline, budget and max_gpus are drawn where it has them."""
    priced = all(p[2] is not None for p in points)
    fig = Figure("Time and cost vs number of GPUs", xlabel="GPUs",
                 left=Axis("duration (days)"), log2=True,
                 right=Axis("cost (USD)", usd_tick) if priced else None)  # fmt: skip
    x = [p[0] for p in points]
    fig.xticks = [float(v) for v in x]
    fig.line(x, [p[1] for p in points], PALETTE[0], "duration (days)")
    if max_days is not None:
        fig.hline(max_days, PALETTE[0], "--", f"deadline (max_days {max_days:g})")
    _max_gpus_line(fig, max_gpus, x)
    if priced:
        fig.line(x, [float(p[2] or 0) for p in points], PALETTE[1], "cost (USD)", "s", "right")
        if max_usd is not None:
            fig.hline(max_usd, PALETTE[1], "--", f"budget ({usd_tick(max_usd)})", "right")
    if chosen_gpus is not None:
        fig.vline(chosen_gpus, "#808080", ":", f"recommended ({chosen_gpus} GPUs)")
    return _svg(fig)


def precision_strategies(rows: Sequence[tuple[str, Mapping[str, float]]]) -> str:
    """Bytes per parameter of each precision strategy, stacked by component."""
    fig = Figure("Model states per parameter by precision strategy",
                 left=Axis("bytes per parameter"))  # fmt: skip
    fig.stacked([r[0] for r in rows], [dict(r[1]) for r in rows], PALETTE)
    return _svg(fig)


def inline(svg: str) -> str:
    """An SVG document as an element for inlining in HTML: the XML prolog
    dropped (the charts carry no ids, so several in one page never clash)."""
    return svg[svg.index("<svg") :]


def latency_load(points: Sequence[tuple[float, float, float]], ttft_slo: float | None,
                 tpot_slo: float | None, planned: float | None = None) -> str:  # fmt: skip
    """p99 TTFT (left axis) and TPOT (right axis), ms, against requests/s;
    the SLOs as dashed lines, the planned rate as a dotted one."""
    fig = Figure("p99 latency vs load", xlabel="requests per second",
                 left=Axis("p99 TTFT (ms)"), right=Axis("p99 TPOT (ms)"))  # fmt: skip
    x = [p[0] for p in points]
    fig.line(x, [p[1] for p in points], PALETTE[0], "p99 TTFT (ms)")
    if ttft_slo is not None:
        fig.hline(ttft_slo, PALETTE[0], "--", "TTFT SLO")
    fig.line(x, [p[2] for p in points], PALETTE[1], "p99 TPOT (ms)", "s", "right")
    if tpot_slo is not None:
        fig.hline(tpot_slo, PALETTE[1], "--", "TPOT SLO", "right")
    if planned is not None:
        fig.vline(planned, "#808080", ":", "planned rate")
    return _svg(fig)


def cost_bars(rows: Sequence[tuple[str, float]]) -> str:
    """USD per million output tokens by GPU type."""
    fig = Figure("Cost per million output tokens by GPU type",
                 left=Axis("USD per million output tokens"), xtick_font=8.0)  # fmt: skip
    fig.bars([r[0] for r in rows], [r[1] for r in rows], PALETTE[0])
    return _svg(fig)
