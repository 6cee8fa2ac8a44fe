"""LoRA / QLoRA, frozen layers and pure bf16: counts, storage, model states
and FLOPs against hand calculations.

Sources of the figures:
* LoRA (Hu et al. 2021) s4.1: an adapted W (out x in) trains B (out x r)
  and A (r x in): r (in + out) parameters.
* Llama-2-7B (HF meta-llama/Llama-2-7b-hf config.json): hidden 4096, 32
  layers, 32 heads, MLP 11008, vocabulary 32000, 6,738,415,616 parameters.
* Llama-3.1-8B (HF meta-llama/Llama-3.1-8B config.json): hidden 4096, 32
  layers, 8 KV heads (k/v 1024 wide), MLP 14336, vocabulary 128256,
  8,030,261,248 parameters.
* QLoRA (Dettmers et al. 2023) s3 "Double Quantization": 32/64 = 0.5 bits
  per parameter of fp32 absmax per 64-block, 8/64 + 32/(64 x 256) = 0.127
  bits with double quantization; NF4 values 4 bits.
"""

from __future__ import annotations

import pytest

from planner.engine import estimate, to_dict
from planner.errors import SpecError
from planner.estimate.lora import four_bit_bytes, int8_bytes
from planner.spec import load_spec_text

LLAMA2_7B = 6_738_415_616
LLAMA31_8B = 8_030_261_248


def _spec(model: str, training: str, gpu: str = "a100-80gb") -> str:
    return f"""
name: t
model: {model}
training:
  sequence_length: 512
  tokens: 1e7
{training}
cluster: {{gpu: {gpu}}}
"""


def _lora(model: str, method: str, extra: str = "", precision: str = "bf16-mixed") -> str:
    return _spec(
        model,
        f"  precision: {precision}\n  finetuning:\n    method: {method}\n"
        + "".join(f"    {line}\n" for line in extra.splitlines() if line),
    )


def _json(text: str) -> dict:
    return to_dict(estimate(load_spec_text(text)))


def test_llama2_7b_q_v_rank8_is_4194304_by_hand() -> None:
    # 32 layers x 2 modules (q_proj, v_proj: 4096 -> 4096) x 8 x (4096 + 4096)
    hand = 32 * 2 * 8 * (4096 + 4096)
    assert hand == 4_194_304
    d = _json(_lora("llama-2-7b", "lora", "rank: 8\ntarget_modules: [q_proj, v_proj]"))
    assert d["model"]["trainable_parameters"] == hand
    assert d["memory"]["finetuning"]["adapter_parameters"] == hand
    assert d["model"]["parameters"] == LLAMA2_7B  # the base count is unchanged


def test_llama31_8b_all_linear_rank8_is_20971520_by_hand() -> None:
    r, h, kv, i = 8, 4096, 1024, 14336
    per_layer = (
        r * (h + h)  # q_proj
        + 2 * r * (h + kv)  # k_proj, v_proj (GQA: 8 KV heads x 128)
        + r * (h + h)  # o_proj
        + 3 * r * (h + i)  # gate_proj, up_proj, down_proj
    )
    assert per_layer == 655_360
    assert 32 * per_layer == 20_971_520
    d = _json(_lora("llama-3.1-8b", "lora", "target_modules: all-linear"))
    assert d["model"]["trainable_parameters"] == 20_971_520
    assert d["memory"]["finetuning"]["target_modules"] == [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    ]  # fmt: skip


def test_four_bit_storage_matches_qlora_paper_bits_per_parameter() -> None:
    n = 4096 * 4096  # one q_proj of a 7B/8B llama
    # No double quant: n/2 packed bytes + one fp32 absmax per 64 values + the 16-entry code.
    assert four_bit_bytes(n, False) == n // 2 + 4 * (n // 64) + 64
    assert 8 * four_bit_bytes(n, False) / n == pytest.approx(4.5, abs=1e-4)
    # Double quant: uint8 absmax per 64 values, fp32 per 256 absmax blocks,
    # the fp32 mean, a copy of the 256-entry fp32 dynamic code, the 4-bit code.
    blocks = n // 64
    assert four_bit_bytes(n, True) == n // 2 + blocks + 4 * (blocks // 256) + 4 + 1024 + 64
    assert 8 * four_bit_bytes(n, True) / n == pytest.approx(4 + 8 / 64 + 32 / (64 * 256), abs=1e-3)
    # Odd sizes round up: 65 values = 33 packed bytes, 2 blocks.
    assert four_bit_bytes(65, False) == 33 + 8 + 64


def test_int8_storage_one_byte_and_one_fp32_scale_per_row() -> None:
    assert int8_bytes(4096, 11008) == 4096 * 11008 + 4 * 4096


def test_lora_model_states_pure_bf16_by_hand() -> None:
    """Pure bf16: the frozen base 2 bytes/param, adapters 2 (weight) + 2
    (gradient) + 2 + 2 (AdamW m, v in bf16), no master copy."""
    n = 4_194_304
    d = _json(_lora("llama-2-7b", "lora", precision="bf16"))
    p = d["memory"]["precise"]
    assert p["weights"] == 2 * LLAMA2_7B + 2 * n
    assert p["master_weights"] == 0
    assert p["gradients"] == 2 * n
    assert p["optimizer_states"] == 4 * n
    ft = d["memory"]["finetuning"]
    assert ft["base_weights"] == 2 * LLAMA2_7B and ft["adapter_weights"] == 2 * n


def test_qlora_llama31_8b_base_storage_by_hand() -> None:
    """NF4 with double quantization on every layer linear; embeddings, the
    LM head and the norms stay bf16 (transformers' bnb integration skips
    lm_head)."""
    h, kv, i, v, L = 4096, 1024, 14336, 128256, 32

    def nf4dq(n: int) -> int:
        blocks = -(-n // 64)
        return (n + 1) // 2 + blocks + 4 * -(-blocks // 256) + 4 + 1024 + 64

    layer = 2 * nf4dq(h * h) + 2 * nf4dq(kv * h) + 3 * nf4dq(i * h)
    sixteen = 2 * (2 * v * h + (2 * L + 1) * h)  # embed, lm_head, 65 RMSNorm weights
    d = _json(_lora("llama-3.1-8b", "qlora", "double_quant: true\ntarget_modules: all-linear"))
    ft = d["memory"]["finetuning"]
    assert ft["base_weights"] == L * layer + sixteen
    # bf16-mixed adapters: 2 + 4 master + 2 gradient + 8 Adam bytes per parameter.
    n = 20_971_520
    assert (ft["adapter_weights"], ft["adapter_master_weights"]) == (2 * n, 4 * n)
    assert (ft["adapter_gradients"], ft["adapter_optimizer_states"]) == (2 * n, 8 * n)
    # One dequantized MLP weight (14336 x 4096) in bf16 at a time.
    assert ft["dequantized_weight"] == 2 * i * h


def test_trainable_extra_is_a_trainable_copy() -> None:
    """PEFT modules_to_save deep-copies the module: the frozen original stays."""
    d = _json(_lora("llama-2-7b", "lora", "trainable_extra: [lm_head]"))
    head = 32000 * 4096
    assert d["model"]["trainable_parameters"] == 4_194_304 + head
    assert d["memory"]["finetuning"]["base_weights"] == 2 * LLAMA2_7B


def test_freeze_layers_trains_the_rest() -> None:
    """Llama-2-7B, first 8 of 32 blocks frozen: one block is 4 x 4096^2
    (attention) + 3 x 4096 x 11008 (MLP) + 2 x 4096 (norms) = 202,383,360."""
    block = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096
    assert block == 202_383_360
    d = _json(_spec("llama-2-7b", "  freeze_layers: 8"))
    assert d["model"]["trainable_parameters"] == LLAMA2_7B - 8 * block
    p = d["memory"]["precise"]
    assert p["weights"] == 2 * LLAMA2_7B  # frozen blocks keep 16-bit weights
    assert p["gradients"] == 2 * (LLAMA2_7B - 8 * block)


def test_pure_bf16_full_training_is_eight_bytes_per_parameter() -> None:
    d = _json(_spec("llama-2-7b", "  precision: bf16"))
    p = d["memory"]["precise"]
    parts = (p["weights"], p["master_weights"], p["gradients"], p["optimizer_states"])
    assert parts == (2 * LLAMA2_7B, 0, 2 * LLAMA2_7B, 4 * LLAMA2_7B)


def test_frozen_weights_cost_2n_backward() -> None:
    """Llama-2-7B LoRA r=8 on q, v: matmul weights per token are the layer
    linears plus the LM head (the embedding is a lookup); frozen ones cost
    2N forward + 2N backward, adapters 6n, attention 3 x forward."""
    lin = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) + 32000 * 4096
    n = 4_194_304
    full = _json(_spec("llama-2-7b", ""))["compute"]
    lora = _json(_lora("llama-2-7b", "lora"))["compute"]
    attn = full["attention_flops_per_token"]  # 3 x forward attention
    assert full["flops_per_token"] == pytest.approx(6 * lin + attn)
    assert lora["flops_per_token"] == pytest.approx(4 * lin + 6 * n + attn)


@pytest.mark.parametrize(
    ("training", "where", "message"),
    [
        ("  finetuning: {method: qlora, base_precision: bf16}", "training.finetuning",
         "does not go with method 'qlora'"),
        ("  finetuning: {method: lora, base_precision: nf4}", "training.finetuning",
         "does not go with method 'lora'"),
        ("  finetuning: {method: qlora, base_precision: int8, double_quant: true}",
         "training.finetuning", "4-bit bases"),
        ("  finetuning: {method: lora, target_modules: [q_proj, qkv]}",
         "training.finetuning.target_modules[1]", "no linear module 'qkv'"),
        ("  finetuning: {method: lora, trainable_extra: [head]}",
         "training.finetuning.trainable_extra[0]", "no module 'head'"),
        ("  finetuning: {method: lora, rnak: 8}", "training.finetuning.rnak", ""),
        ("  finetuning: {method: lora, rank: 0}", "training.finetuning.rank", ""),
        ("  freeze_layers: 33", "training.freeze_layers", "at most the model's layers (32)"),
        ("  freeze_layers: 2\n  finetuning: {method: lora}", "training", "freeze_layers"),
        ("  implementation: megatron\n  finetuning: {method: lora}", "training",
         "hf-transformers"),
        ("  precision: fp8-mixed\n  finetuning: {method: lora}", "training", "not modelled"),
    ],
)  # fmt: skip
def test_bad_finetuning_specs_are_refused(training: str, where: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec_text(_spec("llama-2-7b", training))
    text = str(err.value)
    assert where in text and message in text, text


def test_lora_refused_where_not_modelled() -> None:
    with pytest.raises(SpecError, match="routed experts"):
        load_spec_text(_spec("mixtral-8x7b", "  finetuning: {method: lora}"))
    with pytest.raises(SpecError, match="layer shapes"):
        load_spec_text(
            _spec("{parameters: 7e9, hidden_size: 4096, num_layers: 32, num_attention_heads:"
                  " 32, architecture: llama}", "  finetuning: {method: lora}")
        )  # fmt: skip


def test_paged_optimizers_keep_the_states_of_what_they_page() -> None:
    """bitsandbytes PagedAdamW / PagedAdamW8bit: same states in unified
    memory, counted on the GPU (QLoRA s3, "Paged Optimizers")."""

    def states(opt: str) -> int:
        text = _lora("llama-2-7b", "qlora", precision="bf16-mixed").replace(
            "  precision: bf16-mixed", f"  precision: bf16-mixed\n  optimizer: {opt}"
        )
        return _json(text)["memory"]["precise"]["optimizer_states"]

    assert states("paged-adamw") == states("adamw") == 8 * 4_194_304
    assert states("paged-adamw-8bit") == states("adamw-8bit")
