"""docs/accuracy.md is current: its table rows equal freshly traced rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.measure.matrix import markdown_row

pytest.importorskip("torch")
pytest.importorskip("transformers")

DOC = Path(__file__).resolve().parent.parent / "docs" / "accuracy.md"


def test_accuracy_table_is_current() -> None:
    from planner.measure import versions
    from planner.measure.matrix import rows

    text = DOC.read_text(encoding="utf-8")
    doc_rows = [line for line in text.splitlines() if line.startswith("| tiny-")]
    fresh = [markdown_row(r) for r in rows()]
    hint = "regenerate with: python benchmarks/accuracy.py"
    assert doc_rows == fresh, hint
    v = versions()
    assert f"torch {v['torch']}, transformers {v['transformers']}" in text, hint
