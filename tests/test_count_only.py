"""The seed's own way to give a model (issue 8): the parameter count plus
hidden size, layers and heads, with no ``architecture``. The seed document
(shared/SEED.md) gives "7B" as 7e9 parameters with hidden 4096, 32 layers and
32 heads; planner then assumes the llama block, Llama-2's 32,000-token
vocabulary and Llama's MLP width rule, and says so."""

from __future__ import annotations

import pytest

from planner.engine import estimate, to_dict
from planner.errors import SpecError
from planner.families.llama import llama_mlp_width
from planner.spec.loader import load_spec_text

TRAINING = """\
training: {sequence_length: 2048, micro_batch_size: 32, global_batch_size: 32, tokens: 1e9,
  precision: bf16-mixed, optimizer: adamw, attention: eager, recompute: none}
cluster: {gpu: a100-80gb, max_gpus: 1, price_per_gpu_hour: 2.0}
"""


def _spec(model: str):  # type: ignore[no-untyped-def]
    return load_spec_text(f"name: t\nmodel: {model}\n{TRAINING}", "t.yaml")


@pytest.mark.parametrize(
    ("hidden", "width", "model"),
    [
        # Published intermediate_size of the LLaMA-1 / Llama-2 checkpoints
        # (HF config.json of each), which Meta's FeedForward rule produced.
        (4096, 11008, "LLaMA-7B / Llama-2-7B"),
        (5120, 13824, "LLaMA-13B / Llama-2-13B"),
        (6656, 17920, "LLaMA-30B"),
        (8192, 22016, "LLaMA-65B"),
    ],
)
def test_llama_mlp_width_rule_reproduces_published_widths(
    hidden: int, width: int, model: str
) -> None:
    assert llama_mlp_width(hidden) == width, model


def test_seed_model_without_architecture_equals_the_seed_preset() -> None:
    bare = _spec("{parameters: 7e9, hidden_size: 4096, num_layers: 32, num_attention_heads: 32}")
    preset = _spec("seed-7b")
    a = bare.model
    assert a.family == "llama" and a.parameters == 7_000_000_000
    assert (a.vocab_size, a.intermediate_size) == (32000, 11008)
    eb, ep = to_dict(estimate(bare)), to_dict(estimate(preset))
    # Every figure of the memory estimate is the preset's (seed-7b gives the
    # same assumed vocabulary and width explicitly, planner/data/models.yaml).
    assert eb["memory"] == ep["memory"]
    assert eb["model"]["parameters"] == 7_000_000_000
    assumed = eb["model"]["assumed"]
    assert len(assumed) == 3 and assumed[0].startswith("architecture: the llama block")
    assert "vocab_size: 32,000 (not given)" in assumed
    assert ep["model"]["assumed"] == []


def test_given_fields_are_not_assumed() -> None:
    a = _spec(
        "{parameters: 7e9, hidden_size: 4096, num_layers: 32, num_attention_heads: 32,"
        " vocab_size: 50000, intermediate_size: 12000}"
    ).model
    assert (a.vocab_size, a.intermediate_size) == (50000, 12000)
    assert len(a.notes) == 1


def test_shape_is_still_required() -> None:
    with pytest.raises(SpecError) as e:
        _spec("{parameters: 7e9, hidden_size: 4096}")
    msg = str(e.value)
    assert "model.num_layers" in msg and "model.num_attention_heads" in msg


def test_no_architecture_and_no_count_says_how_to_give_one() -> None:
    with pytest.raises(SpecError) as e:
        _spec("{hidden_size: 4096, num_layers: 32, num_attention_heads: 32}")
    msg = str(e.value)
    assert "model.architecture" in msg and "`parameters`" in msg
