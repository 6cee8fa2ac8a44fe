"""Plug-in report sections (planner/report/sections.py): the checkpoint
storage section, by hand."""

from __future__ import annotations

from pathlib import Path

from planner.pipeline import evaluate
from planner.report.context import build_context
from planner.report.render import render_markdown
from planner.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_checkpoint_section_llama2_7b_by_hand() -> None:
    # Llama-2-7B, 6,738,415,616 parameters (model card), bf16-mixed AdamW:
    # 2 (bf16 weights) + 4 (fp32 master) + 8 (Adam m, v) = 14 bytes/param
    # = 94.34 GB per full checkpoint; gradients are not saved.
    r = evaluate(load_spec(ROOT / "specs" / "llama-2-7b-finetune.yaml"))
    ctx = build_context(r, charts=False)
    [sec] = [s for s in ctx.extra if s.template == "md/checkpoint.md.j2"]
    rows = dict(sec.table.rows)
    assert rows["one full checkpoint"] == "87.86 GiB (94.34 GB)"  # 14 x 6,738,415,616 B
    assert rows["weights-only export"] == "12.55 GiB (13.48 GB)"
    md = render_markdown(ctx)
    assert "## Checkpoint storage" in md
    assert md.index("## Checkpoint storage") < md.index("## Assumptions and sources")


def test_no_checkpoint_section_for_serving() -> None:
    r = evaluate(load_spec(ROOT / "specs" / "llama-2-70b-fp16-serving.yaml"))
    assert not build_context(r, charts=False).extra
