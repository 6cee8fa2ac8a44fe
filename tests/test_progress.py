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


def test_quick_commands_print_nothing_before_the_delay() -> None:
    """`planner plan`/`estimate`/`measure` pass a 2 s delay: a run done
    sooner prints nothing; one still going shows its stage."""
    import time

    quick = _Tty()
    with Progress(1, 1, "specs/seed-7b.yaml", quick, delay=5.0) as p:
        p.stage("planning")
    assert quick.getvalue() == ""
    slow, log = _Tty(), io.StringIO()
    for stream in (slow, log):
        with Progress(1, 1, "specs/big.yaml", stream, delay=0.05) as p:
            p.stage("planning (memory, layout search, time)")
            time.sleep(0.3)
    assert "specs/big.yaml: planning (memory, layout search, time) (0." in slow.getvalue()
    assert slow.getvalue().endswith("\r\x1b[K")
    assert log.getvalue() == "specs/big.yaml: planning (memory, layout search, time) ...\n"


def test_plan_on_a_quick_spec_keeps_stderr_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, ["plan", "specs/seed-7b.yaml", "--format", "json"])
    assert r.exit_code == 0 and r.stderr == ""
