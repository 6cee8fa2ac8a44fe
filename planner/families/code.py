"""The BigCode models:

* ``starcoder2`` (HF ``Starcoder2Config``, models/starcoder2/
  modeling_starcoder2.py; Lozhkov et al. 2024, "StarCoder 2 and The Stack
  v2", s6.1): q/k/v/o with grouped-query attention and rotary, LayerNorms
  with weight and bias (``norm_epsilon``), a plain MLP (``c_fc``,
  ``gelu_pytorch_tanh``, ``c_proj``), biases on every linear layer
  (``use_bias``), a sliding window on every layer (``sliding_window``,
  4096 in the released configs), the head tied unless the config says not.
* ``gpt_bigcode`` (HF ``GPTBigCodeConfig``, models/gpt_bigcode/
  modeling_gpt_bigcode.py; Allal et al. 2023, "SantaCoder", s3; Li et al.
  2023, "StarCoder", s5): the GPT-2 block with multi-query attention
  (``multi_query``: one fused ``c_attn`` of h + 2 x head_dim).
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture
from planner.families.base import ModelFamily, need
from planner.families.gpt import GptFamily


class Starcoder2Family(ModelFamily):
    name = "starcoder2"
    summary = "GQA + rotary, LayerNorm, GELU MLP, biases, sliding window (HF Starcoder2Config)"
    norm = "layernorm"
    position = "rope"
    default_hidden_act = "gelu_pytorch_tanh"
    default_biases = True
    default_tie_word_embeddings = True
    gated_mlp = False
    fused_qkv = False
    residual_dropout = True  # Starcoder2Config.residual_dropout, embedding_dropout
    eager_softmax_fp32 = True
    eager_repeats_kv = True
    activations_derived = False
    config_only = True
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"starcoder2": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        bias = bool(cfg.get("use_bias", True))
        out: dict[str, Any] = {
            "architecture": self.name,
            "hidden_size": need(cfg, "hidden_size"),
            "num_layers": need(cfg, "num_hidden_layers"),
            "num_attention_heads": need(cfg, "num_attention_heads"),
            "num_key_value_heads": cfg.get("num_key_value_heads"),
            "intermediate_size": need(cfg, "intermediate_size"),
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": cfg.get("max_position_embeddings", 4096),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
            "hidden_act": cfg.get("hidden_act", "gelu_pytorch_tanh"),
            "attention_bias": bias,
            "attention_out_bias": bias,
            "mlp_bias": bias,
        }
        if cfg.get("sliding_window") is not None:
            out["sliding_window"] = cfg["sliding_window"]
        return out

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "Starcoder2Config", "Starcoder2ForCausalLM"


class GptBigCodeFamily(GptFamily):
    name = "gpt_bigcode"
    summary = "GPT-2 block with multi-query attention (HF GPTBigCodeConfig)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"gpt_bigcode": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = super().from_hf_config(cfg, defaults, strict)
        out["architecture"] = self.name
        out["hidden_act"] = cfg.get("activation_function", "gelu_pytorch_tanh")
        if cfg.get("multi_query", True):
            out["num_key_value_heads"] = 1  # GPTBigCodeAttention: kv_heads = 1
        return out

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "GPTBigCodeConfig", "GPTBigCodeForCausalLM"
