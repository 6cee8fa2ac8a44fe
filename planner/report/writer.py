"""The one writer of report files (coverage.py's ``render_report`` habit).

``write_reports(spec_paths, out_dir, formats)`` builds each report once and
writes DIR/<name>.md with its charts in DIR/<name>_charts/*.svg (relative
links), DIR/<name>.html (self-contained) and DIR/<name>.pdf. Reports are
written as a set: every spec is rendered first, every file is then written
into a private temporary folder inside DIR and, under a lock, renamed into
place (``os.replace`` is atomic), so an error, a bad spec or Ctrl-C leaves
DIR as it was; a chart folder is replaced whole. ``out_dir == "-"`` with one
format writes to stdout instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.report import pdf as pdf_module
from planner.report import pdfworker
from planner.report.context import ReportContext
from planner.report.render import FORMATS, render_html, render_markdown


@dataclass(frozen=True)
class Rendered:
    """A report in every requested format, in memory. ``later`` holds the
    files still being printed (the PDF, by planner.report.pdfworker);
    ``done()`` waits for them."""

    name: str
    files: dict[str, bytes]  # relative path -> content
    later: dict[str, Callable[[], bytes]] = field(default_factory=dict)

    def done(self) -> Rendered:
        files = dict(self.files)
        for rel, wait in self.later.items():
            files[rel] = wait()
        return Rendered(self.name, files)


OnStage = Callable[[str], None]
Printer = pdfworker.Worker | pdfworker.InProcess


def _quiet(_stage: str) -> None:
    pass


def build(
    spec_path: str | Path,
    paper: str | None = None,
    charts: bool = True,
    on_stage: OnStage = _quiet,
) -> ReportContext:
    """Spec file -> Result (planner.pipeline.evaluate) -> ReportContext.
    ``on_stage`` is told each stage as it starts (planner.progress)."""
    from planner.pipeline import evaluate
    from planner.report.context import build_context
    from planner.spec import load_spec

    on_stage("validating the spec")
    spec = load_spec(spec_path)
    on_stage("planning (memory, layout search, time)")
    result = evaluate(spec)
    on_stage("building the report and its charts")
    return build_context(result, paper=paper, charts=charts)


def render(
    ctx: ReportContext,
    formats: Sequence[str],
    on_stage: OnStage = _quiet,
    pdf: Printer | None = None,
) -> Rendered:
    """The report in ``formats``; with ``pdf`` (a planner.report.pdfworker
    printer) the PDF is queued there and left in ``Rendered.later``."""
    on_stage("rendering Markdown")
    md = render_markdown(ctx)
    files = {f"{ctx.name}.xlsx": _workbook(ctx)} if "xlsx" in formats else {}
    charts = [(c.filename, c.svg) for c in ctx.charts.values()]
    return render_formats(
        ctx.name,
        ctx.chart_dir,
        charts,
        md,
        lambda: render_html(ctx, md),
        formats,
        files,
        on_stage,
        pdf,
    )


def render_formats(
    name: str,
    chart_dir: str,
    charts: Sequence[tuple[str, str]],
    md: str,
    html_of: Callable[[], str],
    formats: Sequence[str],
    files: dict[str, bytes] | None = None,
    on_stage: OnStage = _quiet,
    pdf: Printer | None = None,
) -> Rendered:
    """Markdown (with its charts as (file name, SVG)), HTML and PDF of one
    rendered document, added to ``files``: the one place a report or a
    comparison becomes bytes. The HTML is made only when html or pdf is
    asked for; the PDF goes to ``pdf`` (a worker) when given."""
    out = dict(files or {})
    if "md" in formats:
        out[f"{name}.md"] = md.encode("utf-8")
        for filename, svg in charts:
            out[f"{chart_dir}/{filename}"] = svg.encode("utf-8")
    later: dict[str, Callable[[], bytes]] = {}
    if "html" in formats or "pdf" in formats:
        on_stage("rendering HTML")
        html = html_of()
        if "html" in formats:
            out[f"{name}.html"] = html.encode("utf-8")
        if "pdf" in formats and pdf is not None:
            on_stage("queueing the PDF (WeasyPrint)")
            later[f"{name}.pdf"] = pdf.submit(html)
        elif "pdf" in formats:
            on_stage("printing the PDF (WeasyPrint)")
            out[f"{name}.pdf"] = _interruptible(pdf_module.render_pdf, html)
    return Rendered(name, out, later)


def _workbook(ctx: ReportContext) -> bytes:
    from planner.report.xlsx import report_workbook

    if ctx.bill is None:
        raise PlannerError(
            f"{ctx.source}: -f xlsx holds a training plan's bill of materials; this is an"
            " inference spec (use md, html or pdf)"
        )
    return report_workbook(ctx.bill, ctx.assumptions, ctx.title)


def _interruptible(fn: Callable[[str], bytes], arg: str) -> bytes:
    """``fn(arg)``, re-raising a Ctrl-C that arrived meanwhile: WeasyPrint
    catches BaseException while it draws SVG, which would swallow it."""
    if threading.current_thread() is not threading.main_thread():
        return fn(arg)
    pending: list[int] = []
    previous = signal.getsignal(signal.SIGINT)

    def note(signum: int, frame: Any) -> None:
        pending.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        out = fn(arg)
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt
    return out


def parse_formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise PlannerError(f"unknown report format(s) {bad}; choose from {', '.join(FORMATS)}")
    return fmts


def write_report(
    spec_path: str | Path,
    out_dir: str,
    formats: Sequence[str],
    paper: str | None = None,
    on_stage: OnStage = _quiet,
) -> list[Path]:
    """One spec's report (see ``write_reports``)."""
    return write_reports(
        [spec_path], out_dir, formats, paper, lambda _i, _p: nullcontext(on_stage), on_stage
    )


# Per spec (its index from 1 and its path): a context that yields the
# callback told each stage (planner.progress.Progress in the CLI).
StageContext = Callable[[int, str], AbstractContextManager[OnStage]]


def write_reports(
    spec_paths: Sequence[str | Path],
    out_dir: str,
    formats: Sequence[str],
    paper: str | None = None,
    progress: StageContext | None = None,
    on_write: OnStage = _quiet,
    printer: Printer | None = None,
    infeasible: list[str] | None = None,
) -> list[Path]:
    """Render every spec's report, then write them all as one set; returns
    the paths written (empty for stdout). Nothing is written until every
    report is rendered, so a bad spec, an error or Ctrl-C anywhere leaves
    the output folder as it was. PDFs are printed by ``printer`` (a
    planner.report.pdfworker printer; by default one made and closed here)
    while the next spec is planned. The paths of specs whose plan meets no
    constraints are appended to ``infeasible``."""
    if out_dir == "-" and (len(formats) != 1 or len(spec_paths) != 1):
        raise PlannerError(
            "`-o -` writes one spec's report in one format to stdout:"
            " give exactly one spec and one -f"
        )
    contexts = []
    outs = []
    names: dict[str, str] = {}
    own = printer is None
    pdf = pdfworker.printer("pdf" in formats) if printer is None else printer
    try:
        for i, path in enumerate(spec_paths, start=1):
            with (progress or (lambda _i, _p: nullcontext(_quiet)))(i, str(path)) as on_stage:
                ctx = build(path, paper, on_stage=on_stage)
                if ctx.name in names:
                    raise PlannerError(
                        f"{path}: spec name {ctx.name!r} is also the name of {names[ctx.name]};"
                        " each report in one run needs its own name (nothing was written)"
                    )
                names[ctx.name] = str(path)
                if not ctx.feasible and infeasible is not None:
                    infeasible.append(str(path))  # the CLI exits 1 (planner/plan/feasibility.py)
                contexts.append(ctx)
                outs.append(render(ctx, formats, on_stage, pdf))
        on_write("waiting for the PDFs" if "pdf" in formats else "writing files")
        outs = [r.done() for r in outs]
    finally:
        if own:
            pdf.close()
    on_write("writing files")
    if out_dir == "-":
        ((_name, data),) = [(k, v) for k, v in outs[0].files.items() if not k.endswith(".svg")]
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return []
    return _commit(Path(out_dir), outs, [c.chart_dir for c in contexts] if "md" in formats else [])


def _commit(out: Path, outs: list[Rendered], chart_dirs: list[str]) -> list[Path]:
    """Write every file into a private temporary folder inside ``out``, then,
    holding ``out/.planner.lock``, rename them into place; each chart folder
    is replaced as a whole (stale charts of an earlier run go)."""
    try:
        if out.exists() and not out.is_dir():
            raise PlannerError(f"output folder {out} is an existing file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=out, prefix=".planner-"))
    except OSError as exc:
        raise PlannerError(
            f"cannot write to the output folder {out}: {exc.strerror or exc}"
        ) from None
    written: list[Path] = []
    try:
        for r in outs:
            for rel, data in r.files.items():
                tmp = stage / rel
                tmp.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                os.chmod(tmp, 0o644)
        with _lock(out):
            for d in chart_dirs:
                new, old = stage / d, out / d
                if not new.is_dir():
                    new.mkdir()
                if old.is_symlink() or old.is_file():
                    old.unlink()
                elif old.exists():
                    os.replace(old, stage / f".old-{d}")
                os.replace(new, old)
            for r in outs:
                for rel in r.files:
                    if rel.endswith(".svg"):
                        written.append(out / rel)
                        continue
                    os.replace(stage / rel, out / rel)
                    written.append(out / rel)
    except OSError as exc:
        where = exc.filename or out
        raise PlannerError(f"cannot write the report to {where}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return written


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    """An exclusive lock on ``out/.planner.lock`` so that concurrent runs into
    one folder never mix their sets of files."""
    try:
        import fcntl
    except ImportError:  # not POSIX: unique temporary names only
        yield
        return
    with open(out / ".planner.lock", "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def write_files(
    out_dir: str, name: str, files: dict[str, bytes], chart_dirs: Sequence[str] = ()
) -> list[Path]:
    """Write one rendered set that is not a spec's report (``planner
    compare``) as ``write_reports`` does: atomically into ``out_dir``, or its
    one non-chart file to stdout when ``out_dir`` is ``-``."""
    if out_dir == "-":
        data = [v for k, v in files.items() if not k.endswith(".svg")]
        if len(data) != 1:
            raise PlannerError("`-o -` writes one format to stdout: give exactly one -f")
        sys.stdout.buffer.write(data[0])
        sys.stdout.flush()
        return []
    return _commit(Path(out_dir), [Rendered(name, files)], list(chart_dirs))
