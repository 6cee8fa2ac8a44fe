"""Evaluate every spec of a comparison, once each, with progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from planner.errors import PlannerError
from planner.pipeline import Result

OnStage = Callable[[str], None]
# Per spec (its index from 1 and its path): a context that yields the
# callback told each stage (planner.progress.Progress in the CLI).
StageContext = Callable[[int, str], AbstractContextManager[OnStage]]


def _quiet(_i: int, _p: str) -> AbstractContextManager[OnStage]:
    return nullcontext(lambda _stage: None)


def evaluate_all(paths: Sequence[str | Path], progress: StageContext = _quiet) -> list[Result]:
    """One Result per spec; every spec must be a training spec with its own
    ``name`` (the option's name in the table, the JSON and the chart)."""
    from planner.pipeline import evaluate
    from planner.spec import load_spec

    if len(paths) < 2:
        raise PlannerError("planner compare: give at least two specs to compare")
    results: list[Result] = []
    names: dict[str, str] = {}
    for i, path in enumerate(paths, start=1):
        with progress(i, str(path)) as on_stage:
            on_stage("validating the spec")
            spec = load_spec(path)
            if spec.training is None:
                raise PlannerError(
                    f"{path}: training: planner compare compares training runs; this spec has"
                    " an inference section (use `planner report` for serving plans)"
                )
            if spec.name in names:
                raise PlannerError(
                    f"{path}: name: {spec.name!r} is also the name of {names[spec.name]}; each"
                    " option needs its own name"
                )
            names[spec.name] = str(path)
            on_stage("planning (memory, layout search, time)")
            results.append(evaluate(spec))
    return results
