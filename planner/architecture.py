"""The typed description of a transformer, and the parameter tensors it implies.

Three families, with Hugging Face's field names:

* ``llama``: pre-norm RMSNorm, rotary positions, gated MLP (SwiGLU:
  gate_proj, up_proj, down_proj), optional grouped-query attention, no biases
  unless ``attention_bias`` / ``mlp_bias`` say so (HF ``LlamaConfig``).
* ``gpt``: pre-norm LayerNorm with weight and bias, learned absolute
  positions, plain MLP (c_fc, GELU, c_proj), biases on every linear layer
  (HF ``GPT2Config``; Radford et al. 2019).
* ``moe``: the llama block with the MLP replaced by ``num_local_experts``
  gated experts and a bias-free router, ``num_experts_per_tok`` active per
  token (HF ``MixtralConfig``; Jiang et al. 2024, "Mixtral of Experts", s2.1).

A model may also be given only by its parameter count (the seed's "7B"):
then ``parameters`` is set and the shape fields serve the activation and
FLOP formulas only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Family = Literal["llama", "gpt", "moe"]
TensorKind = Literal["embedding", "position", "linear", "bias", "norm", "router", "lm_head"]


@dataclass(frozen=True)
class ParamTensor:
    """One parameter tensor (or a family of identical ones)."""

    name: str
    shape: tuple[int, ...]
    kind: TensorKind
    count: int = 1  # how many identical tensors (layers x experts)
    expert: bool = False  # belongs to an MoE expert (active only for top-k)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n * self.count


@dataclass(frozen=True)
class Architecture:
    name: str
    family: Family
    hidden_size: int
    num_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int
    hidden_act: str
    attention_bias: bool  # bias on q, k, v projections
    attention_out_bias: bool  # bias on the output projection
    mlp_bias: bool
    norm: Literal["rmsnorm", "layernorm"]
    position: Literal["rope", "learned"]
    num_local_experts: int = 1
    num_experts_per_tok: int = 1
    sliding_window: int | None = None
    # RMSNorm over each head's queries and keys before rotary (Qwen3,
    # OLMo 2: HF Qwen3Attention.q_norm / k_norm, weight of head_dim each).
    qk_norm: bool = False
    # Set only when the model is given by its parameter count (the seed's way).
    parameters: int | None = None
    # Published count for presets, kept so tests and reports can compare.
    published_parameters: int | None = None
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gated_mlp(self) -> bool:
        return self.family in ("llama", "moe")

    @property
    def is_moe(self) -> bool:
        return self.family == "moe" and self.num_local_experts > 1

    @property
    def q_dim(self) -> int:
        """Width of the concatenated query heads (n_heads x head_dim)."""
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the concatenated key (or value) heads; smaller under GQA."""
        return self.num_key_value_heads * self.head_dim

    @property
    def norm_params(self) -> int:
        """Parameters of one norm: weight (RMSNorm) or weight and bias (LayerNorm)."""
        return self.hidden_size * (2 if self.norm == "layernorm" else 1)

    @property
    def by_count_only(self) -> bool:
        return self.parameters is not None


def parameter_tensors(a: Architecture) -> list[ParamTensor]:
    """Every parameter tensor of the model, grouped over layers and experts.

    Shapes follow the HF modules (``nn.Linear(in, out)`` is stored
    ``(out, in)``). The formulas agree with shared/reference/model_facts.yaml.
    """
    h, L, i = a.hidden_size, a.num_layers, a.intermediate_size
    E = a.num_local_experts if a.is_moe else 1
    t: list[ParamTensor] = [ParamTensor("embed_tokens", (a.vocab_size, h), "embedding")]
    if a.position == "learned":
        t.append(ParamTensor("embed_positions", (a.max_position_embeddings, h), "position"))
    # Attention: q, k, v, o projections. One tensor per HF parameter, since
    # shape-aware optimizers (adamw-8bit's 4096-element threshold, Adafactor's
    # row/column factors) work per tensor: GPT-2 fuses q, k, v into one
    # Conv1D ``c_attn`` (modeling_gpt2.py), llama-style models keep them apart.
    qkv = a.q_dim + 2 * a.kv_dim
    if a.family == "gpt":
        t.append(ParamTensor("attn.c_attn", (qkv, h), "linear", L))
    else:
        t += [
            ParamTensor("attn.q_proj", (a.q_dim, h), "linear", L),
            ParamTensor("attn.k_proj", (a.kv_dim, h), "linear", L),
            ParamTensor("attn.v_proj", (a.kv_dim, h), "linear", L),
        ]
    t.append(ParamTensor("attn.o_proj", (h, a.q_dim), "linear", L))
    if a.attention_bias and a.family == "gpt":
        t.append(ParamTensor("attn.c_attn_bias", (qkv,), "bias", L))
    elif a.attention_bias:
        t += [
            ParamTensor("attn.q_bias", (a.q_dim,), "bias", L),
            ParamTensor("attn.k_bias", (a.kv_dim,), "bias", L),
            ParamTensor("attn.v_bias", (a.kv_dim,), "bias", L),
        ]
    if a.qk_norm:
        t += [
            ParamTensor("attn.q_norm", (a.head_dim,), "norm", L),
            ParamTensor("attn.k_norm", (a.head_dim,), "norm", L),
        ]
    if a.attention_out_bias:
        t.append(ParamTensor("attn.o_bias", (h,), "bias", L))
    # MLP (per expert under MoE).
    moe = a.is_moe
    if a.gated_mlp:
        t += [
            ParamTensor("mlp.gate_proj", (i, h), "linear", L * E, moe),
            ParamTensor("mlp.up_proj", (i, h), "linear", L * E, moe),
            ParamTensor("mlp.down_proj", (h, i), "linear", L * E, moe),
        ]
        if a.mlp_bias:
            t += [
                ParamTensor("mlp.gate_bias", (i,), "bias", 2 * L * E, moe),  # gate, up
                ParamTensor("mlp.down_bias", (h,), "bias", L * E, moe),
            ]
    else:
        t += [
            ParamTensor("mlp.fc_in", (i, h), "linear", L * E, moe),
            ParamTensor("mlp.fc_out", (h, i), "linear", L * E, moe),
        ]
        if a.mlp_bias:
            t += [
                ParamTensor("mlp.fc_in_bias", (i,), "bias", L * E, moe),
                ParamTensor("mlp.fc_out_bias", (h,), "bias", L * E, moe),
            ]
    if moe:
        t.append(ParamTensor("mlp.router", (E, h), "router", L))
    # Two norms per layer (pre-attention, pre-MLP) and a final norm; a
    # LayerNorm's weight and bias are separate (h,) tensors.
    per_norm = a.norm_params // h
    t.append(ParamTensor("layer_norms", (h,), "norm", 2 * L * per_norm))
    t.append(ParamTensor("final_norm", (h,), "norm", per_norm))
    if not a.tie_word_embeddings:
        t.append(ParamTensor("lm_head", (a.vocab_size, h), "lm_head"))
    return t
