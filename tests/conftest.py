"""Shared test options. ``pytest --update-golden`` rewrites the golden files
under tests/golden/ instead of comparing against them (review with
``git diff tests/golden``)."""

from __future__ import annotations

from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output instead of comparing",
    )


class Golden:
    """Compare output with tests/golden/<case>/<file>, or rewrite it."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, case: str, name: str, data: str | bytes) -> None:
        path = GOLDEN_DIR / case / name
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
            return
        assert path.exists(), f"missing golden file {path}: run pytest --update-golden"
        assert path.read_bytes() == raw, (
            f"{path} differs from the current output; if the change is intended, run"
            " pytest --update-golden and review git diff tests/golden"
        )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))
