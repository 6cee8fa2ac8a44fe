"""MoE blocks that differ from Mixtral's in their tensors (subclasses of
``moe``):

* ``qwen2_moe`` (HF ``Qwen2MoeConfig``, models/qwen2_moe/modeling_qwen2_moe.py;
  Qwen1.5-MoE, Qwen2-57B-A14B, Qwen Team 2024 "Qwen2 Technical Report"
  s2.2.2): routed experts of ``moe_intermediate_size``, plus in every
  sparse layer a shared expert (a SwiGLU MLP of
  ``shared_expert_intermediate_size`` that every token passes through) and
  its sigmoid gate ``shared_expert_gate`` (nn.Linear(h, 1), no bias);
  layers in ``mlp_only_layers`` or off ``decoder_sparse_step`` keep a dense
  MLP of ``intermediate_size``; q, k, v with bias (``qkv_bias``), o without.
* ``phimoe`` (HF ``PhimoeConfig``, models/phimoe/modeling_phimoe.py;
  Phi-3.5-MoE, Abdin et al. 2024 "Phi-3 Technical Report" s6): Mixtral's
  block with LayerNorms (weight and bias), biases on q/k/v/o
  (``attention_bias``) and an optional bias on the LM head
  (``lm_head_bias``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from planner.architecture import Architecture, ParamTensor
from planner.families.base import dense_mlp_tensors, need
from planner.families.llama import LlamaFamily
from planner.families.moe import MoeFamily


class Qwen2MoeFamily(MoeFamily):
    name = "qwen2_moe"
    summary = "routed experts + a gated shared expert, q/k/v bias (HF Qwen2MoeConfig)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"qwen2_moe": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = LlamaFamily.from_hf_config(self, cfg, {}, strict=False)  # the common names
        E = need(cfg, "num_experts")  # the sparse layers: sparse_layers(a), below
        bias = cfg.get("qkv_bias", True)
        out.update(
            architecture=self.name,
            num_local_experts=E,
            num_experts_per_tok=need(cfg, "num_experts_per_tok"),
            intermediate_size=need(cfg, "moe_intermediate_size"),
            attention_bias=bias,
            attention_out_bias=False,
            _details={
                "mlp_only_layers": tuple(cfg.get("mlp_only_layers") or ()),
                "decoder_sparse_step": cfg.get("decoder_sparse_step", 1),
                "dense_intermediate_size": need(cfg, "intermediate_size"),
                "shared_expert_intermediate_size": cfg.get("shared_expert_intermediate_size", 0),
            },
        )
        return out

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Per sparse layer: E routed experts (``expert=True``), the router,
        the shared expert and its gate; per dense layer: one SwiGLU MLP."""
        h, E = a.hidden_size, self.experts(a)
        sparse = sparse_layers(a)
        dense = a.num_layers - sparse
        shared_i = a.detail("shared_expert_intermediate_size", 0)
        t = dense_mlp_tensors(a, True, sparse * E, expert=True)
        t.append(ParamTensor("mlp.router", (E, h), "router", sparse))
        if shared_i:
            t += [
                # gate_proj and up_proj (shared_i, h), down_proj (h, shared_i)
                ParamTensor("mlp.shared_expert.gate_up", (shared_i, h), "linear", 2 * sparse),
                ParamTensor("mlp.shared_expert.down", (h, shared_i), "linear", sparse),
                ParamTensor("mlp.shared_expert_gate", (1, h), "linear", sparse),
            ]
        if dense:
            i = a.detail("dense_intermediate_size", a.intermediate_size)
            t += [
                ParamTensor("mlp.dense.gate_up", (i, h), "linear", 2 * dense),
                ParamTensor("mlp.dense.down", (h, i), "linear", dense),
            ]
        return t

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "Qwen2MoeConfig", "Qwen2MoeForCausalLM"


class PhimoeFamily(MoeFamily):
    name = "phimoe"
    summary = "Mixtral block with LayerNorms and biases (HF PhimoeConfig)"
    norm: ClassVar[Literal["rmsnorm", "layernorm"]] = "layernorm"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"phimoe": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = super().from_hf_config(cfg, defaults, strict)
        bias = bool(cfg.get("attention_bias", False))
        out.update(
            architecture=self.name,
            attention_bias=bias,
            attention_out_bias=bias,
            _details={"lm_head_bias": bool(cfg.get("lm_head_bias", False))},
        )
        return out

    def head_tensors(self, a: Architecture) -> list[ParamTensor]:
        t = super().head_tensors(a)
        if a.detail("lm_head_bias"):
            t.append(ParamTensor("lm_head_bias", (a.vocab_size,), "bias"))
        return t

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "PhimoeConfig", "PhimoeForCausalLM"


def sparse_layers(a: Architecture) -> int:
    """Qwen2MoeDecoderLayer: a layer is sparse unless it is in
    ``mlp_only_layers`` or off ``decoder_sparse_step``."""
    only, step = set(a.detail("mlp_only_layers", ())), a.detail("decoder_sparse_step", 1)
    return sum(1 for i in range(a.num_layers) if i not in only and (i + 1) % step == 0)
