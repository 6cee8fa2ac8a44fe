"""``llama``: the Llama block (HF ``LlamaConfig``, models/llama/modeling_llama.py;
Touvron et al. 2023). Pre-norm RMSNorm, rotary positions, gated MLP (SwiGLU:
gate_proj, up_proj, down_proj), optional grouped-query attention, no biases
unless ``attention_bias`` / ``mlp_bias`` say so. With ``qk_norm`` it is the
Qwen3 block (models/qwen3: RMSNorm over each head's queries and keys).
Mistral, Qwen2, Granite, Phi-3 and Qwen3 configs read as this block."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from planner.architecture import Architecture, ParamTensor
from planner.families.base import ModelFamily, need


class LlamaFamily(ModelFamily):
    name = "llama"
    summary = "pre-norm RMSNorm, rotary, SwiGLU MLP, optional GQA (HF LlamaConfig)"
    required: ClassVar[tuple[str, ...]] = ("intermediate_size",)
    norm: ClassVar[Literal["rmsnorm", "layernorm"]] = "rmsnorm"
    position = "rope"
    default_hidden_act = "silu"
    default_biases = False
    default_tie_word_embeddings = False
    gated_mlp = True
    fused_qkv = False
    residual_dropout = False  # LlamaConfig has only attention_dropout
    eager_softmax_fp32 = True  # eager_attention_forward: softmax(dtype=torch.float32)
    eager_repeats_kv = True  # repeat_kv before the matmuls
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {
        "llama": {},
        "mistral": {},
        "qwen2": {"attention_bias": True, "attention_out_bias": False},  # q/k/v bias, o none
        "granite": {},  # GraniteConfig: llama's tensors; the multipliers have no parameters
        "phi3": {},
        "qwen3": {"qk_norm": True},  # q_norm / k_norm over head_dim (modeling_qwen3.py)
    }
    reads_unlisted_hf_types = True
    hf_types_overridable = True  # a spec may read them as MoE (architecture: moe)
    lora_profile = True  # planner/estimate/lora_profile.py, traced with PEFT

    def count_only_defaults(self, f: dict[str, Any]) -> dict[str, int]:
        """The seed's "7B" gives only the count and hidden / layers / heads.
        Assumed (and printed as assumed): Llama-2's 32,000-token vocabulary
        (HF ``LlamaConfig`` default ``vocab_size=32000``) and Llama's MLP
        width rule, 2/3 x 4h rounded up to a multiple of 256 (Meta's
        llama/model.py ``FeedForward``, ``multiple_of=256``; 4096 -> 11008,
        Llama-2-7B's width)."""
        out: dict[str, int] = {}
        if f.get("vocab_size") is None:
            out["vocab_size"] = 32000
        if f.get("intermediate_size") is None and isinstance(f.get("hidden_size"), int):
            out["intermediate_size"] = llama_mlp_width(f["hidden_size"])
        return out

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        """LlamaConfig's field names (configuration_llama.py), with HF's
        defaults for the model_type where they differ."""
        out: dict[str, Any] = {
            "architecture": self.name,
            "hidden_size": need(cfg, "hidden_size"),
            "num_layers": need(cfg, "num_hidden_layers"),
            "num_attention_heads": need(cfg, "num_attention_heads"),
            "intermediate_size": need(cfg, "intermediate_size"),
            "vocab_size": need(cfg, "vocab_size"),
            "tie_word_embeddings": cfg.get(
                "tie_word_embeddings", defaults.get("tie_word_embeddings", False)
            ),
        }
        for key in (
            "num_key_value_heads",
            "head_dim",
            "max_position_embeddings",
            "hidden_act",
            "mlp_bias",
            "sliding_window",
        ):
            if cfg.get(key) is not None:
                out[key] = cfg[key]
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

    def peft_module_name(self, t: ParamTensor) -> str | None:
        """modeling_llama.py names: q_proj, k_proj, v_proj, o_proj
        (``LlamaAttention``), gate_proj, up_proj, down_proj (``LlamaMLP``).
        Routed experts are not ``nn.Linear`` modules PEFT can target by
        name (transformers 5 fuses them): not adaptable here."""
        if t.kind != "linear" or t.expert:
            return None
        return t.name.rsplit(".", 1)[-1]

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        if a.qk_norm:
            return "Qwen3Config", "Qwen3ForCausalLM"
        return "LlamaConfig", "LlamaForCausalLM"

    def hf_config_kwargs(
        self, a: Architecture, common: dict[str, Any], dropout: float, seq: int
    ) -> dict[str, Any]:
        kw = llama_config_kwargs(a, common, dropout, seq)
        kw["attention_bias"] = a.attention_bias
        if a.qk_norm:
            kw["use_sliding_window"] = False
        else:
            kw["mlp_bias"] = a.mlp_bias
        return kw


def llama_config_kwargs(
    a: Architecture, common: dict[str, Any], dropout: float, seq: int
) -> dict[str, Any]:
    """The LlamaConfig fields that Qwen3Config and MixtralConfig share."""
    return {
        **common,
        "num_key_value_heads": a.num_key_value_heads,
        "head_dim": a.head_dim,
        "intermediate_size": a.intermediate_size,
        "max_position_embeddings": max(a.max_position_embeddings, seq),
        "hidden_act": a.hidden_act,
        "attention_dropout": dropout,
    }


def llama_mlp_width(hidden: int, multiple_of: int = 256) -> int:
    """Llama's SwiGLU width for a hidden size: int(2 x 4h / 3) rounded up to
    ``multiple_of`` (Meta's llama/model.py ``FeedForward.__init__``)."""
    width = int(2 * 4 * hidden / 3)
    return multiple_of * -(-width // multiple_of)
