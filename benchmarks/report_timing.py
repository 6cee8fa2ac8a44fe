"""Time for a full report (md, html and pdf) and the share of each stage.

Run: python benchmarks/report_timing.py [SPEC]   (default specs/llama-3-70b-pretrain.yaml)
Stages: spec (load and validate), evaluate (estimate, plan, sweeps: the
Result, computed once), charts (SVG), context (the records without charts),
Markdown, HTML, PDF (WeasyPrint).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def main(path: str) -> None:
    from planner.pipeline import evaluate
    from planner.report.context import build_context
    from planner.report.figures import make_charts
    from planner.report.render import render_html, render_markdown, render_pdf
    from planner.spec import load_spec

    times: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - t
        return out

    spec = stage("spec", lambda: load_spec(path))
    result = stage("evaluate", lambda: evaluate(spec))
    est, plan = stage("json", lambda: (result.estimate_json, result.plan_json))
    charts = stage("charts", lambda: make_charts(est, plan, spec, result.sweeps))
    ctx = stage("context", lambda: build_context(result, charts=False))
    ctx = type(ctx)(**{**vars(ctx), "charts": charts})
    md = stage("markdown", lambda: render_markdown(ctx))
    html = stage("html", lambda: render_html(ctx, md))
    pdf = stage("pdf", lambda: render_pdf(html))
    total = sum(times.values())
    print(f"full report of {path} (md + html + pdf, {len(pdf):,} PDF bytes): {total:.2f} s")
    for name, t in times.items():
        print(f"  {name:9} {t:7.3f} s  {100 * t / total:5.1f}%")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "specs/llama-3-70b-pretrain.yaml")
