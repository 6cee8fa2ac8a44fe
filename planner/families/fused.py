"""Blocks with one fused ``query_key_value`` projection, LayerNorms with
weight and bias and a plain GELU MLP (``dense_h_to_4h``, ``dense_4h_to_h``):

* ``gpt_neox`` (HF ``GPTNeoXConfig``, models/gpt_neox/modeling_gpt_neox.py;
  Black et al. 2022, "GPT-NeoX-20B", s2.1; Pythia, Biderman et al. 2023):
  parallel residual (attention and MLP both read the stream; still two
  LayerNorms per layer), rotary on ``rotary_pct`` of each head (no
  parameters), biases on every linear layer (``attention_bias``), an untied
  ``embed_out`` head.
* ``falcon`` (HF ``FalconConfig``, models/falcon/modeling_falcon.py;
  Almazrouei et al. 2023, "The Falcon Series of Open Language Models",
  s4.1): Falcon-7B is multi-query (``multi_query``: q of every head, one
  k and one v) with parallel attention on one ``input_layernorm``;
  Falcon-40B/180B's ``new_decoder_architecture`` has ``num_kv_heads``
  key/value groups and two norms (``ln_attn``, ``ln_mlp``); no biases
  unless ``bias``; ``ffn_hidden_size`` (default 4h); the head tied;
  rotary unless ``alibi``.
* ``bloom`` (HF ``BloomConfig``, models/bloom/modeling_bloom.py; BigScience
  2022, "BLOOM", s3.2.2-3.2.3): ALiBi positions (no parameters), a
  LayerNorm on the embeddings (``word_embeddings_layernorm``), biases
  everywhere, MLP of 4h, the head tied.
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.base import ModelFamily, need


def _first(cfg: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` the config gives (old and new HF names)."""
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    raise ValueError(f"config.json lacks `{keys[0]}`")


class FusedQkvFamily(ModelFamily):
    """The shared structure; subclasses set their defaults and reader."""

    norm = "layernorm"
    position = "rope"
    default_hidden_act = "gelu"
    default_biases = True
    default_tie_word_embeddings = False
    gated_mlp = False
    fused_qkv = True
    residual_dropout = False
    eager_softmax_fp32 = True
    eager_repeats_kv = False
    activations_derived = False
    config_only = True

    def qkv_projections(self, a: Architecture) -> list[ParamTensor]:
        """``query_key_value`` (q_dim + 2 kv_dim, h)."""
        qkv = a.q_dim + 2 * a.kv_dim
        return [ParamTensor("attn.query_key_value", (qkv, a.hidden_size), "linear", a.num_layers)]

    def qkv_biases(self, a: Architecture) -> list[ParamTensor]:
        if not a.attention_bias:
            return []
        qkv = a.q_dim + 2 * a.kv_dim
        return [ParamTensor("attn.query_key_value_bias", (qkv,), "bias", a.num_layers)]


class GptNeoxFamily(FusedQkvFamily):
    name = "gpt_neox"
    summary = "parallel residual, partial rotary, fused QKV, biases, untied head (GPT-NeoX)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"gpt_neox": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        bias = bool(cfg.get("attention_bias", True))
        return {
            "architecture": self.name,
            "hidden_size": need(cfg, "hidden_size"),
            "num_layers": need(cfg, "num_hidden_layers"),
            "num_attention_heads": need(cfg, "num_attention_heads"),
            "intermediate_size": need(cfg, "intermediate_size"),
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": cfg.get("max_position_embeddings", 2048),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", False),
            "hidden_act": cfg.get("hidden_act", "gelu"),
            "attention_bias": bias,
            "attention_out_bias": bias,
            "mlp_bias": True,  # GPTNeoXMLP: nn.Linear with bias
        }

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "GPTNeoXConfig", "GPTNeoXForCausalLM"


class FalconFamily(FusedQkvFamily):
    name = "falcon"
    summary = "fused multi-query / grouped QKV, parallel attention, tied head (HF FalconConfig)"
    default_biases = False
    default_tie_word_embeddings = True
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"falcon": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        h = _first(cfg, "hidden_size", "n_embed")
        heads = _first(cfg, "num_attention_heads", "n_head")
        new = bool(cfg.get("new_decoder_architecture", False))
        if new:
            kv = _first(cfg, "num_kv_heads", "n_head_kv")
        else:
            kv = 1 if cfg.get("multi_query", True) else heads
        parallel = cfg.get("parallel_attn", True)
        norms = 2 if not parallel else (cfg.get("num_ln_in_parallel_attn") or (2 if new else 1))
        bias = bool(cfg.get("bias", False))
        return {
            "architecture": self.name,
            "hidden_size": h,
            "num_layers": _first(cfg, "num_hidden_layers", "n_layer"),
            "num_attention_heads": heads,
            "num_key_value_heads": kv,
            "intermediate_size": cfg.get("ffn_hidden_size") or 4 * h,
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": cfg.get("max_position_embeddings", 2048),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
            "hidden_act": cfg.get("activation", "gelu"),
            "attention_bias": bias,
            "attention_out_bias": bias,
            "mlp_bias": bias,
            "_details": {"norms_per_layer": norms, "alibi": bool(cfg.get("alibi", False))},
        }

    def norm_tensors(self, a: Architecture) -> list[ParamTensor]:
        """ln_attn + ln_mlp (new decoder), input_layernorm only (7B), or
        input + post-attention (sequential), weight and bias each."""
        h, n = a.hidden_size, a.detail("norms_per_layer", 2)
        return [
            ParamTensor("layer_norms", (h,), "norm", 2 * n * a.num_layers),
            ParamTensor("final_norm", (h,), "norm", 2),
        ]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "FalconConfig", "FalconForCausalLM"


class BloomFamily(FusedQkvFamily):
    name = "bloom"
    summary = "ALiBi, embedding LayerNorm, fused QKV, biases, tied head (HF BloomConfig)"
    default_hidden_act = "gelu_pytorch_tanh"  # BloomGelu: the tanh approximation
    default_tie_word_embeddings = True
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"bloom": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        h = _first(cfg, "hidden_size", "n_embed")
        return {
            "architecture": self.name,
            "hidden_size": h,
            "num_layers": _first(cfg, "n_layer", "num_hidden_layers"),
            "num_attention_heads": _first(cfg, "n_head", "num_attention_heads"),
            "intermediate_size": 4 * h,  # BloomMLP: dense_h_to_4h (4h, h)
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": cfg.get("seq_length", 2048),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
        }

    def embedding_tensors(self, a: Architecture) -> list[ParamTensor]:
        ln = ParamTensor("embed_layernorm", (a.hidden_size,), "norm", 2)  # weight, bias
        return [*super().embedding_tensors(a), ln]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "BloomConfig", "BloomForCausalLM"
