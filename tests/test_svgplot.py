"""The chart plotter (planner.report.svgplot) against hand figures."""

from __future__ import annotations

import re

from planner.report import charts, svgplot


def test_text_width_from_dejavu_advances() -> None:
    # DejaVu Sans hmtx (2,048 units/em): U 1499, S 1300, D 1577; 9 pt.
    assert abs(svgplot.text_width("USD") - (1499 + 1300 + 1577) * 9 / 2048) < 1e-9
    assert svgplot.text_width("") == 0


def test_nice_ticks_by_hand() -> None:
    # Heckbert's steps 1, 2, 2.5, 5 x 10^k; about 6 ticks from 0.
    assert svgplot.nice_ticks(0, 51) == [0, 20, 40, 60]
    assert svgplot.nice_ticks(0, 2.3) == [0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert svgplot.nice_ticks(0, 240_000) == [0, 50_000, 100_000, 150_000, 200_000, 250_000]
    assert svgplot.plain_tick(2.5)(7.5) == "7.5" and svgplot.plain_tick(20)(1000) == "1,000"


def test_bars_and_lines_land_where_the_numbers_say() -> None:
    fig = svgplot.Figure("t", left=svgplot.Axis("GiB"))
    fig.stacked(["a", "b"], [{"x": 10.0, "y": 30.0}, {"x": 20.0}], charts.PALETTE)
    fig.hline(50.0, "#000000", "--", "usable")
    svg = fig.svg()
    _left, top, _right, bottom = fig.boxes["plot"]
    # y axis 0..60 (nice ticks over 0..51): bar a's top at 40/60 of the height.
    rects = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg)
    tops = sorted(float(y) for _x, y, _w, h in rects[1:] if float(h) > 0)
    assert abs(tops[0] - (bottom - 40 / 60 * (bottom - top))) < 0.01
    assert "usable" in svg and fig.boxes["legend"][1] > bottom
    assert svg == fig.svg()  # same figure, same bytes


def test_log2_axis_and_usd_ticks() -> None:
    svg = charts.time_cost([(8, 20.0, 100_000.0), (16, 10.5, 105_000.0)], 16, 8, 14.0, 120_000)
    assert "USD 100k" in svg and "deadline (max_days 14)" in svg and "max_gpus (8)" in svg
    assert "1e5" not in svg and "<text" in svg
