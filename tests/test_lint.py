"""The code passes ruff (lint and format) and mypy, configured in pyproject.toml."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["planner", "tests", "benchmarks"]


def _ruff() -> list[str]:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(exe).exists():
        pytest.fail("ruff is part of the test extra: pip install -e '.[test]'")
    return [exe]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff(args: list[str]) -> None:
    r = subprocess.run([*_ruff(), *args, *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy() -> None:
    """Type annotations hold (STYLE.md): ``python -m mypy planner`` from the repo root."""
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is part of the test extra: pip install -e '.[test]'")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "planner"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
