"""Drawing primitives for planner.report.svgplot: DejaVu Sans text widths,
nice tick values, and the SVG elements (rect, line, marker, text), each
printed with two decimals so the same figure gives the same bytes."""

from __future__ import annotations

import math
from collections.abc import Callable
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 504.0, 288.0  # points: 7 x 4 in
FONT = 9.0
TITLE_FONT = 10.8
TICK = 3.5
_EM = 2048
# DejaVu Sans advance widths of ' ' (32) to '~' (126), font units.
_ADVANCE = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716,
    1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767,
    1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690,
    799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
    569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716,
)  # fmt: skip
DASHES = {"-": "", "--": "3.7,1.6", ":": "1,1.65", "-.": "6.4,1.6,1,1.6"}


def text_width(s: str, size: float = FONT) -> float:
    """Width in points of ``s`` set in DejaVu Sans at ``size``."""
    units = sum(_ADVANCE[ord(c) - 32] if 32 <= ord(c) < 127 else 1303 for c in s)
    return units * size / _EM


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k
    (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990)."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, target - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    n = math.ceil((hi - first) / step - 1e-9)
    return [round(first + i * step, 12) for i in range(n + 1)]


def plain_tick(step: float) -> Callable[[float], str]:
    """Tick text with as many decimals as the step needs ("0", "2.5")."""
    digits = next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * step), 6)
    return lambda v: f"{v:,.{digits}f}"


def rect(x0: float, y0: float, x1: float, y1: float, color: str) -> str:
    return (
        f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{x1 - x0:.2f}" height="{y1 - y0:.2f}"'
        f' fill="{color}"/>'
    )


def dash_attr(dash: str) -> str:
    d = DASHES[dash]
    return f' stroke-dasharray="{d}"' if d else ""


def seg(x0: float, y0: float, x1: float, y1: float, color: str, dash: str = "-",
         width: float = 1.0) -> str:  # fmt: skip
    return (
        f'<line x1="{x0:.2f}" y1="{y0:.2f}" x2="{x1:.2f}" y2="{y1:.2f}" stroke="{color}"'
        f' stroke-width="{width:g}"{dash_attr(dash)}/>'
    )


def marker(kind: str, x: float, y: float, color: str) -> str:
    if kind in ("o", "big"):
        r = 1.75 if kind == "o" else 4.0
        return f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{r:g}" fill="{color}"/>'
    if kind == "s":
        return rect(x - 1.6, y - 1.6, x + 1.6, y + 1.6, color)
    if kind == "x":
        return seg(x - 3, y - 3, x + 3, y + 3, color, "-", 1.5) + seg(
            x - 3, y + 3, x + 3, y - 3, color, "-", 1.5
        )
    if kind == "O":  # a ring around a point (the Pareto front)
        return (
            f'<circle cx="{x:.2f}" cy="{y:.2f}" r="6" fill="none" stroke="{color}"'
            ' stroke-width="1.2"/>'
        )
    return ""


def text(x: float, y: float, s: str, size: float, anchor: str) -> str:
    size_attr = "" if size == FONT else f' font-size="{size:g}"'
    return f'<text x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}"{size_attr}>{escape(s)}</text>'
