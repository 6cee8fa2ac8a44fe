"""Time for a full report against a bare WeasyPrint page, and each stage's share.

Run: python benchmarks/report_timing.py [SPEC] [--runs N]
     (default specs/llama-3-70b-pretrain.yaml, 3 runs)

The ratio (issue 14, goal <= 3x) compares two fresh processes started in the
same run, alternately, and takes the median of each:
- bare: ``python -c`` that imports WeasyPrint and writes a one-paragraph PDF
  (the fixed cost any PDF report pays: interpreter, WeasyPrint, fonts);
- full: ``planner report SPEC -f md,html,pdf`` into a temporary folder
  (spec, evaluate, charts, Markdown, HTML, PDF, files written).
Then one in-process pass prints where the full report's time goes: spec (load
and validate), evaluate (the Result, computed once), charts (SVG), context,
Markdown, HTML, PDF (WeasyPrint; its import is counted in the first stage that
needs it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GOAL = 3.0
BARE = (
    "import weasyprint\n"
    "weasyprint.HTML(string='<html><body><h1>Bare</h1><p>One page.</p></body></html>')"
    ".write_pdf()\n"
)


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def ratio(spec: str, runs: int) -> tuple[float, float]:
    """Median seconds of (bare page, full report), measured alternately."""
    bare, full = [], []
    with tempfile.TemporaryDirectory() as out:
        report = [sys.executable, "-m", "planner", "report", spec, "-o", out]
        for _ in range(runs):
            bare.append(_wall([sys.executable, "-c", BARE]))
            full.append(_wall([*report, "-f", "md,html,pdf"]))
    return statistics.median(bare), statistics.median(full)


def stages(path: str) -> None:
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
    print(f"in-process stages (md + html + pdf, {len(pdf):,} PDF bytes): {total:.2f} s")
    for name, t in times.items():
        print(f"  {name:9} {t:7.3f} s  {100 * t / total:5.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default="specs/llama-3-70b-pretrain.yaml")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.spec).is_file():
        sys.exit(f"no such spec: {args.spec}")
    bare, full = ratio(args.spec, args.runs)
    r = full / bare
    verdict = "meets" if r <= GOAL else "misses"
    print(f"bare WeasyPrint page: {bare:.2f} s; full report of {args.spec}: {full:.2f} s")
    print(f"ratio {r:.2f}x ({verdict} the goal of {GOAL:g}x; median of {args.runs} runs each)")
    stages(args.spec)


if __name__ == "__main__":
    main()
