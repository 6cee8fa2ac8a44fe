"""Output that cannot go astray (issue 13, classes 6, 8, 9): reports are
written as a set or not at all, Ctrl-C exits 130 leaving nothing, JSON never
holds NaN or Infinity, and text from a spec stays text in every format."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

import planner.report.writer as w
from planner.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "specs" / "seed-7b.yaml")


def _report(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["report", *args])
    return r.exit_code, r.output


def test_a_bad_spec_later_in_the_run_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\n")
    out = tmp_path / "out"
    code, text = _report(SEED, str(bad), "-o", str(out), "-f", "md")
    assert code == 2 and "bad.yaml" in text
    assert not out.exists() or list(out.iterdir()) == []


def test_duplicate_names_are_refused_before_writing(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(Path(SEED).read_text())
    out = tmp_path / "out"
    code, text = _report(SEED, str(copy), "-o", str(out), "-f", "md")
    assert code == 2 and "'seed-7b' is also the name of" in text, text
    assert not out.exists()


def test_stale_charts_go_and_no_temporary_files_stay(tmp_path: Path) -> None:
    stale = tmp_path / "seed-7b_charts" / "old_chart.svg"
    stale.parent.mkdir()
    stale.write_text("<svg/>")
    code, text = _report(SEED, "-o", str(tmp_path), "-f", "md,html")
    assert code == 0, text
    assert not stale.exists()
    assert (tmp_path / "seed-7b_charts" / "memory_comparison.svg").exists()
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"seed-7b.md", "seed-7b.html", "seed-7b_charts", ".planner.lock"}, names


def test_output_path_problems_are_clean_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    code, text = _report(SEED, "-o", str(afile), "-f", "md")
    assert code == 2 and "is an existing file, not a folder" in text, text
    code, text = _report(SEED, "-o", str(afile / "sub"), "-f", "md")
    assert code == 2 and "cannot write to the output folder" in text, text

    def denied(*a: object, **k: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(w.tempfile, "mkdtemp", denied)
    code, text = _report(SEED, "-o", str(tmp_path / "ro"), "-f", "md")
    assert code == 2 and "Permission denied" in text and "Traceback" not in text, text


def test_interrupt_exits_130_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = w.render

    def interrupted(ctx: object, formats: object, *rest: object) -> object:
        real(ctx, formats, *rest)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(w, "render", interrupted)
    code, text = _report(SEED, "-o", str(tmp_path), "-f", "md")
    assert code == 130 and "interrupted" in text
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_swallowed_while_rendering_is_re_raised() -> None:
    def swallowing(html: str) -> bytes:  # as WeasyPrint does while drawing SVG
        try:  # noqa: SIM105 (WeasyPrint's own pattern, on purpose)
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException:
            pass
        return b"%PDF"

    with pytest.raises(KeyboardInterrupt):
        w._interruptible(swallowing, "")
    assert w._interruptible(lambda html: b"%PDF", "") == b"%PDF"


def test_json_never_holds_nan_or_infinity(monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.pipeline

    # The one place JSON is written (cli._emit) refuses a non-finite number
    # whichever path produced it.
    monkeypatch.setattr(planner.pipeline, "to_dict", lambda *a: {"x": float("inf")})
    r = CliRunner().invoke(main, ["estimate", SEED, "-f", "json"])
    assert r.exit_code == 2 and "not finite" in r.output and "Infinity" not in r.stdout


@pytest.mark.parametrize(
    ("title", "description", "md_has"),
    [
        ("Title ##", "---", ["# Title \\#\\#", "\n\\---\n"]),
        ("ok", "    indented code", ["\nindented code\n"]),
        ("ok", "1. not a list", ["1\\. not a list"]),
        ("red\x1b[31m", "rtl\u202eevil", ["red\\\\x1b\\[31m", "rtl\\\\u202eevil"]),
    ],
)
def test_spec_text_is_text_everywhere(
    title: str, description: str, md_has: list[str], tmp_path: Path
) -> None:
    import json

    spec = tmp_path / "s.yaml"
    text = (
        Path(SEED)
        .read_text()
        .replace(
            'title: "The seed\'s 7B model: simplified vs precise memory"',
            f"title: {json.dumps(title)}\ndescription: {json.dumps(description)}",
        )
    )
    spec.write_text(text)
    code, out = _report(str(spec), "-o", str(tmp_path / "out"), "-f", "md,html")
    assert code == 0, out
    md = (tmp_path / "out" / "seed-7b.md").read_text()
    html = (tmp_path / "out" / "seed-7b.html").read_text()
    for piece in md_has:
        assert piece in md, (piece, md[:400])
    assert "<hr" not in html and "<pre" not in html.split("<body")[1].split("Spec file")[0]
    for bad in ("\x1b", "\u202e"):
        assert bad not in md and bad not in html
    r = CliRunner().invoke(main, ["estimate", str(spec)])
    assert r.exit_code == 0 and "\x1b" not in r.output and "\u202e" not in r.output
