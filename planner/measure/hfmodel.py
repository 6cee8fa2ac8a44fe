"""Build the Hugging Face model for a planner ``Architecture``.

Mapping (transformers configuration classes):

* ``llama`` -> ``LlamaConfig`` / ``LlamaForCausalLM`` (models/llama);
* ``moe`` -> ``MixtralConfig`` / ``MixtralForCausalLM`` (models/mixtral),
  experts run by ``experts_implementation="grouped_mm"`` (integrations/moe.py,
  the default since transformers 5.0): its tensor shapes do not depend on the
  routing, so the model traces under fake tensors. The older per-expert loop
  (``torch.where`` over the routing mask) has data-dependent shapes;
* ``llama`` with ``qk_norm`` -> ``Qwen3Config`` / ``Qwen3ForCausalLM``
  (models/qwen3: the llama block with RMSNorm on each head's q and k);
* ``gpt`` -> ``GPT2Config`` / ``GPT2LMHeadModel`` (models/gpt2): one dropout
  probability for embeddings, attention probabilities and residuals.

``training.attention``: ``flash`` -> ``attn_implementation="sdpa"`` (PyTorch's
``scaled_dot_product_attention``, a fused kernel on CPU and CUDA); ``eager``
-> the explicit matmul/softmax path. Only this package imports torch.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MixtralConfig,
    MixtralForCausalLM,
    PreTrainedModel,
    Qwen3Config,
    Qwen3ForCausalLM,
)

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
    if arch.family == "gpt":
        return GPT2Config(
            n_embd=arch.hidden_size,
            n_layer=arch.num_layers,
            n_head=arch.num_attention_heads,
            n_inner=arch.intermediate_size,
            n_positions=max(arch.max_position_embeddings, seq),
            activation_function=arch.hidden_act,
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=dropout,
            **common,
        )
    llama: dict[str, Any] = {
        **common,
        "num_key_value_heads": arch.num_key_value_heads,
        "head_dim": arch.head_dim,
        "intermediate_size": arch.intermediate_size,
        "max_position_embeddings": max(arch.max_position_embeddings, seq),
        "hidden_act": arch.hidden_act,
        "attention_dropout": dropout,
    }
    if arch.family == "moe":
        # The typed signature leaves out the **kwargs the base config accepts.
        return MixtralConfig(  # type: ignore[call-arg]
            num_local_experts=arch.num_local_experts,
            num_experts_per_tok=arch.num_experts_per_tok,
            sliding_window=arch.sliding_window,
            experts_implementation="grouped_mm",
            **llama,
        )
    if arch.qk_norm:
        return Qwen3Config(attention_bias=arch.attention_bias, use_sliding_window=False, **llama)
    return LlamaConfig(attention_bias=arch.attention_bias, mlp_bias=arch.mlp_bias, **llama)


def build_model(arch: Architecture, config: Any, dtype: torch.dtype) -> PreTrainedModel:
    """Construct the causal-LM model with parameters of ``dtype``. Called
    inside ``FakeTensorMode`` the parameters are fake: nothing is allocated
    and the random initialisation costs nothing."""
    cls = {"gpt": GPT2LMHeadModel, "moe": MixtralForCausalLM}.get(arch.family, LlamaForCausalLM)
    if arch.qk_norm and arch.family == "llama":
        cls = Qwen3ForCausalLM
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
