"""Build the Hugging Face model for a planner ``Architecture``.

Each family names its transformers classes and configuration fields
(``ModelFamily.hf_classes`` / ``hf_config_kwargs`` in planner/families):
``llama`` -> ``LlamaConfig`` / ``LlamaForCausalLM`` (with ``qk_norm``,
``Qwen3Config`` / ``Qwen3ForCausalLM``), ``moe`` -> ``MixtralConfig`` /
``MixtralForCausalLM`` with grouped_mm experts, ``gpt`` -> ``GPT2Config`` /
``GPT2LMHeadModel``.

``training.attention``: ``flash`` -> ``attn_implementation="sdpa"`` (PyTorch's
``scaled_dot_product_attention``, a fused kernel on CPU and CUDA); ``eager``
-> the explicit matmul/softmax path. Only this package imports torch.
"""

from __future__ import annotations

from typing import Any

import torch
import transformers
from transformers import PreTrainedModel

from planner.architecture import Architecture

ATTN_IMPLEMENTATION = {"flash": "sdpa", "eager": "eager"}


def hf_config(arch: Architecture, attention: str, dropout: float, seq: int) -> Any:
    """The transformers config object for ``arch`` (no network, no files)."""
    common: dict[str, Any] = {
        "vocab_size": arch.vocab_size,
        "hidden_size": arch.hidden_size,
        "num_hidden_layers": arch.num_layers,
        "num_attention_heads": arch.num_attention_heads,
        "tie_word_embeddings": arch.tie_word_embeddings,
        "attn_implementation": ATTN_IMPLEMENTATION[attention],
        "use_cache": False,
    }
    fam = arch.family_impl
    config_class = getattr(transformers, fam.hf_classes(arch)[0])
    return config_class(**fam.hf_config_kwargs(arch, common, dropout, seq))


def build_model(arch: Architecture, config: Any, dtype: torch.dtype) -> PreTrainedModel:
    """Construct the causal-LM model with parameters of ``dtype``. Called
    inside ``FakeTensorMode`` the parameters are fake: nothing is allocated
    and the random initialisation costs nothing."""
    cls = getattr(transformers, arch.family_impl.hf_classes(arch)[1])
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = cls(config)
    finally:
        torch.set_default_dtype(old)
    model.train()
    return model


def enable_checkpointing(model: PreTrainedModel) -> None:
    """Full activation recomputation: HF's per-layer checkpointing with
    ``torch.utils.checkpoint`` in its non-reentrant mode (transformers
    ``modeling_utils.py``: ``activation_checkpointing_enable`` since 5.x,
    ``gradient_checkpointing_enable`` before)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:  # transformers 4.x
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


# Common config attributes (transformers' PreTrainedConfig names, through
# each config class's ``attribute_map``) -> the spec's model fields.
_COMMON = {
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_attention_heads",
    "num_key_value_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "intermediate_size": "intermediate_size",
    "vocab_size": "vocab_size",
    "max_position_embeddings": "max_position_embeddings",
    "sliding_window": "sliding_window",
    "tie_word_embeddings": "tie_word_embeddings",
}


def meta_model_fields(cfg: dict[str, Any]) -> dict[str, Any]:
    """Spec model fields for a config.json of any model_type transformers
    knows: the model class built on the meta device (no weights, no
    network), its parameters listed as they are, the shape fields read
    from the config object. ValueError when transformers cannot build it."""
    cfg = dict(cfg)
    mt = str(cfg.pop("model_type", ""))
    try:
        config = transformers.AutoConfig.for_model(mt, **cfg)
        with torch.device("meta"):
            try:
                model = transformers.AutoModelForCausalLM.from_config(config)
            except ValueError:
                model = transformers.AutoModelForImageTextToText.from_config(config)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"transformers cannot build model_type {mt!r}: {exc}") from None
    text = getattr(config, "get_text_config", lambda: config)()
    out: dict[str, Any] = {"architecture": "hf_counted"}
    for attr, field in _COMMON.items():
        value = getattr(text, attr, None)
        if isinstance(value, (bool, int)) and not (field != "tie_word_embeddings" and value <= 0):
            out[field] = value
    types = getattr(text, "layer_types", None)
    if isinstance(types, list) and len(types) == out.get("num_layers"):
        out["layer_types"] = tuple(str(t) for t in types)
    tensors = []
    for name, p in model.named_parameters():  # tied weights once, as num_parameters()
        tensors.append((name, tuple(int(d) for d in p.shape)))
    out["_details"] = {"model_type": mt, "tensors": tuple(tensors)}
    return out
