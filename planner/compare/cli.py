"""The body of ``planner compare`` (planner/cli.py keeps only its options):
evaluate each spec with progress on stderr, print the comparison on stdout
(text or JSON), write the report files when asked. No click here: errors
are PlannerError (exit 2), the caller exits 1 when nothing is feasible."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from planner.errors import PlannerError
from planner.textsafe import clean

DEFAULT_FORMATS = "md,html,pdf"
DEFAULT_DIR = "reports"


def _progress(total: int) -> Callable[[int, str], Any]:
    from planner.progress import Progress

    @contextmanager
    def progress(i: int, path: str) -> Iterator[Callable[[str], None]]:
        # On a terminal: one status line with the stage; otherwise one line per spec.
        with Progress(i, total, clean(path)) as line:
            if not line.live:
                print(line.head, file=sys.stderr, flush=True)
            yield line.stage

    return progress


def run_compare(
    specs: tuple[str, ...],
    out_dir: str | None,
    formats: str | None,
    fmt: str,
    name: str | None,
    emit: Callable[[dict[str, Any]], None],
) -> bool:
    """Returns True when some option is feasible (the exit status is 0)."""
    from planner.compare import compare, evaluate_all
    from planner.compare.output import comparison_json, render_text
    from planner.compare.report import parse_compare_formats, write_compare_report

    writing = out_dir is not None or formats is not None
    fmts = parse_compare_formats(formats or DEFAULT_FORMATS) if writing else ()
    if out_dir == "-" and len(fmts) != 1:
        raise PlannerError("`-o -` writes the comparison in one format to stdout: give one -f")
    results = evaluate_all(specs, _progress(len(specs)))
    comparison = compare(results)
    if out_dir == "-":
        write_compare_report(results, comparison, "-", fmts, name)
        return comparison.recommended is not None
    if fmt == "json":
        emit(comparison_json(comparison))
    else:
        print(clean(render_text(comparison)), flush=True)
    if writing:
        for path in write_compare_report(results, comparison, out_dir or DEFAULT_DIR, fmts, name):
            if not path.name.endswith(".svg"):
                print(clean(f"  {path}"), file=sys.stderr)
    return comparison.recommended is not None
