"""Training and inference memory, and compute, against hand calculations
and published figures (sources next to each test).

Every expected number is derived in the test from the paper's or the
library's definition, not taken from planner's output.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.engine import estimate, to_dict
from planner.pipeline import evaluate
from planner.spec.loader import load_spec_text

ROOT = Path(__file__).parents[1]
GiB = 2**30


def run(
    model: Any,
    training: dict[str, Any] | None = None,
    inference: dict[str, Any] | None = None,
    cluster: dict[str, Any] | None = None,
    assumptions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": "t", "model": model, "cluster": cluster or {"gpu": "h100"}}
    if training is not None:
        doc["training"] = {"tokens": 1_000_000_000, **training}
    if inference is not None:
        doc["inference"] = inference
    if assumptions is not None:
        doc["assumptions"] = assumptions
    return to_dict(estimate(load_spec_text(yaml.safe_dump(doc), "t.yaml")))


def precise(model: Any, **training: Any) -> dict[str, Any]:
    training.setdefault("sequence_length", 1024)
    return run(model, training)["memory"]["precise"]


# ------------------------------------------------------------ the seed


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    spec = load_spec_text((ROOT / "specs" / "seed-7b.yaml").read_text(), "seed-7b.yaml")
    return to_dict(estimate(spec))


def test_seed_precise_model_states(seed: dict[str, Any]) -> None:
    # shared/SEED.md method 2: fp32 master 7e9 x 4 = 28 GB, fp16 weights
    # 7e9 x 2 = 14 GB, fp16 gradients 14 GB, Adam m + v 7e9 x 8 = 56 GB.
    p = seed["memory"]["precise"]
    assert p["master_weights"] == 28_000_000_000
    assert p["weights"] == 14_000_000_000
    assert p["gradients"] == 14_000_000_000
    assert p["optimizer_states"] == 56_000_000_000
    states = p["master_weights"] + p["weights"] + p["gradients"] + p["optimizer_states"]
    assert states == 112_000_000_000


def test_seed_simplified(seed: dict[str, Any]) -> None:
    # SEED.md method 1: 14 + 14 + 2 x 14 = 56 GB, plus the seed's activation
    # formula b x s x h x 2 bytes x L = 32 x 2048 x 4096 x 2 x 32.
    s = seed["memory"]["simplified"]
    assert s["weights"] + s["gradients"] + s["optimizer_states"] == 56_000_000_000
    assert s["activations"] == 32 * 2048 * 4096 * 2 * 32 == 17_179_869_184
    assert s["activations"] == 16 * GiB  # SEED.md "what it gets wrong" 1: not 48 GB
    assert abs(s["activations"] - 48e9) > 30e9
    assert s["total"] == 56_000_000_000 + 17_179_869_184


def test_seed_precise_activations_llama_layer(seed: dict[str, Any]) -> None:
    # The seed's model is llama-shaped (h 4096, 32 heads, MLP 11008, assumed),
    # eager attention, no dropout, 16-bit, megatron profile. Per layer (bytes):
    # RMSNorm inputs 2sbh x 2, QKV input 2sbh, Q K V 3 x 2sbh (MHA), softmax
    # output 2as^2b, o_proj input 2sbh, fc1 input 2sbh, SwiGLU input (gate and
    # up) 2 x 2sbi, down-projection input 2sbi.
    s, b, h, a, i = 2048, 32, 4096, 32, 11008
    sb = s * b
    layer = sb * (2 * 2 * h + 2 * h + 3 * 2 * h + 2 * h + 2 * h + 4 * i + 2 * i) + 2 * a * s * s * b
    assert seed["memory"]["precise"]["activations_per_layer"] == layer == 17_213_423_616


# --------------------------------------------------- precision conventions

P7 = 6_738_415_616  # Llama-2-7B (model_facts.yaml)


def _states(p: dict[str, Any]) -> tuple[int, int, int, int]:
    return p["master_weights"], p["weights"], p["gradients"], p["optimizer_states"]


def test_bf16_mixed_adam_is_16_bytes() -> None:
    # ZeRO (Rajbhandari et al. 2020) s3.1: 2 + 2 + 12 = 16 bytes/param.
    assert _states(precise("llama-2-7b")) == (4 * P7, 2 * P7, 2 * P7, 8 * P7)


def test_fp32_gradients_are_18_bytes() -> None:
    # Megatron-LM docs/source/api-guide/dist_optimizer.md: "bf16 param, fp32
    # grads: 18 bytes/param" (2 weights + 4 grads + 4 master + 8 Adam).
    p = precise("llama-2-7b", gradient_precision="fp32")
    assert sum(_states(p)) == 18 * P7
    assert p["gradients"] == 4 * P7


def test_fp32_training_is_16_bytes_without_master() -> None:
    p = precise("llama-2-7b", precision="fp32")
    assert _states(p) == (0, 4 * P7, 4 * P7, 8 * P7)


def test_bf16_autocast_keeps_fp32_weights_no_master() -> None:
    # torch.autocast over fp32 parameters: fp32 weights and grads, no master copy.
    p = precise("llama-2-7b", precision="bf16-autocast")
    assert _states(p) == (0, 4 * P7, 4 * P7, 8 * P7)


def test_fp16_mixed_same_states_as_bf16_mixed() -> None:
    assert _states(precise("llama-2-7b", precision="fp16-mixed")) == _states(precise("llama-2-7b"))


def test_fp8_mixed_adds_one_byte_per_linear_weight() -> None:
    # Transformer Engine caches an FP8 copy of each linear weight (not the
    # embedding, LM head or norms). Llama-2-7B linear weights per layer:
    # 4 x 4096^2 + 3 x 4096 x 11008 = 202,375,168.
    linear = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)
    assert linear == 6_476_005_376
    p = precise("llama-2-7b", precision="fp8-mixed")
    assert _states(p) == (4 * P7, 2 * P7 + linear, 2 * P7, 8 * P7)


# ------------------------------------------------------------ optimizers


@pytest.mark.parametrize(
    ("optimizer", "per_param"),
    [("adam", 8), ("adamw", 8), ("sgd", 0), ("sgd-momentum", 4), ("lion", 4)],
)
def test_flat_optimizers(optimizer: str, per_param: int) -> None:
    # Adam m, v (Kingma & Ba 2015); SGD none; momentum buffer; Lion one
    # momentum (Chen et al. 2023 Alg. 1); all fp32.
    assert precise("llama-2-7b", optimizer=optimizer)["optimizer_states"] == per_param * P7


def _gpt2_hf_tensors(h: int, L: int, V: int = 50257, n_pos: int = 1024) -> list[tuple[int, ...]]:
    """The parameter tensors of HF GPT2LMHeadModel (modeling_gpt2.py; Conv1D
    weights are stored (in, out); lm_head is tied to wte)."""
    i = 4 * h
    out: list[tuple[int, ...]] = [(V, h), (n_pos, h)]
    layer: list[tuple[int, ...]] = [
        (h,),  # ln_1.weight
        (h,),  # ln_1.bias
        (h, 3 * h),  # attn.c_attn.weight
        (3 * h,),  # attn.c_attn.bias
        (h, h),  # attn.c_proj.weight
        (h,),  # attn.c_proj.bias
        (h,),  # ln_2.weight
        (h,),  # ln_2.bias
        (h, i),  # mlp.c_fc.weight
        (i,),  # mlp.c_fc.bias
        (i, h),  # mlp.c_proj.weight
        (h,),  # mlp.c_proj.bias
    ]
    out += layer * L
    out += [(h,), (h,)]  # ln_f weight, bias
    return out


def _bnb_8bit_bytes(n: int) -> int:
    """bitsandbytes Optimizer2State.init_state (bitsandbytes/optim/optimizer.py):
    tensors with fewer than 4096 elements keep fp32 state1 and state2;
    larger ones keep uint8 state1/state2 plus fp32 absmax1/absmax2 per block of
    2048 values (block_wise=True)."""
    if n < 4096:
        return 2 * 4 * n
    return 2 * n + 2 * 4 * math.ceil(n / 2048)


@pytest.mark.parametrize(("preset", "h", "L"), [("gpt2", 768, 12), ("gpt2-medium", 1024, 24)])
def test_adamw_8bit_by_hand(preset: str, h: int, L: int) -> None:
    tensors = _gpt2_hf_tensors(h, L)
    assert sum(math.prod(t) for t in tensors) == {"gpt2": 124_439_808}.get(preset, 354_823_168)
    expected = sum(_bnb_8bit_bytes(math.prod(t)) for t in tensors)
    assert precise(preset, optimizer="adamw-8bit")["optimizer_states"] == expected


def test_adamw_8bit_gpt2_small_by_hand_total() -> None:
    # Written out for GPT-2 small: wte 38,597,376 values -> 18,847 blocks;
    # wpe 786,432 -> 384 blocks; per layer c_attn 864 blocks, c_proj 288,
    # c_fc and mlp.c_proj 1,152 each; vectors (6 x 768, 2304, 3072 per layer
    # and ln_f 2 x 768) stay fp32 (8 bytes per value).
    big = 2 * (38_597_376 + 786_432) + 8 * (18_847 + 384)
    big += 12 * (2 * (1_769_472 + 589_824 + 2 * 2_359_296) + 8 * (864 + 288 + 2 * 1_152))
    small = 8 * (12 * (6 * 768 + 2304 + 3072) + 2 * 768)
    assert precise("gpt2", optimizer="adamw-8bit")["optimizer_states"] == big + small


def test_adafactor_gpt2_small_by_hand() -> None:
    # HF Adafactor (Shazeer & Stern 2018 s3), beta1=None: a matrix keeps fp32
    # row and column statistics (rows + cols values), a vector its full fp32
    # second moment; no momentum. GPT-2 small (HF module shapes):
    # wte 50257 + 768, wpe 1024 + 768; per layer c_attn 768 + 2304,
    # c_proj 768 + 768, c_fc 768 + 3072, mlp.c_proj 3072 + 768 and vectors
    # 6 x 768 + 2304 + 3072; ln_f 2 x 768.
    per_layer = (768 + 2304) + (768 + 768) + 2 * (768 + 3072) + (6 * 768 + 2304 + 3072)
    values = (50257 + 768) + (1024 + 768) + 12 * per_layer + 2 * 768
    assert values == 321_617
    assert precise("gpt2", optimizer="adafactor")["optimizer_states"] == 4 * values


# ------------------------------------------------- activations (Korthikanti)

# A GPT-style model (LayerNorm, GELU MLP 4h, learned positions): h 1024,
# a 16 heads, s 2048, b 2, 16-bit (bf16-mixed), megatron profile.
GPT = {
    "architecture": "gpt",
    "hidden_size": 1024,
    "num_layers": 3,
    "num_attention_heads": 16,
    "vocab_size": 50304,
    "max_position_embeddings": 2048,
}
S, B, H, A, V = 2048, 2, 1024, 16, 50304


def gpt_acts(**kw: Any) -> dict[str, Any]:
    base = {"sequence_length": S, "micro_batch_size": B, "attention": "eager", "dropout": 0.1}
    return precise(GPT, **{**base, **kw})


def test_korthikanti_eq1_eager_with_dropout() -> None:
    # Korthikanti et al. 2022 s4.1, eq. 1: s*b*h*(34 + 5*a*s/h) bytes per layer.
    expected = S * B * H * 34 + 5 * A * S * S * B
    assert expected == S * B * H * (34 + 5 * A * S / H)
    assert gpt_acts()["activations_per_layer"] == expected


def test_no_dropout_drops_masks() -> None:
    # Korthikanti s4.1 term list without dropout: the attention dropout mask
    # (as^2b) and its output (2as^2b) are gone (attention over V uses the
    # softmax output), and so are the two residual masks (sbh each):
    # 34sbh - 2sbh = 32sbh and 5as^2b - 3as^2b = 2as^2b.
    expected = S * B * H * 32 + 2 * A * S * S * B
    assert gpt_acts(dropout=0.0)["activations_per_layer"] == expected


def test_flash_keeps_no_scores_but_fp32_logsumexp() -> None:
    # FlashAttention (Dao et al. 2022) regenerates the dropout mask and never
    # stores s x s; it keeps an fp32 logsumexp per head and row (4*a*s*b).
    expected = S * B * H * 34 + 4 * A * S * B
    assert gpt_acts(attention="flash")["activations_per_layer"] == expected


def test_selective_recompute_drops_5as_over_h() -> None:
    # Korthikanti s5: selective recomputation keeps 34sbh.
    assert gpt_acts(recompute="selective")["activations_per_layer"] == S * B * H * 34


def test_full_recompute_keeps_2sbh_per_layer() -> None:
    # Korthikanti s5 / Table 2: full recomputation stores the layer input, 2sbh.
    p = gpt_acts(recompute="full")
    assert p["activations_per_layer"] == 2 * S * B * H
    # In backward one layer is rematerialised at a time (its full 34sbh + 5as^2b)
    # unless the fp32 logits gradient (4sbV) is larger; plus the 16-bit logits.
    layer = S * B * H * 34 + 5 * A * S * S * B
    assert p["temporary"] == 2 * S * B * V + max(layer, 4 * S * B * V)


def test_non_layer_activations_and_total() -> None:
    # Outside the layers (Korthikanti s4.3): embedding dropout mask sbh,
    # final LayerNorm input 2sbh, LM-head input 2sbh, fp32 softmax for the
    # cross-entropy 4sbV; plus the int64 token ids the embedding backward
    # needs (8sb).
    p = gpt_acts()
    sb = S * B
    non_layer = sb * H + 2 * sb * H + 2 * sb * H + 4 * sb * V + 8 * sb
    assert p["activation_detail"]["non_layer_bytes"] == non_layer
    assert p["activations"] == 3 * (sb * H * 34 + 5 * A * S * S * B) + non_layer
    # temporary without recompute: returned bf16 logits (2sbV) and the fp32
    # logits gradient (4sbV).
    assert p["temporary"] == 2 * sb * V + 4 * sb * V


def test_llama_layer_gqa_swiglu_by_hand() -> None:
    # Llama-style layer derived like Korthikanti's (megatron profile, flash,
    # no dropout): RMSNorm inputs 2sbh x 2, QKV input 2sbh, Q 2sbq, K and V
    # 2sb*kv each (GQA-sized), fp32 logsumexp 4asb, o_proj input 2sbq, fc1
    # input 2sbh, fused SwiGLU input (gate and up) 2 x 2sbi, down input 2sbi.
    h, a, kvh, i, s, b = 1024, 16, 4, 2816, 1024, 2
    q, kv = 1024, 4 * 64
    model = {
        "architecture": "llama",
        "hidden_size": h,
        "num_layers": 2,
        "num_attention_heads": a,
        "num_key_value_heads": kvh,
        "intermediate_size": i,
        "vocab_size": 32000,
    }
    sb = s * b
    flash = sb * (2 * h + 2 * h + 2 * q + 4 * kv + 2 * q + 2 * h + 2 * h + 4 * i + 2 * i)
    flash += 4 * a * s * b
    p = precise(model, sequence_length=s, micro_batch_size=b, attention="flash")
    assert p["activations_per_layer"] == flash
    eager = flash - 4 * a * s * b + 2 * a * s * s * b  # softmax output instead
    p = precise(model, sequence_length=s, micro_batch_size=b, attention="eager")
    assert p["activations_per_layer"] == eager


def test_fp32_activations_double_16bit_terms() -> None:
    # fp32 training stores activations in 4 bytes (no dropout, eager):
    # 2 x (32sbh + 2as^2b).
    p = gpt_acts(dropout=0.0, precision="fp32")
    assert p["activations_per_layer"] == 2 * (S * B * H * 32 + 2 * A * S * S * B)


def test_runtime_overhead_assumptions_override() -> None:
    # Defaults (docs/assumptions.md): 1 GiB CUDA context + 5% of allocated bytes.
    p = gpt_acts()
    allocated = (
        p["master_weights"]
        + p["weights"]
        + p["gradients"]
        + p["optimizer_states"]
        + p["activations"]
        + p["temporary"]
    )
    assert p["runtime_overhead"] == GiB + round(0.05 * allocated)
    assert p["total"] == allocated + p["runtime_overhead"]
    d = run(
        GPT,
        {"sequence_length": 512},
        assumptions={"cuda_context_gib": 2, "allocator_fragmentation": 0},
    )
    assert d["memory"]["precise"]["runtime_overhead"] == 2 * GiB


# ------------------------------------------------------------- inference


def infer(model: Any, **kw: Any) -> dict[str, Any]:
    base = {"batch_size": 1, "prompt_tokens": 1000, "generated_tokens": 24}
    return run(model, inference={**base, **kw})["inference"]


def test_kv_cache_llama2_70b_gqa() -> None:
    # K and V: 2 x 80 layers x 8 kv heads x 128 head_dim x 2 bytes = 327,680 B/token
    # (Pope et al. 2022 s2; GQA: Ainslie et al. 2023).
    per_token = 2 * 80 * 8 * 128 * 2
    assert per_token == 327_680
    d = infer("llama-2-70b", batch_size=4)
    assert d["kv_cache_per_token"] == per_token
    assert d["kv_cache"] == per_token * 4 * 1024


def test_kv_cache_precision_fp8_halves() -> None:
    d = infer("llama-2-70b", kv_cache_precision="fp8")
    assert d["kv_cache"] == 2 * 80 * 8 * 128 * 1 * 1024


def test_kv_cache_mistral_sliding_window_cap() -> None:
    # Mistral-7B keeps at most 4096 tokens per sequence (rolling buffer,
    # Jiang et al. 2023 s2): 2 x 32 x 8 x 128 x 2 = 131,072 B/token.
    d = infer("mistral-7b", prompt_tokens=8000, generated_tokens=1000, batch_size=2)
    assert d["cached_tokens_per_sequence"] == 4096
    assert d["kv_cache"] == 131_072 * 2 * 4096


# Llama-2-7B linear weights: per layer q, k, v, o (4096 x 4096) and gate, up
# (11008 x 4096), down (4096 x 11008); the rest (embeddings, LM head, norms)
# stays 16-bit.
LIN = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)
REST = P7 - LIN


def test_bf16_and_fp32_weights() -> None:
    assert infer("llama-2-7b")["weights"] == 2 * P7
    assert infer("llama-2-7b", weight_precision="fp32")["weights"] == 4 * P7


def test_int8_weights_by_hand() -> None:
    # LLM.int8 (Dettmers et al. 2022; bitsandbytes Int8Params.SCB): 1 byte per
    # weight and one fp32 scale per output row.
    rows = 32 * (4 * 4096 + 2 * 11008 + 4096)
    assert infer("llama-2-7b", weight_precision="int8")["weights"] == LIN + 4 * rows + 2 * REST


def test_int4_weights_by_hand() -> None:
    # 4-bit, group size 128 along the input dimension: half a byte per
    # weight, an fp16 scale and a 4-bit zero point per group of each row.
    groups = 32 * (4 * 4096 * (4096 // 128) + 2 * 11008 * (4096 // 128) + 4096 * (11008 // 128))
    assert groups == 50_593_792
    expected = LIN // 2 + 2 * groups + groups // 2 + 2 * REST
    assert infer("llama-2-7b", weight_precision="int4")["weights"] == expected


def test_inference_total_is_sum() -> None:
    d = infer("llama-2-7b")
    assert d["total"] == d["weights"] + d["kv_cache"] + d["activations"] + d["runtime_overhead"]
    assert "memory" not in run("llama-2-7b", inference={"prompt_tokens": 8, "generated_tokens": 8})


# --------------------------------------------------------------- compute

# A GPU defined in the spec (1000 dense bf16 TFLOP/s) so time is checkable by hand.
GPU = {
    "name": "Test GPU",
    "memory_gib": 80,
    "dense_tflops": {"bf16": 1000},
    "memory_bandwidth_gb_s": 3000,
}


def test_flops_llama2_7b_by_hand() -> None:
    # PaLM convention (Chowdhery et al. 2022 App. B): forward = 2 x matmul
    # weights per token (all linear layers + LM head) + 4 x L x s x (heads x
    # head_dim); training = 3 x forward; full recompute adds a forward (4x).
    s, tokens = 4096, 2_000_000_000
    matmul = LIN + 32000 * 4096
    fwd = 2 * matmul + 4 * 32 * s * 4096
    assert fwd == 15_361_638_400
    cluster = {"gpu": GPU, "max_gpus": 8, "mfu": 0.5, "price_per_gpu_hour": 2.0}
    d = run("llama-2-7b", {"sequence_length": s, "tokens": tokens}, cluster=cluster)
    c = d["compute"]
    assert c["flops_per_token"] == 3 * fwd
    assert c["hardware_flops_per_token"] == 3 * fwd
    assert c["total_flops"] == 3 * fwd * tokens
    # Time and cost are the plan's (one time model): its compute phase is
    # hardware FLOPs / (GPUs x dense peak x kernel MFU), its budget the
    # steps x step time / goodput, priced at 2 USD per GPU-hour.
    spec = load_spec_text(yaml.safe_dump({
        "name": "t", "model": "llama-2-7b", "cluster": cluster,
        "training": {"sequence_length": s, "tokens": tokens},
    }), "t.yaml")  # fmt: skip
    r = evaluate(spec)
    assert r.plan is not None and r.estimate_json["compute"]["time"] is not None
    t, pt = r.estimate_json["compute"]["time"]["expected"], r.plan_json["time"]
    gpus = r.plan.layout.gpus
    compute = 3 * fwd * spec.global_batch_size * s / (gpus * 1000e12 * 0.5)
    assert pt["step_breakdown_seconds"]["compute"] == pytest.approx(compute, rel=1e-12)
    assert t["gpus"] == gpus and t["days"] == pytest.approx(pt["days"], rel=1e-12)
    assert t["gpu_hours"] == pytest.approx(pt["gpu_hours"], rel=1e-12)
    assert t["usd"] == pytest.approx(2.0 * pt["gpu_hours"], rel=1e-12)
    assert t["usd"] == r.plan_json["cost"]["usd"]
    full = run(
        "llama-2-7b",
        {"sequence_length": s, "tokens": tokens, "recompute": "full"},
        cluster=cluster,
    )["compute"]
    assert full["flops_per_token"] == 3 * fwd  # model FLOPs unchanged
    assert full["hardware_flops_per_token"] == 4 * fwd  # "8ND" with 6ND + 2ND


def test_flops_gpt2_tied_head_counts_as_matmul() -> None:
    # GPT-2 small: the tied LM head is still a V x h matmul per token;
    # embeddings (wte/wpe lookups), biases and norms are not matmuls.
    h, s = 768, 1024
    matmul = 12 * 12 * h * h + 50257 * h
    fwd = 2 * matmul + 4 * 12 * s * h
    c = run("gpt2", {"sequence_length": s})["compute"]
    assert c["flops_per_token"] == 3 * fwd


def test_mfu_default_range_orders_time() -> None:
    cluster = {"gpu": GPU, "mfu": 0.4, "max_gpus": 8}
    spec = load_spec_text(yaml.safe_dump({
        "name": "t", "model": "llama-2-7b", "cluster": cluster,
        "training": {"sequence_length": 1024, "tokens": 1e9},
    }), "t.yaml")  # fmt: skip
    times = evaluate(spec).estimate_json["compute"]["time"]
    assert times["low"]["seconds"] < times["expected"]["seconds"] < times["high"]["seconds"]
    # one value: low/high = value x (1 -/+ mfu_spread 0.2)
    assert times["low"]["mfu"] == pytest.approx(0.48)
    assert times["high"]["mfu"] == pytest.approx(0.32)
