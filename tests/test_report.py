"""`planner report`: escaping, the writer (atomic, stdout), the CLI, and that
reports/ is current (regenerate with: planner report specs/*.yaml -o reports)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.pipeline import evaluate
from planner.plan import make_plan, plan_to_dict
from planner.report.context import build_context
from planner.report.render import render_html, render_markdown
from planner.report.writer import build, render, write_report
from planner.spec import load_spec_text

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

EVIL = """
name: evil
title: "<script>alert(1)</script> & *bold* | pipe"
description: "<img src=x onerror=alert(2)> [link](javascript:alert(3))"
model: llama-2-7b
training: {sequence_length: 2048, global_batch_size: 8, tokens: 1e8}
cluster: {gpu: a100-80gb, max_gpus: 8, price_per_gpu_hour: 2}
"""


def test_html_escapes_spec_text() -> None:
    spec = load_spec_text(EVIL, "evil.yaml")
    ctx = build_context(evaluate(spec), charts=False)
    html = render_html(ctx, render_markdown(ctx))
    body = html.split("<body>", 1)[1]
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* | pipe" in body
    assert 'href="javascript' not in html


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_reports_are_current(at_root: None) -> None:
    """reports/ matches what `planner report specs/*.yaml -o reports` writes:
    md, html and svg by bytes; the PDF by its summary figures (rendering
    eight PDFs would slow the suite; test_report_golden checks PDF text)."""
    from pypdf import PdfReader

    for path in SPECS:
        ctx = build(path.relative_to(ROOT))
        for rel, data in render(ctx, ("md", "html")).files.items():
            have = ROOT / "reports" / rel
            assert have.exists() and have.read_bytes() == data, (
                f"reports/{rel} is stale: run `planner report specs/*.yaml -o reports`"
            )
        pdf = PdfReader(io.BytesIO((ROOT / "reports" / f"{ctx.name}.pdf").read_bytes()))
        text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
        s = ctx.summary
        figure = s.total if ctx.kind == "training" else s.memory_total
        if not ctx.feasible:  # an infeasible plan requests no money (issue 12.7)
            figure = "INFEASIBLE"
            assert s.total not in text, ctx.name
        assert ctx.title.split(" ")[0] in text and figure in text, ctx.name


def test_writer_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_root: None) -> None:
    import planner.report.pdf as w

    def boom(html: str) -> bytes:
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(w, "render_pdf", boom)
    with pytest.raises(RuntimeError):
        write_report("specs/seed-7b.yaml", str(tmp_path), ("md", "html", "pdf"))
    assert list(tmp_path.iterdir()) == []  # nothing half-written, nothing at all


def test_cli_report_stdout_and_files(tmp_path: Path, at_root: None) -> None:
    r = CliRunner().invoke(main, ["report", "specs/seed-7b.yaml", "-o", "-", "-f", "md"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("# The seed's 7B model")
    r = CliRunner().invoke(main, ["report", "specs/seed-7b.yaml", "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0
    assert (tmp_path / "seed-7b.md").exists()
    assert (tmp_path / "seed-7b_charts" / "memory_comparison.svg").exists()
    bad = CliRunner().invoke(main, ["report", "specs/seed-7b.yaml", "-f", "docx"])
    assert bad.exit_code == 2 and "unknown report format" in bad.output
    two = CliRunner().invoke(main, ["report", "specs/seed-7b.yaml", "-o", "-"])
    assert two.exit_code == 2


def test_every_chart_has_title_caption_and_units(at_root: None) -> None:
    ctx = build("specs/llama-2-7b-finetune.yaml")
    assert set(ctx.charts) == {
        "memory_comparison",
        "precision_strategies",
        "plan_memory",
        "zero_stages",
        "time_cost",
    }
    for c in ctx.charts.values():
        assert c.title and len(c.caption) > 40
        assert "<svg" in c.svg and "Date" not in c.svg


def test_time_table_runs_from_fast_to_slow(at_root: None) -> None:
    """The 'fast end' column has the shortest step, the most tokens/s and the
    fewest GPU-hours; golden files alone would accept swapped columns."""
    from planner.report.budget import time_table

    spec = load_spec_text(EVIL.replace("<script>", "x"))
    rows = {r[0]: r[1:] for r in time_table(plan_to_dict(make_plan(spec))).rows}

    def num(s: str) -> float:
        return float(s.split()[0].replace(",", "").replace("USD", "") or 0)

    tokens = [num(x) for x in rows["Tokens per second"]]
    hours = [num(x) for x in rows["GPU-hours"]]
    assert tokens[0] > tokens[1] > tokens[2]
    assert hours[0] < hours[1] < hours[2]


def test_example_405b_spec_needs_pipeline_across_nodes(at_root: None) -> None:
    """specs/llama-3.1-405b-pretrain.yaml is the example of a run that needs
    pipeline parallelism across nodes (issue: a 405B-class example)."""
    from planner.spec import load_spec

    p = plan_to_dict(make_plan(load_spec("specs/llama-3.1-405b-pretrain.yaml")))["plan"]
    assert p["fits"]
    assert p["tensor_parallel"] == 8  # the whole NVLink domain
    assert p["pipeline_parallel"] > 1
    assert p["tensor_parallel"] * p["pipeline_parallel"] > 8  # one replica spans nodes
