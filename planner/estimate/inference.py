"""Inference memory: weights at the serving precision, KV cache, working
activations and runtime overhead.

* Weights: linear-layer weights take the chosen precision; embeddings, the
  LM head and norms stay 16-bit (how GPTQ/AWQ checkpoints and bitsandbytes
  leave them). int8: 1 byte plus one fp32 scale per output row
  (bitsandbytes LLM.int8, Dettmers et al. 2022, ``Int8Params.SCB``). int4:
  0.5 byte plus, per group of ``group_size`` weights, an fp16 scale and a
  4-bit zero point (GPTQ/AWQ packing: qweight, qzeros, scales), i.e.
  0.5 + 2.5/g bytes. fp8: 1 byte plus one fp32 scale per tensor.
* KV cache: 2 (K and V) x layers x kv_heads x head_dim x bytes x batch x
  tokens (Pope et al. 2022, "Efficiently Scaling Transformer Inference",
  s2), summed over layers by the family (planner/families/attention.py):
  a sliding layer keeps at most its window, MLA keeps its latent.
* Working activations (ASSUMPTION, documented): the prefill of one layer at
  a time dominates: residual + normed hidden states (2h), the attention
  projections (q + 2kv + q) or the MLP's gate, up and product (3i), in
  16 bits, for every prompt token of the batch, plus fp32 logits of the last
  position.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture
from planner.estimate.params import ParameterCounts
from planner.estimate.states import DTYPE_BYTES
from planner.spec.schema import InferenceSection

WEIGHT_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}


@dataclass(frozen=True)
class InferenceMemory:
    weights: int
    kv_cache: int
    activations: int
    kv_cache_per_token: int  # bytes per token of one sequence
    cached_tokens: int  # per sequence

    @property
    def total_before_overhead(self) -> int:
        return self.weights + self.kv_cache + self.activations


def weight_bytes(counts: ParameterCounts, precision: str, group_size: int) -> int:
    linear = sum(t.numel for t in counts.tensors if t.kind == "linear")
    shaped = sum(t.numel for t in counts.tensors)
    if shaped != counts.total and shaped:
        linear = round(linear * counts.total / shaped)  # model given by count
    rest = counts.total - linear
    if precision in ("fp32", "fp16", "bf16"):
        return int(WEIGHT_BYTES[precision] * counts.total)
    lin = [t for t in counts.tensors if t.kind == "linear"]
    if precision == "int8":
        rows = sum(t.shape[0] * t.count for t in lin)
        q = linear + 4 * rows
    elif precision == "int4":
        # groups run along each weight row (the input dimension)
        groups = sum(t.count * t.shape[0] * -(-t.shape[1] // group_size) for t in lin)
        q = -(-linear // 2) + 2 * groups + -(-groups // 2)  # nibbles, fp16 scales, 4-bit zeros
    else:  # fp8
        q = linear + 4 * sum(t.count for t in lin)
    return int(q + 2 * rest)


def kv_cache_per_token(a: Architecture, kv_precision: str) -> int:
    """KV-cache bytes one more token adds to one sequence while no sliding
    window is full: every attention layer's K and V (MLA: its latent), from
    the family; 0 for a recurrent state (Mamba), which does not grow."""
    fam, e = a.family_impl, DTYPE_BYTES[kv_precision]
    return int(fam.kv_cache_bytes(a, 2, e) - fam.kv_cache_bytes(a, 1, e))


def kv_cache_bytes(a: Architecture, tokens: int, kv_precision: str) -> int:
    """Bytes of ONE sequence's KV cache holding ``tokens`` tokens: the sum
    over layers of what each layer's attention kind keeps (sliding layers
    capped at their window; ``ModelFamily.kv_cache_bytes``)."""
    return int(a.family_impl.kv_cache_bytes(a, tokens, DTYPE_BYTES[kv_precision]))


def cached_tokens(a: Architecture, tokens: int) -> int:
    """Tokens the longest-lived layer keeps per sequence (the window when
    every attention layer slides)."""
    spans = [g.span(tokens) for g in a.family_impl.attention_layers(a) if g.kind != "none"]
    return int(max(spans, default=0))


def inference_memory(
    a: Architecture, counts: ParameterCounts, w: InferenceSection
) -> InferenceMemory:
    tokens = w.prompt_mean + w.generated_tokens
    per_token = kv_cache_per_token(a, w.kv_cache_precision)
    kv = kv_cache_bytes(a, tokens, w.kv_cache_precision) * w.batch_size
    tokens = cached_tokens(a, tokens)
    sb = w.batch_size * w.prompt_mean
    h, q, kvd, i = a.hidden_size, a.q_dim, a.kv_dim, a.intermediate_size
    k = a.active_experts
    layer_peak = max(q + 2 * kvd + q, 3 * i * k)
    act = sb * (2 * h + layer_peak) * 2 + w.batch_size * a.vocab_size * 4
    return InferenceMemory(
        weights=weight_bytes(counts, w.weight_precision, w.group_size),
        kv_cache=kv,
        activations=act,
        kv_cache_per_token=per_token,
        cached_tokens=tokens,
    )
