"""The report's charts: one function per chart, plain numbers in, SVG text out.

Determinism (the golden tests compare bytes): matplotlib's Agg/SVG backend,
a fixed figure size, text as real ``<text>`` elements in DejaVu Sans
(``svg.fonttype: none``: searchable and copyable in the HTML and the PDF;
the layout uses matplotlib's bundled DejaVu metrics, so it does not depend
on the fonts installed), ``svg.hashsalt`` fixed (clip-path ids are hashes of
it) and no ``Date`` metadata.

Legends sit outside the plot area (right or below), so they never cross a
line; money axes read USD with k/M; the spec's limits are drawn where it has
them (usable memory, constraints.max_days, constraints.max_budget_usd,
cluster.max_gpus). matplotlib is imported
inside the functions only: ``planner`` must start fast without it.

Sizes are plotted in GiB (2**30 bytes), money in USD; every axis says so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from planner.units import GiB

FIGSIZE = (7.0, 4.0)  # inches; fits an A4 or Letter text column
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
_RC = {
    "svg.hashsalt": "planner-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}


@contextmanager
def _figure(ncols: int = 1) -> Iterator[tuple[Any, Any]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    # matplotlib 3.11 types the keys as a Literal of every rc name (older: str).
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type,unused-ignore]
        fig, ax = plt.subplots(1, ncols, figsize=FIGSIZE, layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def usd_tick(value: float, _pos: object = None) -> str:
    """A money axis tick: "USD 250k", "USD 1.5M" (never matplotlib's "1e6")."""
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"USD {value / div:,.3g}{suffix}"
    return f"USD {value:,.0f}"


def _legend_below(fig: Any, handles: Any, labels: Any) -> None:
    """The legend below the plot area, never over the data (a figure legend
    "outside": the constrained layout makes room for it; the width stays the
    plot's, so a long title and a long label never collide)."""
    fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False,
               ncols=min(3, len(labels)))  # fmt: skip


def _legend_outside(ax: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(ax.figure, handles, labels)


def _max_gpus_line(ax: Any, max_gpus: int | None, xs: Sequence[int]) -> None:
    """A vertical "max_gpus" line when the x axis runs past cluster.max_gpus."""
    if max_gpus is not None and xs and max(xs) > max_gpus:
        ax.axvline(max_gpus, color="#b22222", linestyle="-.", linewidth=1.0,
                   label=f"max_gpus ({max_gpus})")  # fmt: skip


def _gib(n_bytes: float) -> float:
    return n_bytes / GiB


def _stacked(ax: Any, labels: Sequence[str], stacks: Sequence[Mapping[str, float]]) -> None:
    """Stacked bars: one bar per label, one colour per component (in the
    order the components first appear)."""
    components: list[str] = []
    for s in stacks:
        components += [c for c in s if c not in components]
    bottoms = [0.0] * len(stacks)
    for i, comp in enumerate(components):
        values = [s.get(comp, 0.0) for s in stacks]
        ax.bar(labels, values, bottom=bottoms, label=comp, color=PALETTE[i % len(PALETTE)])
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]


def memory_comparison(simplified: Mapping[str, int], precise: Mapping[str, int]) -> str:
    """Two stacked bars: the back-of-envelope method (the seed document's
    simplified one) and the precise method,
    per component, in GiB, for one model replica."""
    with _figure() as (fig, ax):
        _stacked(
            ax,
            ["back-of-envelope", "precise"],
            [{k: _gib(v) for k, v in simplified.items()}, {k: _gib(v) for k, v in precise.items()}],
        )
        ax.set_title("Training memory of one replica: back-of-envelope vs precise")
        ax.set_ylabel("memory (GiB, 2^30 bytes)")
        _legend_outside(ax)
        return _svg(fig)


def plan_memory(
    bars: Sequence[tuple[str, Mapping[str, float]]],
    usable_bytes: int,
    title: str = "Memory per GPU: recommended plan and alternatives",
) -> str:
    """Per-GPU memory of the recommended plan and its alternatives, stacked by
    component (GiB), with the usable memory per GPU as a dashed line."""
    with _figure() as (fig, ax):
        labels = [label for label, _ in bars]
        _stacked(ax, labels, [{k: _gib(v) for k, v in comp.items()} for _, comp in bars])
        ax.axhline(_gib(usable_bytes), color="black", linestyle="--", linewidth=1.0)
        ax.plot([], [], color="black", linestyle="--", label="usable per GPU")
        ax.set_title(title)
        ax.set_ylabel("memory per GPU (GiB)")
        ax.tick_params(axis="x", labelsize=7)
        _legend_outside(ax)
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
    with _figure() as (fig, ax):
        xs: set[int] = set()
        for i, (label, points) in enumerate(series.items()):
            x = [p[0] for p in points]
            xs.update(x)
            ax.plot(
                x,
                [_gib(p[1]) for p in points],
                marker="o",
                markersize=3,
                label=label,
                color=PALETTE[i % len(PALETTE)],
            )
        ax.axhline(
            _gib(usable_bytes), color="black", linestyle="--", linewidth=1.0, label="usable per GPU"
        )
        _max_gpus_line(ax, max_gpus, sorted(xs))
        ax.set_xscale("log", base=2)
        ticks = sorted(xs)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_title("Memory per GPU vs number of GPUs (data parallel, by ZeRO stage)")
        ax.set_xlabel("GPUs (data-parallel degree)")
        ax.set_ylabel("memory per GPU (GiB)")
        _legend_outside(ax)
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
    with _figure() as (fig, ax):
        x = [p[0] for p in points]
        ax.plot(
            x,
            [p[1] for p in points],
            marker="o",
            markersize=3,
            color=PALETTE[0],
            label="duration (days)",
        )
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [str(v) for v in x])
        ax.minorticks_off()
        ax.set_xlabel("GPUs")
        ax.set_ylabel("duration (days)")
        if max_days is not None:
            ax.axhline(max_days, color=PALETTE[0], linestyle="--", linewidth=1.0,
                       label=f"deadline (max_days {max_days:g})")  # fmt: skip
        _max_gpus_line(ax, max_gpus, x)
        handles, labels = ax.get_legend_handles_labels()
        if all(p[2] is not None for p in points):
            ax2 = ax.twinx()
            ax2.spines["right"].set_visible(True)
            ax2.plot(
                x,
                [p[2] for p in points],
                marker="s",
                markersize=3,
                color=PALETTE[1],
                label="cost (USD)",
            )
            if max_usd is not None:
                ax2.axhline(max_usd, color=PALETTE[1], linestyle="--", linewidth=1.0,
                            label=f"budget ({usd_tick(max_usd)})")  # fmt: skip
            ax2.set_ylabel("cost (USD)")
            ax2.yaxis.set_major_formatter(usd_tick)
            ax2.set_ylim(bottom=0)
            h2, l2 = ax2.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        if chosen_gpus is not None:
            ax.axvline(chosen_gpus, color="grey", linestyle=":", linewidth=1.0)
            handles.append(ax.plot([], [], color="grey", linestyle=":")[0])
            labels.append(f"recommended ({chosen_gpus} GPUs)")
        ax.set_ylim(bottom=0)
        ax.set_title("Time and cost vs number of GPUs")
        # Below the plot: the right side holds the cost axis.
        _legend_below(fig, handles, labels)
        return _svg(fig)


def precision_strategies(rows: Sequence[tuple[str, Mapping[str, float]]]) -> str:
    """Bytes per parameter of each precision strategy, stacked by component."""
    with _figure() as (fig, ax):
        _stacked(ax, [r[0] for r in rows], [r[1] for r in rows])
        ax.set_title("Model states per parameter by precision strategy")
        ax.set_ylabel("bytes per parameter")
        _legend_outside(ax)
        return _svg(fig)


_ID = re.compile(r'\bid="([^"]+)"')


def inline(svg: str, prefix: str) -> str:
    """An SVG document as an element for inlining in HTML: the XML prolog
    dropped and every id prefixed, so several charts in one page never share
    an id (matplotlib names glyphs ``DejaVuSans-41`` in every file)."""
    start = svg.index("<svg")
    body = svg[start:]
    ids = set(_ID.findall(body))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        body = body.replace(f'id="{old}"', f'id="{new}"')
        body = body.replace(f'"#{old}"', f'"#{new}"').replace(f"(#{old})", f"(#{new})")
    return body


def latency_load(points: Sequence[tuple[float, float, float]], ttft_slo: float | None,
                 tpot_slo: float | None, planned: float | None = None) -> str:  # fmt: skip
    """p99 TTFT (left axis) and TPOT (right axis), ms, against requests/s;
    the SLOs as dashed lines."""
    with _figure() as (fig, ax):
        x = [p[0] for p in points]
        ax.plot(x, [p[1] for p in points], marker="o", markersize=3, color=PALETTE[0],
                label="p99 TTFT (ms)")  # fmt: skip
        if ttft_slo is not None:
            ax.axhline(ttft_slo, color=PALETTE[0], linestyle="--", linewidth=1.0)
        if planned is not None:
            ax.axvline(planned, color="grey", linestyle=":", linewidth=1.0)
        ax.set_xlabel("requests per second")
        ax.set_ylabel("p99 TTFT (ms)")
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        ax2.plot(x, [p[2] for p in points], marker="s", markersize=3, color=PALETTE[1],
                 label="p99 TPOT (ms)")  # fmt: skip
        if tpot_slo is not None:
            ax2.axhline(tpot_slo, color=PALETTE[1], linestyle="--", linewidth=1.0)
        ax2.set_ylabel("p99 TPOT (ms)")
        ax2.set_ylim(bottom=0)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=8, frameon=False, loc="upper left")
        ax.set_title("p99 latency vs load")
        return _svg(fig)


def cost_bars(rows: Sequence[tuple[str, float]]) -> str:
    """USD per million output tokens by GPU type."""
    with _figure() as (fig, ax):
        names = [r[0] for r in rows]
        ax.bar(range(len(rows)), [r[1] for r in rows], color=PALETTE[0])
        ax.set_xticks(range(len(rows)), names, fontsize=8)
        ax.set_ylabel("USD per million output tokens")
        ax.set_ylim(bottom=0)
        ax.set_title("Cost per million output tokens by GPU type")
        return _svg(fig)
