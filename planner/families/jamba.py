"""``jamba``: AI21's Jamba (HF ``JambaConfig``, models/jamba/modeling_jamba.py;
Lieber et al. 2024, "Jamba: A Hybrid Transformer-Mamba Language Model",
s2-3).

Layer i is attention when i % ``attn_layer_period`` ==
``attn_layer_offset`` (1 in 8), else a Mamba mixer (planner/families/
mamba.py, with RMSNorms over dt, B and C); its feed-forward is an MoE of
``num_experts`` SwiGLU experts (top ``num_experts_per_tok``, a bias-free
router) when i % ``expert_layer_period`` == ``expert_layer_offset``, else
a dense SwiGLU MLP; two RMSNorms per layer (``input_layernorm``,
``pre_ff_layernorm``), a final one, an untied head by default.

Cache per sequence: K and V of the attention layers (growing with the
tokens) plus the mixers' fixed recurrent state; attention FLOPs of the
attention layers only.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.attention import layer_types
from planner.families.base import dense_mlp_tensors, need
from planner.families.llama import LlamaFamily
from planner.families.mamba import mixer_tensors, state_bytes


class JambaFamily(LlamaFamily):
    name = "jamba"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "attention + Mamba layers, MoE every other layer (HF JambaConfig)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"jamba": {}}
    reads_unlisted_hf_types = False
    hf_types_overridable = False
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = super().from_hf_config(cfg, {}, strict)
        L, h = out["num_layers"], out["hidden_size"]
        ap, ao = cfg.get("attn_layer_period", 8), cfg.get("attn_layer_offset", 4)
        ep, eo = cfg.get("expert_layer_period", 2), cfg.get("expert_layer_offset", 1)
        E = cfg.get("num_experts", 16)
        # JambaConfig.layers_block_type / layers_num_experts
        types = tuple("full_attention" if i % ap == ao else "mamba" for i in range(L))
        rank = cfg.get("mamba_dt_rank", "auto")
        out.update(
            architecture=self.name,
            layer_types=types,
            num_local_experts=E,
            num_experts_per_tok=need(cfg, "num_experts_per_tok") if E > 1 else 1,
            sliding_window=None,
            _details={
                "expert_layer_period": ep,
                "expert_layer_offset": eo,
                "d_inner": int(cfg.get("mamba_expand", 2) * h),
                "d_state": cfg.get("mamba_d_state", 16),
                "d_conv": cfg.get("mamba_d_conv", 4),
                "dt_rank": math.ceil(h / 16) if rank == "auto" else int(rank),
                "use_bias": bool(cfg.get("mamba_proj_bias", False)),
                "use_conv_bias": bool(cfg.get("mamba_conv_bias", True)),
                "bcdt_norms": True,
            },
        )
        return out

    def _counts(self, a: Architecture) -> tuple[int, int]:
        attn = sum(1 for t in layer_types(a) if t == "full_attention")
        return attn, a.num_layers - attn

    def experts(self, a: Architecture) -> int:
        return a.num_local_experts

    def active_experts(self, a: Architecture) -> int:
        return a.num_experts_per_tok if a.num_local_experts > 1 else 1

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        attn, mamba = self._counts(a)
        h = a.hidden_size
        t = [
            ParamTensor("attn.q_proj", (a.q_dim, h), "linear", attn),
            ParamTensor("attn.k_proj", (a.kv_dim, h), "linear", attn),
            ParamTensor("attn.v_proj", (a.kv_dim, h), "linear", attn),
            ParamTensor("attn.o_proj", (h, a.q_dim), "linear", attn),
        ]
        return t + mixer_tensors(a, mamba)

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        E, h = self.experts(a), a.hidden_size
        # JambaConfig.layers_num_experts
        ep, eo = a.detail("expert_layer_period", 2), a.detail("expert_layer_offset", 1)
        sparse = sum(1 for i in range(a.num_layers) if E > 1 and i % ep == eo)
        t = dense_mlp_tensors(a, True, a.num_layers - sparse, expert=False)
        if sparse:
            t += dense_mlp_tensors(a, True, sparse * E, expert=True)
            t.append(ParamTensor("mlp.router", (E, h), "router", sparse))
        return t

    def kv_cache_bytes(self, a: Architecture, tokens: float, elem_bytes: int) -> float:
        """K and V of the attention layers plus the mixers' state."""
        kv = super().kv_cache_bytes(a, tokens, elem_bytes)
        return kv + (state_bytes(a, self._counts(a)[1], elem_bytes) if tokens else 0)

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        return (
            *super().approximations(a),
            "the cache adds the Mamba layers' fixed recurrent state to the attention"
            " layers' K and V; the selective scan's element-wise FLOPs are not counted",
        )

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "JambaConfig", "JambaForCausalLM"
