"""Progress on stderr for commands that take seconds (issue 14, part 4).

On a terminal one status line is rewritten in place with the spec and the
stage it is in ("[2/8] specs/llama-3-70b-pretrain.yaml: planning (3.1 s)"),
and erased when the spec is done; otherwise (a log, CI) nothing is
rewritten: one plain line per spec. Output goes to stderr only, so stdout
stays clean for ``-o -`` and ``--format json``.

``delay``: commands that are usually quick (``planner plan``, ``estimate``,
``measure``) pass 2 s, so that nothing is printed unless the run is still
going then (a large layout search, a traced model); a timer thread shows
the stage at that moment. ``planner report`` shows its line at once.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

# A stage shown on a terminal: what the command is doing now.
Stage = str
QUIET_SECONDS = 2.0  # runs shorter than this print nothing (delayed progress)


class Progress:
    """``with Progress(i, n, path) as p: p.stage("planning") ...``"""

    def __init__(
        self,
        index: int,
        total: int,
        label: str,
        stream: TextIO | None = None,
        delay: float = 0.0,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.head = label if total == 1 else f"[{index}/{total}] {label}"
        self.started = time.monotonic()
        self.delay = delay
        self.current = ""
        self.shown = delay <= 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def stage(self, name: Stage) -> None:
        with self._lock:
            self.current = name
            if self.live and self.shown:
                self._draw()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r\x1b[K{self.head}: {self.current} ({elapsed:,.1f} s)")
        self.stream.flush()

    def _late(self) -> None:
        """The delay has passed and the command is still running: show it."""
        with self._lock:
            self.shown = True
            if self.live:
                self._draw()
            else:
                self.stream.write(f"{self.head}: {self.current or 'working'} ...\n")
                self.stream.flush()

    def __enter__(self) -> Progress:
        if self.delay > 0:
            self._timer = threading.Timer(self.delay, self._late)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self.live and self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
