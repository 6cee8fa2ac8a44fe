"""The one writer of report files (coverage.py's ``render_report`` habit).

``write_report(spec_path, out_dir, formats)`` builds the report once and
writes DIR/<name>.md with its charts in DIR/<name>_charts/*.svg (relative
links), DIR/<name>.html (self-contained) and DIR/<name>.pdf. Every file is
written to a temporary file in the target folder and renamed into place
(``os.replace`` is atomic on POSIX and Windows), so a failure never leaves a
partial file. ``out_dir == "-"`` with one format writes to stdout instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from planner.errors import PlannerError
from planner.report.context import ReportContext
from planner.report.render import FORMATS, render_html, render_markdown, render_pdf


@dataclass(frozen=True)
class Rendered:
    """A report in every requested format, in memory."""

    name: str
    files: dict[str, bytes]  # relative path -> content


def build(spec_path: str | Path, paper: str | None = None, charts: bool = True) -> ReportContext:
    """Spec file -> Result (planner.pipeline.evaluate) -> ReportContext."""
    from planner.pipeline import evaluate
    from planner.report.context import build_context
    from planner.spec import load_spec

    return build_context(evaluate(load_spec(spec_path)), paper=paper, charts=charts)


def render(ctx: ReportContext, formats: Sequence[str]) -> Rendered:
    md = render_markdown(ctx)
    files: dict[str, bytes] = {}
    if "md" in formats:
        files[f"{ctx.name}.md"] = md.encode("utf-8")
        for c in ctx.charts.values():
            files[f"{ctx.chart_dir}/{c.filename}"] = c.svg.encode("utf-8")
    if "html" in formats or "pdf" in formats:
        html = render_html(ctx, md)
        if "html" in formats:
            files[f"{ctx.name}.html"] = html.encode("utf-8")
        if "pdf" in formats:
            files[f"{ctx.name}.pdf"] = render_pdf(html)
    return Rendered(ctx.name, files)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise PlannerError(f"unknown report format(s) {bad}; choose from {', '.join(FORMATS)}")
    return fmts


def write_report(
    spec_path: str | Path, out_dir: str, formats: Sequence[str], paper: str | None = None
) -> list[Path]:
    """Render one spec's report and write it; returns the paths written
    (empty for stdout). Everything is rendered before the first file is
    written."""
    if out_dir == "-" and len(formats) != 1:
        raise PlannerError("`-o -` writes one format to stdout: give exactly one with -f")
    out = render(build(spec_path, paper), formats)
    if out_dir == "-":
        ((_name, data),) = [(k, v) for k, v in out.files.items() if not k.endswith(".svg")]
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return []
    written = []
    for rel, data in out.files.items():
        path = Path(out_dir) / rel
        _atomic_write(path, data)
        written.append(path)
    return written
