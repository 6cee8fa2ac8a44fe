"""PDF printing in a second process that warms up while the planner plans.

Why: of a full ``planner report`` (benchmarks/report_timing.py), importing
WeasyPrint and loading its fonts takes about as long as loading the spec,
planning and rendering Markdown and HTML together; the two do not depend on
each other. A worker forked at the start of ``write_reports`` imports
WeasyPrint and prints a tiny page while the main process plans, then prints
each report's HTML in order, so a run of several specs also overlaps spec
*i*'s PDF with spec *i+1*'s planning. The bytes are those
``planner.report.pdf.render_pdf`` prints in-process (tests/test_report.py checks it).

Where ``fork`` is not offered (not POSIX) or there is one CPU, printing
stays in-process (``InProcess``). The worker ignores Ctrl-C; the main
process, told it, stops the worker and writes nothing (planner.report.writer).
Queues carry the HTML and the PDF (their feeder threads never block the
sender, so a large PDF and the next HTML cannot deadlock).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import queue
import signal
from collections.abc import Callable
from typing import Any

# Seconds between checks that the worker is still alive while waiting.
_POLL_SECONDS = 0.5


def _serve(tasks: Any, results: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    from planner.report import pdf

    # Fonts and fontconfig load here; a broken printer is reported with the first real page.
    with contextlib.suppress(Exception):
        pdf.render_pdf("<html><body><p>warm-up</p></body></html>")
    # The objects loaded so far live as long as the worker: the cyclic
    # collector need not scan them again (gc.freeze), and it waits while a
    # page is laid out (WeasyPrint allocates millions of small objects; about
    # 10% of a report's printing time) and runs once the PDF is sent.
    gc.freeze()
    while True:
        html = tasks.get()
        if html is None:
            return
        gc.disable()
        try:
            results.put(("ok", pdf.render_pdf(html)))
        except Exception as exc:  # reported by the parent, with its type
            results.put(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            gc.enable()
            gc.collect()


class InProcess:
    """Print where called (``fork`` missing, or one CPU)."""

    def submit(self, html: str) -> Callable[[], bytes]:
        from planner.report import pdf

        return lambda: pdf.render_pdf(html)

    def close(self) -> None:
        pass


class Worker:
    """One forked process printing PDFs in submission order."""

    def __init__(self) -> None:
        ctx = mp.get_context("fork")
        self._tasks: Any = ctx.Queue()
        self._results: Any = ctx.Queue()
        self._proc = ctx.Process(target=_serve, args=(self._tasks, self._results), daemon=True)
        self._proc.start()
        self._pending = 0
        self._done: list[bytes] = []

    def submit(self, html: str) -> Callable[[], bytes]:
        """Queue ``html``; the returned thunk waits for its PDF
        (planner.report.pdf.render_pdf, run in the worker)."""
        index = self._pending
        self._pending += 1
        self._tasks.put(html)
        return lambda: self._result(index)

    def _result(self, index: int) -> bytes:
        while len(self._done) <= index:
            try:
                status, data = self._results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError(
                        f"the PDF worker stopped (exit code {self._proc.exitcode})"
                    ) from None
                continue
            if status != "ok":
                raise RuntimeError(f"printing the PDF failed: {data}")
            self._done.append(data)
        return self._done[index]

    def close(self) -> None:
        if self._proc.is_alive():
            self._tasks.put(None)
            self._proc.join(timeout=_POLL_SECONDS)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()
        for q in (self._tasks, self._results):
            q.cancel_join_thread()
            q.close()


def printer(wanted: bool) -> Worker | InProcess:
    """A forked worker when PDFs are wanted and it can help, else in-process."""
    if wanted and "fork" in mp.get_all_start_methods() and (os.cpu_count() or 1) > 1:
        return Worker()
    return InProcess()
