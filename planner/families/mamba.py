"""``mamba``: the Mamba selective state-space model (HF ``MambaConfig``,
models/mamba/modeling_mamba.py; Gu & Dao 2023, "Mamba: Linear-Time
Sequence Modeling with Selective State Spaces", s3).

No attention: every layer is a ``MambaMixer`` behind one RMSNorm. With
d_inner = expand x h and R = ``time_step_rank`` (ceil(h / 16) for "auto"):
``in_proj`` (2 d_inner, h), a depthwise ``conv1d`` (d_inner, 1,
conv_kernel) with bias (``use_conv_bias``), ``x_proj`` (R + 2 d_state,
d_inner), ``dt_proj`` (d_inner, R) with bias, ``A_log`` (d_inner,
d_state), ``D`` (d_inner), ``out_proj`` (h, d_inner); biases on in/out
only with ``use_bias``; the head tied by default.

In place of a KV cache, each layer keeps a recurrent state per sequence
whatever its length (s3.4, the recurrent mode; transformers' cache keeps
``conv_states`` (d_inner, conv_kernel) and ``ssm_states`` (d_inner,
d_state)): L x d_inner x (conv_kernel + d_state) x bytes. Attention FLOPs
are zero; the selective scan's own element-wise FLOPs (about 9 x d_inner
x d_state per token per layer, s3.3) are not counted.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.base import ModelFamily, need


class MambaFamily(ModelFamily):
    name = "mamba"
    summary = (
        "selective state-space layers, a recurrent state instead of a KV cache (HF MambaConfig)"
    )
    norm = "rmsnorm"
    position = "rope"  # no positions at all; nothing learned
    default_hidden_act = "silu"
    default_biases = False
    default_tie_word_embeddings = True
    gated_mlp = False
    fused_qkv = False
    residual_dropout = False
    eager_softmax_fp32 = False
    eager_repeats_kv = False
    norms_per_layer = 1
    activations_derived = False
    config_only = True
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"mamba": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        h = need(cfg, "hidden_size")
        d_inner = int(cfg.get("expand", 2) * h)
        rank = cfg.get("time_step_rank", "auto")
        return {
            "architecture": self.name,
            "hidden_size": h,
            "num_layers": need(cfg, "num_hidden_layers"),
            "num_attention_heads": 1,  # no attention; serves the shape checks only
            "intermediate_size": d_inner,
            "vocab_size": need(cfg, "vocab_size"),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
            "layer_types": ("mamba",) * cfg["num_hidden_layers"],
            "_details": {
                "d_state": cfg.get("state_size", 16),
                "d_conv": cfg.get("conv_kernel", 4),
                "dt_rank": math.ceil(h / 16) if rank == "auto" else int(rank),
                "use_bias": bool(cfg.get("use_bias", False)),
                "use_conv_bias": bool(cfg.get("use_conv_bias", True)),
            },
        }

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        """The mixer (in place of attention; there is no separate MLP)."""
        return mixer_tensors(a, a.num_layers)

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        return []

    def kv_cache_bytes(self, a: Architecture, tokens: float, elem_bytes: int) -> float:
        """The recurrent state of one sequence, the same at any length (so
        "per token" reads as the whole state)."""
        if not tokens:
            return 0
        return state_bytes(a, a.num_layers, elem_bytes)

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        return (
            *super().approximations(a),
            "the KV cache figure is the recurrent state (conv and SSM states), fixed per"
            " sequence; the selective scan's element-wise FLOPs are not counted",
        )

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "MambaConfig", "MambaForCausalLM"


def mixer_tensors(a: Architecture, L: int) -> list[ParamTensor]:
    """``L`` MambaMixers (modeling_mamba.py; Jamba's adds RMSNorms over
    dt, B and C: ``dt_layernorm``, ``b_layernorm``, ``c_layernorm``)."""
    h, d = a.hidden_size, a.detail("d_inner", a.intermediate_size)
    n, k, r = a.detail("d_state"), a.detail("d_conv"), a.detail("dt_rank")
    t = [
        ParamTensor("mixer.in_proj", (2 * d, h), "linear", L),
        ParamTensor("mixer.conv1d", (d, k), "linear", L),  # depthwise: (d, 1, k)
        ParamTensor("mixer.x_proj", (r + 2 * n, d), "linear", L),
        ParamTensor("mixer.dt_proj", (d, r), "linear", L),
        ParamTensor("mixer.dt_proj_bias", (d,), "bias", L),
        ParamTensor("mixer.A_log", (d, n), "bias", L),
        ParamTensor("mixer.D", (d,), "bias", L),
        ParamTensor("mixer.out_proj", (h, d), "linear", L),
    ]
    if a.detail("use_conv_bias"):
        t.append(ParamTensor("mixer.conv1d_bias", (d,), "bias", L))
    if a.detail("use_bias"):
        t += [
            ParamTensor("mixer.in_proj_bias", (2 * d,), "bias", L),
            ParamTensor("mixer.out_proj_bias", (h,), "bias", L),
        ]
    if a.detail("bcdt_norms"):
        t += [
            ParamTensor("mixer.dt_layernorm", (r,), "norm", L),
            ParamTensor("mixer.b_c_layernorms", (n,), "norm", 2 * L),
        ]
    return t


def state_bytes(a: Architecture, layers: int, elem_bytes: int) -> int:
    """Conv and SSM states of ``layers`` mixers for one sequence."""
    d = a.detail("d_inner", a.intermediate_size)
    return layers * d * (a.detail("d_conv") + a.detail("d_state")) * elem_bytes
