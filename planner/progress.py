"""Progress on stderr for commands that take seconds (``planner report``).

On a terminal one status line is rewritten in place with the spec and the
stage it is in ("[2/8] specs/llama-3-70b-pretrain.yaml: planning"), and
erased when the spec is done; otherwise (a log, CI) nothing is rewritten:
the caller prints one line per spec. Output goes to stderr only, so stdout
stays clean for ``-o -``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

# A stage shown on a terminal: what the report is doing now.
Stage = str


class Progress:
    """``with Progress(i, n, path) as p: p.stage("planning") ...``"""

    def __init__(self, index: int, total: int, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.head = f"[{index}/{total}] {label}"
        self.started = time.monotonic()

    def stage(self, name: Stage) -> None:
        if self.live:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r\x1b[K{self.head}: {name} ({elapsed:,.1f} s)")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
