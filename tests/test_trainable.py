"""The trainable set: frozen parameters keep weights only; full training is
the set where everything trains. Hand calculations from published counts
(GPT-2 small 124,439,808 parameters, HF openai-community/gpt2; Llama-2-7B
6,738,415,616, HF meta-llama/Llama-2-7b-hf) and the ZeRO paper's bytes per
parameter (Rajbhandari et al. 2020 s3.1: 2 weights + 2 gradients + 4 fp32
master + 8 Adam m, v)."""

from __future__ import annotations

import typing

import pytest

from planner.architecture import ParamTensor
from planner.engine import estimate
from planner.estimate.params import count_parameters
from planner.estimate.states import convention
from planner.estimate.trainable import TRAINABLE_KINDS, model_states, trainable_set
from planner.plan import make_plan
from planner.plan.jsonout import plan_to_dict
from planner.spec import load_spec_text
from planner.spec.schema import TrainingSection

GPT2 = 124_439_808
GPT2_WTE = 50257 * 768  # token embedding, tied to the LM head
GPT2_WPE = 1024 * 768  # learned positions
LLAMA7 = 6_738_415_616
LLAMA7_EMBED = 32000 * 4096  # embed_tokens; lm_head is untied and trains


def _spec(model: str, trainable: str = "full", extra: str = "", gpus: int = 8) -> str:
    return f"""
name: t
model: {model}
training: {{sequence_length: 1024, global_batch_size: 8, tokens: 1e9, trainable: {trainable},
            recompute: full}}
cluster: {{gpu: a100-80gb, max_gpus: {gpus}}}
{extra}
"""


def _states(model: str, kind: str) -> tuple[int, int, int, int]:
    spec = load_spec_text(_spec(model))
    counts = count_parameters(spec.model)
    ts = trainable_set(kind, convention("bf16-mixed", None), counts.tensors, counts.total)
    s = model_states(ts, "adamw")
    return s.weights, s.master_weights, s.gradients, s.optimizer_states


def test_full_training_is_sixteen_bytes_per_parameter() -> None:
    assert _states("gpt2", "full") == (2 * GPT2, 4 * GPT2, 2 * GPT2, 8 * GPT2)
    assert sum(_states("llama-2-7b", "full")) == 16 * LLAMA7


def test_freeze_embeddings_gpt2_by_hand() -> None:
    # Frozen: wte (tied LM head) and wpe keep 16-bit weights only.
    trainable = GPT2 - GPT2_WTE - GPT2_WPE
    assert trainable == 85_056_000
    assert _states("gpt2", "freeze-embeddings") == (
        2 * GPT2,  # 248,879,616: every weight stays
        4 * trainable,  # 340,224,000
        2 * trainable,  # 170,112,000
        8 * trainable,  # 680,448,000
    )
    assert sum(_states("gpt2", "freeze-embeddings")) == 1_439_663_616


def test_freeze_embeddings_llama_2_7b_by_hand() -> None:
    trainable = LLAMA7 - LLAMA7_EMBED  # 6,607,343,616
    assert sum(_states("llama-2-7b", "freeze-embeddings")) == 2 * LLAMA7 + 14 * trainable
    assert 2 * LLAMA7 + 14 * trainable == 105_979_641_856


def test_new_kind_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    # A new kind (BitFit-style: only biases and norms train; Ben Zaken et al.
    # 2022) is one predicate; states follow without other edits.
    def bitfit(t: ParamTensor) -> bool:
        return t.kind in ("bias", "norm")

    monkeypatch.setitem(TRAINABLE_KINDS, "bitfit", bitfit)
    # GPT-2 biases: c_attn 2304, c_proj 768, c_fc 3072, mlp c_proj 768 per
    # layer; LayerNorm weight + bias 2 x 2 x 768 per layer; final norm 2 x 768.
    per_layer = 2304 + 768 + 3072 + 768 + 2 * 2 * 768
    trainable = 12 * per_layer + 2 * 768
    assert trainable == 121_344
    assert _states("gpt2", "bitfit") == (2 * GPT2, 4 * trainable, 2 * trainable, 8 * trainable)


def test_schema_offers_every_registered_kind() -> None:
    field = TrainingSection.model_fields["trainable"].annotation
    assert set(typing.get_args(field)) == set(TRAINABLE_KINDS)


def test_estimate_uses_the_trainable_set() -> None:
    e = estimate(load_spec_text(_spec("llama-2-7b", "freeze-embeddings")))
    assert e.training is not None
    st = e.training.precise.states
    trainable = LLAMA7 - LLAMA7_EMBED
    assert (st.weights, st.master_weights, st.gradients, st.optimizer_states) == (
        2 * LLAMA7, 4 * trainable, 2 * trainable, 8 * trainable,
    )  # fmt: skip
    bf16 = next(r for r in e.training.strategies if r.precision == "bf16-mixed")
    assert bf16.total * LLAMA7 == pytest.approx(2 * LLAMA7 + 14 * trainable)


def test_plan_zero2_shards_only_the_trainable_states() -> None:
    # Llama-2-7B, frozen embeddings, ZeRO-2 over 8 GPUs (t = p = 1): the
    # 16-bit weights stay whole, the trainable states are divided by 8.
    fixed = (
        "parallelism: {tensor_parallel: 1, pipeline_parallel: 1, data_parallel: 8,"
        " zero_stage: 2, offload: none}"
    )
    m = plan_to_dict(make_plan(load_spec_text(_spec("llama-2-7b", "freeze-embeddings", fixed))))
    g = m["plan"]["memory_per_gpu"]
    trainable = LLAMA7 - LLAMA7_EMBED
    assert g["weights"] == 2 * LLAMA7
    assert g["master_weights"] == 4 * trainable // 8
    assert g["gradients"] == 2 * trainable // 8
    assert g["optimizer_states"] == 8 * trainable // 8
    assert m["plan"]["trainable"] == {
        "kind": "freeze-embeddings",
        "parameters": trainable,
        "frozen": LLAMA7_EMBED,
    }
    # DeepSpeed's estimator counts every parameter as trainable: not shown.
    assert m["plan"]["deepspeed_estimator_model_states"] is None


def test_pipeline_puts_frozen_embedding_on_the_first_stage() -> None:
    # GPT-2 with p = 2: the first stage holds wte + wpe (frozen) and 6 layers;
    # its trainable share is the 6 layers only.
    fixed = (
        "parallelism: {tensor_parallel: 1, pipeline_parallel: 2, data_parallel: 1,"
        " zero_stage: 0, offload: none}"
    )
    plan = make_plan(load_spec_text(_spec("gpt2", "freeze-embeddings", fixed)))
    layer = (GPT2 - GPT2_WTE - GPT2_WPE - 2 * 768) // 12
    (p1, t1), (p2, t2) = plan.model.stages(plan.layout)
    assert (p1, t1) == (GPT2_WTE + GPT2_WPE + 6 * layer, 6 * layer)
    # Last stage: 6 layers, final norm and Megatron's copy of the tied wte.
    assert (p2, t2) == (6 * layer + 2 * 768 + GPT2_WTE, 6 * layer + 2 * 768)
