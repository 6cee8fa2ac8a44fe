"""The exception types planner raises. The library never imports click;
the CLI turns these into one clean message and exit status 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where it is and what is allowed."""

    path: str  # dotted field path, e.g. "training.micro_batch_size"
    message: str
    line: int | None = None

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        field = self.path or "<top level>"
        return f"{where}: {field}: {self.message}"


class PlannerError(Exception):
    """Base class for errors a user can fix (bad input, missing extra)."""


class SpecError(PlannerError):
    """A spec file failed validation. Carries every problem found, not just the first."""

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [p.render(self.filename) for p in self.problems]
        head = f"{self.filename}: {len(self.problems)} problem(s) in the spec"
        return "\n".join([head, *lines])
