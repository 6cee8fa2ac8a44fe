"""LoRA / QLoRA in the plan: ZeRO shards only the trainable set, the
full-vs-LoRA-vs-QLoRA comparison equals plans of the hand-written variant
specs, REC-016 fires with their numbers (and stays silent when full
fine-tuning is cheap enough), and the report shows the comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.engine import estimate, to_dict
from planner.plan import make_plan
from planner.report.render import render_markdown
from planner.spec import load_spec, load_spec_text

ROOT = Path(__file__).resolve().parent.parent
QLORA_70B = ROOT / "specs" / "llama-3-70b-qlora.yaml"
LORA_8B = ROOT / "specs" / "llama-3.1-8b-lora-24gb.yaml"


def _lora_8b(parallelism: str) -> str:
    return f"""
name: t
model: llama-3.1-8b
training:
  sequence_length: 1024
  global_batch_size: 64
  tokens: 1e8
  precision: bf16-mixed
  finetuning: {{method: lora, rank: 8, target_modules: all-linear}}
cluster: {{gpu: a100-80gb, max_gpus: 8}}
parallelism: {{{parallelism}}}
"""


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_zero_shards_only_the_trainable_set(stage: int) -> None:
    """d = 8: ZeRO-1/2 shard the adapters' master weights and Adam states
    (and gradients from stage 2); the frozen bf16 base stays whole on every
    GPU until ZeRO-3 shards the weights too (DeepSpeed partitions every
    parameter at stage 3). Llama-3.1-8B: 8,030,261,248 base parameters,
    20,971,520 adapters (r = 8, all linear)."""
    base, n, d = 8_030_261_248, 20_971_520, 8
    plan = make_plan(
        load_spec_text(
            _lora_8b(
                f"tensor_parallel: 1, pipeline_parallel: 1, data_parallel: {d},"
                f" zero_stage: {stage}, offload: none, micro_batch_size: 1, recompute: full"
            )
        )
    )
    m = plan.memory
    weights = 2 * (base + n)
    assert m.weights == (round(weights / d) if stage == 3 else weights)
    assert m.master_weights == round(4 * n / d)
    assert m.optimizer_states == round(8 * n / d)
    assert m.gradients == (round(2 * n / d) if stage >= 2 else 2 * n)


def _row(plan, method: str):
    return next(r for r in plan.methods if r.method == method)


def test_comparison_rows_equal_plans_of_the_variant_specs() -> None:
    """The full and LoRA rows of the QLoRA example are what planning the
    same spec written by hand as full fine-tuning / LoRA gives."""
    plan = make_plan(load_spec(str(QLORA_70B)))
    text = QLORA_70B.read_text()
    start = text.index("  finetuning:")
    end = text.index("cluster:")
    full_text = text[:start] + "  implementation: hf-transformers\n" + text[end:]
    lora_text = (
        text.replace("method: qlora", "method: lora")
        .replace("base_precision: nf4", "base_precision: bf16")
        .replace("double_quant: true", "double_quant: false")
    )
    for method, variant in (("full", full_text), ("lora", lora_text)):
        other = make_plan(load_spec_text(variant))
        row = _row(plan, method)
        assert (row.gpus, row.memory_per_gpu, row.fits) == (
            other.layout.gpus, other.memory.total, other.fits
        ), method  # fmt: skip
        assert row.usd == pytest.approx(other.expected.usd)
        assert row.trainable == other.model.trainable.trainable
    own = _row(plan, "qlora")
    assert own.is_spec and own.usd == pytest.approx(plan.expected.usd)


def test_rec016_recommends_qlora_for_70b_with_its_numbers() -> None:
    plan = make_plan(load_spec(str(QLORA_70B)))
    found = {f.id: f for f in plan.findings}
    assert "REC-016" in found
    full, qlora = _row(plan, "full"), _row(plan, "qlora")
    assert full.usd is not None and qlora.usd is not None
    ratio = full.usd / qlora.usd
    assert ratio > 2
    msg = found["REC-016"].message
    assert f"costs {ratio:.1f}x as much" in msg and "QLoRA fits on 1 GPU" in msg, msg
    ev = {e.name: e.value for e in found["REC-016"].evidence}
    assert ev["qlora_gpus"] == 1 and ev["qlora_cost"] == round(qlora.usd, 2)


def test_rec016_full_does_not_fit_without_host_ram() -> None:
    """No CPU offload possible (64 GiB host RAM): full fine-tuning of an 8B
    model (16 bytes/param, 128 GB of model states) cannot fit one 80 GB GPU;
    LoRA's 16 GB bf16 base does."""
    text = _lora_8b("").replace("max_gpus: 8", "max_gpus: 1, host_memory_per_node: 64")
    plan = make_plan(load_spec_text(text.replace("parallelism: {}\n", "")))
    full = _row(plan, "full")
    assert not full.fits and full.min_gpus is not None and full.min_gpus > 1
    msg = {f.id: f.message for f in plan.findings}["REC-016"]
    assert msg.startswith(f"full fine-tuning needs {full.min_gpus} GPUs;"), msg
    assert "fits on 1 GPU" in msg


def test_rec016_silent_when_full_fine_tuning_costs_under_twice() -> None:
    plan = make_plan(load_spec(str(LORA_8B)))
    full, lora = _row(plan, "full"), _row(plan, "lora")
    assert full.fits and full.gpus == lora.gpus == 1
    assert full.days is not None and lora.days is not None
    assert full.usd is not None and lora.usd is not None
    assert full.usd < 2 * lora.usd  # one GPU each: cost follows the duration
    assert "REC-016" not in {f.id for f in plan.findings}


def test_no_comparison_for_pretraining() -> None:
    plan = make_plan(load_spec(str(ROOT / "specs" / "seed-7b.yaml")))
    assert plan.methods == () and "REC-016" not in {f.id for f in plan.findings}


def test_report_shows_full_vs_lora_vs_qlora() -> None:
    from planner.pipeline import evaluate
    from planner.report.context import build_context

    md = render_markdown(build_context(evaluate(load_spec(str(QLORA_70B)))))
    section = md[md.index("## Fine-tuning methods") :]
    section = section[: section.index("\n## ", 5)]
    for name in ("full fine-tuning", "LoRA", "QLoRA (this spec)", "70,553,706,496"):
        assert name in section, name
    assert "828,375,040" in section  # r = 64 on every linear layer of 80 layers


def test_qlora_70b_adapter_count_by_hand() -> None:
    """Llama-3-70B (hidden 8192, 8 KV heads x 128, MLP 28672, 80 layers),
    r = 64 on all linear layers."""
    r, h, kv, i = 64, 8192, 1024, 28672
    per_layer = 2 * r * (h + h) + 2 * r * (h + kv) + 3 * r * (h + i)
    d = to_dict(estimate(load_spec(str(QLORA_70B))))
    assert d["model"]["trainable_parameters"] == 80 * per_layer == 828_375_040


def test_checkpoint_saves_the_adapters_not_the_frozen_base() -> None:
    """PEFT's save_pretrained writes the adapter state dict only
    (peft/utils/save_and_load.py get_peft_model_state_dict), so a QLoRA
    checkpoint is the adapters' weights and optimizer states. By hand for
    specs/llama-3-70b-qlora.yaml (rank 64, all linear: 828,375,040 adapter
    parameters, fp32 under bf16-autocast, AdamW two fp32 moments):
    828,375,040 x (4 + 8) = 9,940,500,480 bytes, not the 49.5 GB that
    counting the nf4 base would give."""
    import os
    from pathlib import Path

    from planner.pipeline import evaluate
    from planner.spec import load_spec

    root = Path(__file__).resolve().parents[1]
    old = os.getcwd()
    os.chdir(root)
    try:
        plan = evaluate(load_spec("specs/llama-3-70b-qlora.yaml")).plan_json
    finally:
        os.chdir(old)
    assert plan["bill_of_materials"]["checkpoint_bytes"] == 828_375_040 * 12
