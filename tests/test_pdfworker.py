"""The PDF worker (planner.report.pdfworker): it prints the same bytes as
in-process printing, in submission order, and a failure in it is an error
in the parent, never a hang or a half-written folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.report import pdf, pdfworker
from planner.report.writer import build, render, write_reports

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _html(case: str) -> str:
    ctx = build(f"specs/{case}.yaml")
    return render(ctx, ("html",)).files[f"{ctx.name}.html"].decode("utf-8")


def test_in_process_when_no_pdf_is_wanted() -> None:
    assert isinstance(pdfworker.printer(False), pdfworker.InProcess)


def test_worker_prints_the_in_process_bytes_in_order(at_root: None) -> None:
    a, b = _html("seed-7b"), _html("llama-2-70b-fp16-serving")
    w = pdfworker.Worker()
    try:
        later_a, later_b = w.submit(a), w.submit(b)
        got_b, got_a = later_b(), later_a()  # waiting out of order is fine
    finally:
        w.close()
    assert got_a == pdf.render_pdf(a) and got_b == pdf.render_pdf(b)
    assert got_a.startswith(b"%PDF") and got_a != got_b


def test_worker_failure_is_an_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_root: None
) -> None:
    def boom(html: str) -> bytes:
        raise ValueError("printer on fire")

    monkeypatch.setattr(pdf, "render_pdf", boom)  # inherited by the forked worker
    w = pdfworker.Worker()
    try:
        with pytest.raises(RuntimeError, match="ValueError: printer on fire"):
            write_reports(["specs/seed-7b.yaml"], str(tmp_path), ("md", "pdf"), printer=w)
    finally:
        w.close()
    assert list(tmp_path.iterdir()) == []


def test_dead_worker_is_reported_not_waited_for() -> None:
    w = pdfworker.Worker()
    later = w.submit("<p>x</p>")
    w._proc.kill()
    try:
        with pytest.raises(RuntimeError, match="PDF worker stopped"):
            later()
    finally:
        w.close()
