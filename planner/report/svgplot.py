"""A small deterministic SVG plotter for the report's charts (no matplotlib).

Why not matplotlib: importing it and laying out five figures took about a
second of every report (benchmarks/report_timing.py), more than the rest of
the planner together; its SVG also carries hundreds of groups that
WeasyPrint must style and draw. The report needs four shapes only: stacked
bars, bars, lines on a linear or log2 axis, and horizontal/vertical limit
lines, with a second y axis for some charts.

What it guarantees (tests/test_report_read.py checks them):
- text is real ``<text>`` in DejaVu Sans (searchable and copyable in the
  HTML and the PDF);
- the legend sits below the plot area and never crosses it (``Figure.boxes``
  exposes both boxes);
- same numbers in, same bytes out: every coordinate is printed with two
  decimals, nothing depends on the time or on installed fonts.

Text widths use DejaVu Sans's advance widths (the ``hmtx`` table of
DejaVuSans.ttf 2.37, 2,048 units per em) for printable ASCII, and the width
of a digit for anything else: enough to size margins and legends.
Units are points (1/72 inch); the figure is 504 x 288 pt (7 x 4 in).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from planner.report.svgparts import (
    FONT,
    HEIGHT,
    TICK,
    TITLE_FONT,
    WIDTH,
    dash_attr,
    nice_ticks,
    plain_tick,
    rect,
    seg,
    text,
    text_width,
)
from planner.report.svgparts import (
    marker as draw_marker,
)

Box = tuple[float, float, float, float]  # left, top, right, bottom
# A mark draws itself given the x map and the y map of each axis.
Mark = Callable[[Callable[[float], float], dict[str, Callable[[float], float]]], str]


@dataclass
class Axis:
    """A y axis: its range starts at 0 and reaches past every value put on it."""

    label: str
    fmt: Callable[[float], str] | None = None
    top: float = 0.0

    def include(self, *values: float) -> None:
        self.top = max(self.top, *values)

    def ticks(self) -> list[float]:
        return nice_ticks(0.0, self.top * 1.02 if self.top > 0 else 1.0)

    def labels(self) -> list[tuple[float, str]]:
        """Each tick value with its text (the axis's format, else as many
        decimals as the tick step needs)."""
        ticks = self.ticks()
        fmt = self.fmt or plain_tick(ticks[1] - ticks[0])
        return [(v, fmt(v)) for v in ticks]


@dataclass
class Entry:
    """A legend entry: a patch (bars) or a line with its dash and marker."""

    label: str
    color: str
    kind: str = "line"  # line | patch | point
    dash: str = "-"
    marker: str = ""


@dataclass
class Figure:
    """One chart. Add marks, then ``svg()``; the x axis is categorical (bars)
    or numeric (``log2`` or linear) by how it is set up."""

    title: str
    xlabel: str = ""
    left: Axis = field(default_factory=lambda: Axis(""))
    right: Axis | None = None
    categories: list[str] = field(default_factory=list)
    xticks: list[float] = field(default_factory=list)
    log2: bool = False
    xtick_font: float = FONT
    x_zero: bool = False  # a numeric x axis that starts at 0
    _marks: list[Mark] = field(default_factory=list)
    legend: list[Entry] = field(default_factory=list)
    _xs: list[float] = field(default_factory=list)
    boxes: dict[str, Box] = field(default_factory=dict)

    # -- marks -------------------------------------------------------------
    def stacked(self, labels: Sequence[str], stacks: Sequence[dict[str, float]],
                colors: Sequence[str]) -> None:  # fmt: skip
        """One bar per label, one colour per component (first-seen order)."""
        self.categories = list(labels)
        comps: list[str] = []
        for s in stacks:
            comps += [c for c in s if c not in comps]
        tops = [sum(s.values()) for s in stacks]
        self.left.include(*tops, 0.0)
        for i, comp in enumerate(comps):
            color = colors[i % len(colors)]
            self.legend.append(Entry(comp, color, "patch"))
            spans = []
            for j, s in enumerate(stacks):
                below = sum(s.get(c, 0.0) for c in comps[:i])
                spans.append((j, below, below + s.get(comp, 0.0)))
            self._marks.append(self._bar_mark(spans, color))

    def _bar_mark(self, spans: list[tuple[int, float, float]], color: str) -> Mark:
        def draw(x: Callable[[float], float], y: dict[str, Callable[[float], float]]) -> str:
            return "".join(
                rect(x(j - 0.4), y["left"](b1), x(j + 0.4), y["left"](b0), color)
                for j, b0, b1 in spans
                if b1 > b0
            )

        return draw

    def bars(self, labels: Sequence[str], values: Sequence[float], color: str) -> None:
        self.stacked(labels, [{"": v} for v in values], [color])
        self.legend.pop()

    def line(self, xs: Sequence[float], ys: Sequence[float], color: str, label: str = "",
             marker: str = "o", axis: str = "left", dash: str = "-") -> None:  # fmt: skip
        self._xs += list(xs)
        self._axis(axis).include(*ys)
        if label:
            self.legend.append(Entry(label, color, "line", dash, marker))
        pts = list(zip(xs, ys, strict=True))

        def draw(x: Callable[[float], float], y: dict[str, Callable[[float], float]]) -> str:
            xy = [(x(a), y[axis](b)) for a, b in pts]
            d = " ".join(f"{a:.2f},{b:.2f}" for a, b in xy)
            out = f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.5"'
            out += f'{dash_attr(dash)} stroke-linejoin="round"/>'
            return out + "".join(draw_marker(marker, a, b, color) for a, b in xy)

        self._marks.append(draw)

    def hline(self, value: float, color: str, dash: str = "--", label: str = "",
              axis: str = "left") -> None:  # fmt: skip
        self._axis(axis).include(value)
        if label:
            self.legend.append(Entry(label, color, "line", dash))
        self._marks.append(lambda x, y: seg(
            self.boxes["plot"][0], y[axis](value), self.boxes["plot"][2], y[axis](value),
            color, dash))  # fmt: skip

    def vline(self, at: float, color: str, dash: str = ":", label: str = "") -> None:
        self._xs.append(at)
        if label:
            self.legend.append(Entry(label, color, "line", dash))
        self._marks.append(lambda x, y: seg(
            x(at), self.boxes["plot"][1], x(at), self.boxes["plot"][3], color, dash))  # fmt: skip

    def point(self, x: float, y: float, color: str, label: str = "", kind: str = "o",
              xerr: tuple[float, float] | None = None,
              yerr: tuple[float, float] | None = None, note: str = "") -> None:  # fmt: skip
        """One point with optional error bars (low, high) and a note beside it."""
        self._xs += [x, *(xerr or ())]
        self.left.include(y, *(yerr or ()))
        if label:
            self.legend.append(Entry(label, color, "point", "-", kind))

        def draw(xm: Callable[[float], float], ym: dict[str, Callable[[float], float]]) -> str:
            px, py, out = xm(x), ym["left"](y), []
            if xerr is not None:
                a, b = xm(xerr[0]), xm(xerr[1])
                out += [seg(a, py, b, py, color, "-", 0.8), seg(a, py - 3, a, py + 3, color),
                        seg(b, py - 3, b, py + 3, color)]  # fmt: skip
            if yerr is not None:
                a, b = ym["left"](yerr[0]), ym["left"](yerr[1])
                out += [seg(px, a, px, b, color, "-", 0.8), seg(px - 3, a, px + 3, a, color),
                        seg(px - 3, b, px + 3, b, color)]  # fmt: skip
            out.append(draw_marker(kind, px, py, color))
            if note:
                out.append(text(px + 6, py - 6, note, 8.0, "start"))
            return "".join(out)

        self._marks.append(draw)

    def _axis(self, name: str) -> Axis:
        if name == "right":
            assert self.right is not None, "a right-axis mark needs Figure(right=Axis(...))"
            return self.right
        return self.left

    # -- layout and drawing ------------------------------------------------
    def _legend_grid(self, width: float) -> tuple[int, float]:
        widths = [22 + text_width(e.label, 8) for e in self.legend]
        if not widths:
            return 1, 0.0
        for ncols in range(min(3, len(widths)), 0, -1):
            col = max(widths) + 10
            if ncols * col <= width or ncols == 1:
                return ncols, col
        return 1, max(widths) + 10

    def svg(self) -> str:
        lines_per_tick = max((c.count("\n") + 1 for c in self.categories), default=1)
        ytexts = [t for _, t in self.left.labels()]
        left = 8 + (FONT + 6 if self.left.label else 0) + TICK + 3
        left += max(text_width(t) for t in ytexts)
        right = 14.0
        if self.right is not None:
            rtexts = [t for _, t in self.right.labels()]
            right = 8 + (FONT + 6) + TICK + 3 + max(text_width(t) for t in rtexts)
        ncols, col = self._legend_grid(WIDTH - 16)
        rows = math.ceil(len(self.legend) / ncols) if self.legend else 0
        legend_h = rows * 12.0 + (6 if rows else 0)
        xlab_h = FONT + 6 if self.xlabel else 0
        bottom = TICK + 4 + lines_per_tick * (self.xtick_font + 2) + xlab_h + legend_h + 4
        plot = (left, 8 + TITLE_FONT + 8, WIDTH - right, HEIGHT - bottom)
        self.boxes["plot"] = plot
        x = self._x_map(plot)
        ys = {"left": _y_map(self.left, plot)}
        if self.right is not None:
            ys["right"] = _y_map(self.right, plot)
        out = [
            '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}pt" height="{HEIGHT:g}pt"'
            f' viewBox="0 0 {WIDTH:g} {HEIGHT:g}" version="1.1"'
            f' font-family="DejaVu Sans, sans-serif" font-size="{FONT:g}">\n',
            f"<title>{escape(self.title)}</title>\n",
            f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="#ffffff"/>\n',
        ]
        out += [text(WIDTH / 2, 8 + TITLE_FONT, self.title, TITLE_FONT, "middle"), "\n"]
        out += [self._y_axis(self.left, ys["left"], plot, "left"), "\n"]
        if self.right is not None:
            out += [self._y_axis(self.right, ys["right"], plot, "right"), "\n"]
        out += [self._x_axis(x, plot), "\n"]
        out += [m(x, ys) + "\n" for m in self._marks]
        axes = f"M{plot[0]:.2f},{plot[1]:.2f} V{plot[3]:.2f} H{plot[2]:.2f}"
        if self.right is not None:
            axes += f" V{plot[1]:.2f}"
        out.append(f'<path d="{axes}" fill="none" stroke="#000000" stroke-width="0.8"/>\n')
        if self.legend:
            out.append(self._legend(ncols, col, HEIGHT - legend_h - 2) + "\n")
        out.append("</svg>\n")
        return "".join(out)

    def _x_map(self, plot: Box) -> Callable[[float], float]:
        x0, _, x1, _ = plot
        if self.categories:
            n = len(self.categories)
            return lambda j: x0 + (j + 0.5) * (x1 - x0) / n
        if self.x_zero:
            top = self._zero_ticks()[-1]
            return lambda v: x0 + v / top * (x1 - x0)
        f = (lambda v: math.log2(v)) if self.log2 else (lambda v: v)
        vals = [f(v) for v in (self._xs + self.xticks)]
        lo, hi = min(vals), max(vals)
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        lo, hi = lo - pad, hi + pad
        return lambda v: x0 + (f(v) - lo) / (hi - lo) * (x1 - x0)

    def _zero_ticks(self) -> list[float]:
        return nice_ticks(0.0, max(self._xs) * 1.02 if max(self._xs) > 0 else 1.0)

    def _x_axis(self, x: Callable[[float], float], plot: Box) -> str:
        base = plot[3]
        if self.categories:
            ticks = [(float(j), c) for j, c in enumerate(self.categories)]
        elif self.x_zero:
            values = self._zero_ticks()
            fmt = plain_tick(values[1] - values[0])
            ticks = [(v, fmt(v)) for v in values]
        else:
            values = self.xticks or nice_ticks(min(self._xs), max(self._xs))
            if not self.xticks:
                values = [v for v in values if min(self._xs) <= v <= max(self._xs)] or values
            fmt = plain_tick(values[1] - values[0] if len(values) > 1 else 1.0)
            ticks = [(v, f"{v:g}" if self.xticks else fmt(v)) for v in values]
        out = []
        for v, label in ticks:
            px = x(v)
            out.append(seg(px, base, px, base + TICK, "#000000", "-", 0.8))
            for i, part in enumerate(label.split("\n")):
                y = base + TICK + 2 + (i + 1) * (self.xtick_font + 2) - 2
                out.append(text(px, y, part, self.xtick_font, "middle"))
        if self.xlabel:
            y = base + TICK + 4 + max(t[1].count("\n") + 1 for t in ticks) * (
                self.xtick_font + 2) + FONT  # fmt: skip
            out.append(text((plot[0] + plot[2]) / 2, y, self.xlabel, FONT, "middle"))
        return "".join(out)

    def _y_axis(self, axis: Axis, y: Callable[[float], float], plot: Box, side: str) -> str:
        edge = plot[0] if side == "left" else plot[2]
        sign = -1 if side == "left" else 1
        anchor = "end" if side == "left" else "start"
        out, widest = [], 0.0
        for v, label in axis.labels():
            py = y(v)
            widest = max(widest, text_width(label))
            out.append(seg(edge, py, edge + sign * TICK, py, "#000000", "-", 0.8))
            out.append(text(edge + sign * (TICK + 2), py + FONT * 0.35, label, FONT, anchor))
        if axis.label:
            lx = edge + sign * (TICK + 6 + widest + FONT * 0.7)
            cy = (plot[1] + plot[3]) / 2
            out.append(
                f'<text x="{lx:.2f}" y="{cy:.2f}" text-anchor="middle"'
                f' transform="rotate(-90 {lx:.2f} {cy:.2f})">{escape(axis.label)}</text>'
            )
        return "".join(out)

    def _legend(self, ncols: int, col: float, top: float) -> str:
        x0 = (WIDTH - ncols * col) / 2
        rows = math.ceil(len(self.legend) / ncols)
        self.boxes["legend"] = (x0, top, x0 + ncols * col, top + rows * 12.0)
        out = []
        for i, e in enumerate(self.legend):
            r, c = divmod(i, ncols)
            x, y = x0 + c * col, top + r * 12.0 + 6
            if e.kind == "patch":
                out.append(rect(x + 4, y - 3.5, x + 18, y + 3.5, e.color))
            elif e.kind == "point":
                out.append(draw_marker(e.marker, x + 11, y, e.color))
            else:
                out.append(seg(x + 2, y, x + 20, y, e.color, e.dash, 1.5))
                out.append(draw_marker(e.marker, x + 11, y, e.color))
            out.append(text(x + 24, y + 3, e.label, 8.0, "start"))
        return "".join(out)


def _y_map(axis: Axis, plot: Box) -> Callable[[float], float]:
    top = axis.ticks()[-1]
    return lambda v: plot[3] - v / top * (plot[3] - plot[1])
