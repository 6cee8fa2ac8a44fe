"""OLMo 2 and OLMoE (AI2): the llama block with a norm over all queries and
all keys, not per head.

* ``olmo2`` (HF ``Olmo2Config``, models/olmo2/modeling_olmo2.py; OLMo et al.
  2024, "2 OLMo 2 Furious", s3.1): the norms move after the sublayers
  (``post_attention_layernorm``, ``post_feedforward_layernorm``: still two
  per layer, "reordered norm"), and ``q_norm`` / ``k_norm`` are RMSNorms
  over the full query and key widths (heads x head_dim, kv_heads x
  head_dim): parameters.
* ``olmoe`` (HF ``OlmoeConfig``, models/olmoe/modeling_olmoe.py;
  Muennighoff et al. 2024, "OLMoE", s2): Mixtral's block (pre-norm,
  ``num_experts`` routed SwiGLU experts, a bias-free router) with the same
  full-width q/k norms; ``clip_qkv`` and ``norm_topk_prob`` have no
  parameters.
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.llama import LlamaFamily
from planner.families.moe import MoeFamily


def full_width_qk_norms(a: Architecture) -> list[ParamTensor]:
    """RMSNorm weights over all queries (q_dim) and all keys (kv_dim)."""
    L = a.num_layers
    return [
        ParamTensor("attn.q_norm", (a.q_dim,), "norm", L),
        ParamTensor("attn.k_norm", (a.kv_dim,), "norm", L),
    ]


class Olmo2Family(LlamaFamily):
    name = "olmo2"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "llama block, norms after the sublayers, full-width q/k norms (HF Olmo2Config)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"olmo2": {}}
    reads_unlisted_hf_types = False
    hf_types_overridable = False
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        return {**super().from_hf_config(cfg, defaults, strict), "architecture": self.name}

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        return [*super().attention_tensors(a), *full_width_qk_norms(a)]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "Olmo2Config", "Olmo2ForCausalLM"


class OlmoeFamily(MoeFamily):
    name = "olmoe"
    summary = "Mixtral-style MoE with full-width q/k norms (HF OlmoeConfig)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"olmoe": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        return {**super().from_hf_config(cfg, defaults, strict), "architecture": self.name}

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        return [*super().attention_tensors(a), *full_width_qk_norms(a)]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "OlmoeConfig", "OlmoeForCausalLM"
