"""``gpt_oss``: OpenAI's gpt-oss (HF ``GptOssConfig``,
models/gpt_oss/modeling_gpt_oss.py; OpenAI 2025, "gpt-oss-120b &
gpt-oss-20b Model Card", s2.1).

What differs from Mixtral's block:

* attention sinks: one learned logit per head per layer (``sinks``,
  (num_attention_heads,)), added to the softmax's denominator;
* biases on q, k, v and o (``attention_bias``);
* alternating banded (sliding, 128 tokens) and dense layers
  (``layer_types``; the config's default starts with a sliding layer):
  KV cache and attention FLOPs per layer kind;
* the router (``GptOssTopKRouter``) has a bias; each expert's fused
  ``gate_up_proj`` (h, 2i) and ``down_proj`` (i, h) have biases
  (``GptOssExperts``), with a clamped SwiGLU (``swiglu_limit``, no
  parameters).
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.attention import hf_layer_types
from planner.families.base import need
from planner.families.moe import MoeFamily


class GptOssFamily(MoeFamily):
    name = "gpt_oss"
    summary = "MoE with attention sinks, biases, alternating 128-token windows (HF GptOssConfig)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"gpt_oss": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = super().from_hf_config(cfg, defaults, strict)
        L = out["num_layers"]
        types = cfg.get("layer_types") or [
            "sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(L)
        ]  # GptOssConfig.__post_init__
        bias = bool(cfg.get("attention_bias", True))
        out.update(
            architecture=self.name,
            num_experts_per_tok=cfg.get("num_experts_per_tok", cfg.get("experts_per_token")),
            sliding_window=cfg.get("sliding_window", 128),
            layer_types=hf_layer_types(types, L),
            attention_bias=bias,
            attention_out_bias=bias,
        )
        if out["num_experts_per_tok"] is None:
            need(cfg, "num_experts_per_tok")
        return out

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        sinks = ParamTensor("attn.sinks", (a.num_attention_heads,), "bias", a.num_layers)
        return [*super().attention_tensors(a), sinks]

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Experts with biases (``expert=True``) and a router with a bias."""
        h, i, E, L = a.hidden_size, a.intermediate_size, self.experts(a), a.num_layers
        n = L * E
        return [
            ParamTensor("mlp.experts.gate_up_proj", (2 * i, h), "linear", n, True),
            ParamTensor("mlp.experts.gate_up_proj_bias", (2 * i,), "bias", n, True),
            ParamTensor("mlp.experts.down_proj", (h, i), "linear", n, True),
            ParamTensor("mlp.experts.down_proj_bias", (h,), "bias", n, True),
            ParamTensor("mlp.router", (E, h), "router", L),
            ParamTensor("mlp.router_bias", (E,), "bias", L),
        ]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "GptOssConfig", "GptOssForCausalLM"
