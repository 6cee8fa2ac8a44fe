"""``gemma``: the Gemma blocks (HF ``GemmaConfig``, ``Gemma2Config``,
``Gemma3TextConfig``, ``Gemma3Config``; models/gemma*/modeling_gemma*.py;
Gemma Team 2024, "Gemma 2", s2; Gemma Team 2025, "Gemma 3 Technical
Report", s2).

What differs from the llama block, and what it changes:

* the LM head is tied to the embeddings, and ``head_dim`` is its own field
  (256 for Gemma-7B's 3072 / 16 heads): parameters;
* GeGLU (``gelu_pytorch_tanh`` gate) in place of SwiGLU: the same tensors;
* Gemma 2/3: four norms per layer (input, post-attention,
  pre-feed-forward, post-feed-forward; Gemma2DecoderLayer): parameters;
* Gemma 2/3: alternating local / global attention (``layer_types``: every
  other layer a 4096-token window in Gemma 2; five 512- or 1024-token
  layers per global one in Gemma 3): KV cache and attention FLOPs;
* Gemma 3: RMSNorm over each head's queries and keys (``q_norm``,
  ``k_norm``, head_dim each): parameters;
* logit soft-capping (Gemma 2: ``attn_logit_softcapping`` 50,
  ``final_logit_softcapping`` 30) and query scaling by
  ``query_pre_attn_scalar``^-1/2: element-wise, no parameters; their FLOPs
  are not counted (a few per score, against 2 x head_dim for QK^T);
* ``gemma3`` (the image-text model): a SigLIP vision tower
  (models/siglip/modeling_siglip.py ``SiglipVisionTransformer``) and the
  multi-modal projector (``Gemma3MultiModalProjector``): parameters only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.attention import hf_layer_types
from planner.families.llama import LlamaFamily

GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262_208,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "max_position_embeddings": 131_072,
    "query_pre_attn_scalar": 256,
    "sliding_window": 4096,
}


class GemmaFamily(LlamaFamily):
    name = "gemma"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "llama block, tied head, GeGLU; Gemma 2/3: 4 norms, local/global layers"
    default_hidden_act = "gelu_pytorch_tanh"
    default_tie_word_embeddings = True
    # model_type -> (norms per layer, qk-norm, local layers per global one)
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {
        "gemma": {"norms": 2, "qk_norm": False, "pattern": 0},
        "gemma2": {"norms": 4, "qk_norm": False, "pattern": 2},
        "gemma3_text": {"norms": 4, "qk_norm": True, "pattern": 6},
        "gemma3": {"norms": 4, "qk_norm": True, "pattern": 6},
    }
    reads_unlisted_hf_types = False
    hf_types_overridable = False
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        """Gemma*Config's names; ``gemma3`` nests the language model in
        ``text_config`` and the vision tower in ``vision_config``."""
        text = cfg.get("text_config") or cfg
        if defaults["qk_norm"]:  # Gemma3TextConfig's defaults (configuration_gemma3.py)
            text = {**GEMMA3_TEXT_DEFAULTS, **text}
        out = super().from_hf_config(text, {}, strict)
        out["architecture"] = self.name
        out["tie_word_embeddings"] = text.get("tie_word_embeddings", True)
        out["hidden_act"] = text.get("hidden_activation") or "gelu_pytorch_tanh"
        out["qk_norm"] = defaults["qk_norm"]
        details: dict[str, Any] = {"norms_per_layer": defaults["norms"]}
        for key in ("query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping"):
            if text.get(key) is not None:
                details[key] = text[key]
        layers = out["num_layers"]
        pattern = text.get("sliding_window_pattern", defaults["pattern"])
        if text.get("layer_types") is not None:
            out["layer_types"] = hf_layer_types(text["layer_types"], layers)
        elif pattern:  # Gemma2Config / Gemma3TextConfig __post_init__
            out["layer_types"] = tuple(
                "sliding_attention" if (i + 1) % pattern else "full_attention"
                for i in range(layers)
            )
        if "vision_config" in cfg:
            v = cfg["vision_config"] or {}
            # SiglipVisionConfig's defaults (configuration_siglip.py) where the
            # config leaves a field out
            details["vision"] = {
                "hidden_size": v.get("hidden_size", 768),
                "intermediate_size": v.get("intermediate_size", 3072),
                "num_hidden_layers": v.get("num_hidden_layers", 12),
                "image_size": v.get("image_size", 224),
                "patch_size": v.get("patch_size", 16),
                "num_channels": v.get("num_channels", 3),
            }
        out["_details"] = details
        return out

    def norm_tensors(self, a: Architecture) -> list[ParamTensor]:
        n, h = a.detail("norms_per_layer", 2), a.hidden_size
        return [
            ParamTensor("layer_norms", (h,), "norm", n * a.num_layers),
            ParamTensor("final_norm", (h,), "norm", 1),
        ]

    def head_tensors(self, a: Architecture) -> list[ParamTensor]:
        return [*super().head_tensors(a), *vision_tensors(a)]

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        out = super().approximations(a)
        if a.detail("vision"):
            out += (
                "the SigLIP vision tower and projector are in the parameters and weight"
                " memory; their activations and FLOPs (images) are not counted",
            )
        return out

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        if a.detail("norms_per_layer", 2) == 2:
            return "GemmaConfig", "GemmaForCausalLM"
        if a.qk_norm:
            return "Gemma3TextConfig", "Gemma3ForCausalLM"
        return "Gemma2Config", "Gemma2ForCausalLM"


def vision_tensors(a: Architecture) -> list[ParamTensor]:
    """SiglipVisionTransformer (patch Conv2d with bias, learned positions,
    per layer two LayerNorms, q/k/v/out and fc1/fc2 with biases, a final
    LayerNorm) and Gemma3MultiModalProjector (a (vision, text) matrix and
    an RMSNorm over the vision width). Kind ``encoder``: in the total and
    the weights, not in a text token's matmuls."""
    v = dict(a.detail("vision") or ())
    if not v:
        return []
    d, i, n = v["hidden_size"], v["intermediate_size"], v["num_hidden_layers"]
    c, p = v["num_channels"], v["patch_size"]
    patches = (v["image_size"] // p) ** 2
    return [
        ParamTensor("vision.patch_embedding", (d, c * p * p), "encoder"),
        ParamTensor("vision.patch_bias", (d,), "encoder"),
        ParamTensor("vision.position_embedding", (patches, d), "encoder"),
        ParamTensor("vision.attn", (d, d), "encoder", 4 * n),  # q, k, v, out_proj
        ParamTensor("vision.attn_bias", (d,), "encoder", 4 * n),
        ParamTensor("vision.fc1", (i, d), "encoder", n),
        ParamTensor("vision.fc2", (d, i), "encoder", n),
        ParamTensor("vision.fc_bias", (i + d,), "encoder", n),
        ParamTensor("vision.layer_norms", (d,), "encoder", 2 * 2 * n + 2),  # w, b; + post_layernorm
        ParamTensor("mm.input_projection", (d, a.hidden_size), "encoder"),
        ParamTensor("mm.soft_emb_norm", (d,), "encoder"),
    ]
