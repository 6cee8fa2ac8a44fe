"""``gpt``: the GPT-2 block (HF ``GPT2Config``, models/gpt2/modeling_gpt2.py;
Radford et al. 2019). Pre-norm LayerNorm with weight and bias, learned
absolute positions, plain MLP (c_fc, GELU, c_proj), biases on every linear
layer, q, k and v fused into one Conv1D ``c_attn``, and one dropout
probability for embeddings, attention probabilities and residuals."""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.estimate.saved import ActivationInputs, Saved
from planner.families.base import ModelFamily, need


class GptFamily(ModelFamily):
    name = "gpt"
    summary = "pre-norm LayerNorm, learned positions, GELU MLP, biases (HF GPT2Config)"
    required: ClassVar[
        tuple[str, ...]
    ] = ()  # intermediate_size defaults to 4 x hidden_size (GPT2Config n_inner)
    norm = "layernorm"
    position = "learned"
    default_hidden_act = "gelu_new"
    default_biases = True
    default_tie_word_embeddings = True
    gated_mlp = False
    fused_qkv = True
    residual_dropout = True  # embd_pdrop, resid_pdrop
    eager_softmax_fp32 = False  # GPT2Attention: softmax in the activation dtype
    eager_repeats_kv = False  # no GQA: k and v have every head already
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"gpt2": {}}

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        """GPT2Config's own names (configuration_gpt2.py: n_embd, n_layer, ...)."""
        h = need(cfg, "n_embd")
        return {
            "architecture": self.name,
            "hidden_size": h,
            "num_layers": need(cfg, "n_layer"),
            "num_attention_heads": need(cfg, "n_head"),
            "intermediate_size": cfg.get("n_inner") or 4 * h,
            "vocab_size": need(cfg, "vocab_size"),
            "max_position_embeddings": need(cfg, "n_positions"),
            "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
            "hidden_act": cfg.get("activation_function", "gelu_new"),
        }

    def qkv_projections(self, a: Architecture) -> list[ParamTensor]:
        """One fused projection (``GPT2Attention.c_attn``, Conv1D(h, 3h))."""
        qkv = a.q_dim + 2 * a.kv_dim
        return [ParamTensor("attn.c_attn", (qkv, a.hidden_size), "linear", a.num_layers)]

    def qkv_biases(self, a: Architecture) -> list[ParamTensor]:
        if not a.attention_bias:
            return []
        qkv = a.q_dim + 2 * a.kv_dim
        return [ParamTensor("attn.c_attn_bias", (qkv,), "bias", a.num_layers)]

    def hf_mlp(self, x: ActivationInputs, m: int) -> list[Saved]:
        """GPT2MLP: ``gelu_new`` (activations.py ``NewGELUActivation``,
        written with pow/tanh/mul) saves 4 x sbi (input, tanh output, 0.5x,
        1 + tanh); ``F.gelu``-based activations save only their input; c_proj
        saves its input."""
        a, sb = x.arch, x.tokens
        i = a.intermediate_size
        n = 4 if a.hidden_act == "gelu_new" else 1
        return [
            Saved("mlp.act_saved", n * sb * i, m, f"{a.hidden_act} saves {n} x sbi"),
            Saved("mlp.down_input", sb * i, m, "c_proj input"),
        ]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "GPT2Config", "GPT2LMHeadModel"

    def hf_config_kwargs(
        self, a: Architecture, common: dict[str, Any], dropout: float, seq: int
    ) -> dict[str, Any]:
        return {
            "n_embd": a.hidden_size,
            "n_layer": a.num_layers,
            "n_head": a.num_attention_heads,
            "n_inner": a.intermediate_size,
            "n_positions": max(a.max_position_embeddings, seq),
            "activation_function": a.hidden_act,
            "resid_pdrop": dropout,
            "embd_pdrop": dropout,
            "attn_pdrop": dropout,
            **common,
        }
