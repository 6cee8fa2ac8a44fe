"""Import a Hugging Face ``config.json`` from disk (no network).

Maps the config's fields onto the spec's model fields. Families known to
follow the llama block (RMSNorm, gated MLP, rotary) are read with HF's
defaults for that ``model_type``; GPT-2 uses its own names (n_embd, ...).
"""

from __future__ import annotations

from typing import Any

from planner.spec.limits import check_hf_values, whole

# model_type -> defaults that differ from LlamaConfig's. Only types whose
# parameters are exactly the llama block's are listed (checked against the HF
# modeling_*.py): a type with extra tensors (qk-norm in qwen3/olmoe, four
# norms per layer in gemma2, shared experts in qwen2_moe, MLA in deepseek)
# would be miscounted, so it is refused unless the spec names the family.
_LLAMA_LIKE: dict[str, dict[str, Any]] = {
    "llama": {},
    "mistral": {},
    "qwen2": {"attention_bias": True, "attention_out_bias": False},  # q/k/v bias, o none
    "gemma": {"tie_word_embeddings": True},
    "phi3": {},
    "qwen3": {"qk_norm": True},  # q_norm / k_norm over head_dim (modeling_qwen3.py)
}
# qwen3_moe: every layer sparse (decoder_sparse_step 1, no mlp_only_layers),
# experts of moe_intermediate_size, no shared expert (modeling_qwen3_moe.py).
_MOE: dict[str, dict[str, Any]] = {"mixtral": {}, "qwen3_moe": {"qk_norm": True}}


def fields_from_hf_config(cfg: dict[str, Any], family: str | None = None) -> dict[str, Any]:
    """Spec model fields from a config.json mapping. Raises ValueError with a
    message naming the missing key. ``family`` (the spec's ``architecture``)
    lets an unlisted llama-style model_type be read with llama's field names."""
    check_hf_values(cfg)  # types and ranges first (planner/spec/limits.py)
    cfg = whole(cfg)
    mt = str(cfg.get("model_type", "")).lower()
    if mt == "gpt2":
        return _gpt2(cfg)
    if mt in _MOE:
        out = _llama(cfg, _MOE[mt])
        out["architecture"] = "moe"
        experts = cfg.get("num_local_experts", cfg.get("num_experts"))
        if experts is None:
            raise ValueError("MoE config has no `num_local_experts` / `num_experts`")
        out["num_local_experts"] = experts
        out["num_experts_per_tok"] = _need(cfg, "num_experts_per_tok")
        if cfg.get("moe_intermediate_size"):
            out["intermediate_size"] = cfg["moe_intermediate_size"]
        if cfg.get("mlp_only_layers") or cfg.get("decoder_sparse_step", 1) != 1:
            raise ValueError(
                "dense layers mixed with MoE layers (mlp_only_layers / decoder_sparse_step)"
                " are not modelled; give the architecture fields yourself"
            )
        return out
    if mt in _LLAMA_LIKE or family in ("llama", "moe"):
        out = _llama(cfg, _LLAMA_LIKE.get(mt, {}))
        if family == "moe":
            out["architecture"] = "moe"
            out["num_local_experts"] = cfg.get("num_local_experts", cfg.get("num_experts"))
            out["num_experts_per_tok"] = cfg.get("num_experts_per_tok")
        return out
    raise ValueError(
        f"model_type {mt!r} is not one planner can count exactly; known: "
        + ", ".join(sorted([*_LLAMA_LIKE, *_MOE, "gpt2"]))
        + ". If the model is a plain llama-style block, add `architecture: llama` to the"
        " spec's model section; otherwise give the architecture fields yourself"
    )


def _need(cfg: dict[str, Any], key: str) -> Any:
    if cfg.get(key) is None:
        raise ValueError(f"config.json lacks `{key}`")
    return cfg[key]


def _llama(cfg: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "architecture": "llama",
        "hidden_size": _need(cfg, "hidden_size"),
        "num_layers": _need(cfg, "num_hidden_layers"),
        "num_attention_heads": _need(cfg, "num_attention_heads"),
        "intermediate_size": _need(cfg, "intermediate_size"),
        "vocab_size": _need(cfg, "vocab_size"),
        "tie_word_embeddings": cfg.get(
            "tie_word_embeddings", defaults.get("tie_word_embeddings", False)
        ),
    }
    optional = {
        "num_key_value_heads": "num_key_value_heads",
        "head_dim": "head_dim",
        "max_position_embeddings": "max_position_embeddings",
        "hidden_act": "hidden_act",
        "mlp_bias": "mlp_bias",
        "sliding_window": "sliding_window",
    }
    for key, src in optional.items():
        if cfg.get(src) is not None:
            out[key] = cfg[src]
    if defaults.get("qk_norm"):
        out["qk_norm"] = True
    if "attention_bias" in defaults:
        out["attention_bias"] = defaults["attention_bias"]
        out["attention_out_bias"] = defaults["attention_out_bias"]
    elif cfg.get("attention_bias") is not None:
        out["attention_bias"] = cfg["attention_bias"]
    if cfg.get("use_sliding_window") is False:
        out.pop("sliding_window", None)
    return out


def _gpt2(cfg: dict[str, Any]) -> dict[str, Any]:
    h = _need(cfg, "n_embd")
    return {
        "architecture": "gpt",
        "hidden_size": h,
        "num_layers": _need(cfg, "n_layer"),
        "num_attention_heads": _need(cfg, "n_head"),
        "intermediate_size": cfg.get("n_inner") or 4 * h,
        "vocab_size": _need(cfg, "vocab_size"),
        "max_position_embeddings": _need(cfg, "n_positions"),
        "tie_word_embeddings": cfg.get("tie_word_embeddings", True),
        "hidden_act": cfg.get("activation_function", "gelu_new"),
    }
