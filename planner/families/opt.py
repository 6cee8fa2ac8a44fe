"""``opt``: Meta's OPT (HF ``OPTConfig``, models/opt/modeling_opt.py; Zhang
et al. 2022, "OPT: Open Pre-trained Transformer Language Models", s2.1).

What differs from the GPT-2 block:

* q, k, v and ``out_proj`` are separate, with biases (``enable_bias``);
* learned positions with an offset of 2: (max_position_embeddings + 2, h)
  (``OPTLearnedPositionalEmbedding``);
* embeddings of ``word_embed_proj_dim``, with ``project_in`` /
  ``project_out`` (no bias) when it differs from ``hidden_size``
  (OPT-350M: 512 vs 1024); the head is tied to them;
* ``do_layer_norm_before`` false (OPT-350M): norms after the sublayers and
  no final LayerNorm; ``layer_norm_elementwise_affine`` false: norms
  without parameters; MLP ``fc1`` / ``fc2`` of ``ffn_dim`` with ReLU.
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.base import ModelFamily, need


class OptFamily(ModelFamily):
    name = "opt"
    summary = "learned positions (+2), separate q/k/v with biases, ReLU MLP (HF OPTConfig)"
    norm = "layernorm"
    position = "learned"
    default_hidden_act = "relu"
    default_biases = True
    default_tie_word_embeddings = True
    gated_mlp = False
    fused_qkv = False
    residual_dropout = True  # OPTConfig.dropout on the residual branches
    eager_softmax_fp32 = False
    eager_repeats_kv = False
    activations_derived = False
    config_only = True
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"opt": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        h = need(cfg, "hidden_size")
        bias = bool(cfg.get("enable_bias", True))
        before = cfg.get("do_layer_norm_before", True)
        return {
            "architecture": self.name,
            "hidden_size": h,
            "num_layers": need(cfg, "num_hidden_layers"),
            "num_attention_heads": need(cfg, "num_attention_heads"),
            "intermediate_size": need(cfg, "ffn_dim"),
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": cfg.get("max_position_embeddings", 2048),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
            "hidden_act": cfg.get("activation_function", "relu"),
            "attention_bias": bias,
            "attention_out_bias": bias,
            "mlp_bias": bias,
            "_details": {
                "word_embed_proj_dim": cfg.get("word_embed_proj_dim") or h,
                "final_norm": bool(before and not cfg.get("_remove_final_layer_norm", False)),
                "norm_affine": bool(cfg.get("layer_norm_elementwise_affine", True)),
            },
        }

    def embedding_tensors(self, a: Architecture) -> list[ParamTensor]:
        h, p = a.hidden_size, a.detail("word_embed_proj_dim", a.hidden_size)
        t = [
            ParamTensor("embed_tokens", (a.vocab_size, p), "embedding"),
            ParamTensor("embed_positions", (a.max_position_embeddings + 2, h), "position"),
        ]
        if p != h:
            t += [
                ParamTensor("project_in", (h, p), "linear"),
                ParamTensor("project_out", (p, h), "linear"),
            ]
        return t

    def norm_tensors(self, a: Architecture) -> list[ParamTensor]:
        if not a.detail("norm_affine", True):
            return []
        h, L = a.hidden_size, a.num_layers
        t = [ParamTensor("layer_norms", (h,), "norm", 2 * 2 * L)]
        if a.detail("final_norm", True):
            t.append(ParamTensor("final_norm", (h,), "norm", 2))
        return t

    def head_tensors(self, a: Architecture) -> list[ParamTensor]:
        if a.tie_word_embeddings:
            return []
        p = a.detail("word_embed_proj_dim", a.hidden_size)
        return [ParamTensor("lm_head", (a.vocab_size, p), "lm_head")]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "OPTConfig", "OPTForCausalLM"
