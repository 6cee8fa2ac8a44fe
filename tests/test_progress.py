"""Progress on stderr for `planner report` (issue 14, part 4): the stage and
the spec on a terminal, one line per spec otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.progress import Progress
from planner.report.writer import write_report

ROOT = Path(__file__).resolve().parents[1]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_shows_spec_and_each_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    tty = _Tty()
    with Progress(2, 8, "specs/seed-7b.yaml", tty) as p:
        assert p.live
        write_report("specs/seed-7b.yaml", str(tmp_path), ("md",), on_stage=p.stage)
    out = tty.getvalue()
    for stage in (
        "validating the spec",
        "planning",
        "building the report",
        "rendering Markdown",
        "writing",
    ):
        assert f"[2/8] specs/seed-7b.yaml: {stage}" in out, (stage, out)
    assert out.endswith("\r\x1b[K")  # the status line is erased when done
    assert (tmp_path / "seed-7b.md").exists()


def test_not_a_terminal_one_line_per_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    specs = ["specs/seed-7b.yaml", "specs/llama-2-70b-fp16-serving.yaml"]
    r = CliRunner().invoke(main, ["report", *specs, "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0, r.output
    lines = r.stderr.splitlines() if hasattr(r, "stderr") else r.output.splitlines()
    heads = [ln for ln in lines if ln.startswith("[")]
    assert heads == [f"[1/2] {specs[0]}", f"[2/2] {specs[1]}"], lines
    assert "\r" not in r.output
