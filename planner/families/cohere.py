"""``cohere``: Command-R and Command-R+ (HF ``CohereConfig``,
models/cohere/modeling_cohere.py; Cohere 2024, the c4ai-command-r model
cards).

What differs from the llama block:

* a parallel block: attention and MLP both read one ``input_layernorm``
  and add to the residual together (``CohereDecoderLayer``): one norm per
  layer, not two;
* ``CohereLayerNorm``: a LayerNorm (mean subtracted) with a weight and no
  bias: h parameters, like an RMSNorm;
* the LM head tied to the embeddings, its logits scaled by ``logit_scale``
  (no parameters);
* ``use_qk_norm`` (Command-R+): a weight-only LayerNorm over each head's
  queries and keys, shaped (heads, head_dim) and (kv_heads, head_dim).
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.llama import LlamaFamily


class CohereFamily(LlamaFamily):
    name = "cohere"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "parallel attention + MLP on one bias-free LayerNorm, tied head (HF CohereConfig)"
    default_tie_word_embeddings = True
    norms_per_layer = 1
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"cohere": {}}
    reads_unlisted_hf_types = False
    hf_types_overridable = False
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = super().from_hf_config(cfg, {"tie_word_embeddings": True}, strict)
        out["architecture"] = self.name
        out["_details"] = {"use_qk_norm": bool(cfg.get("use_qk_norm", False))}
        return out

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        t = super().attention_tensors(a)
        if a.detail("use_qk_norm"):
            L = a.num_layers
            t += [
                ParamTensor("attn.q_norm", (a.num_attention_heads, a.head_dim), "norm", L),
                ParamTensor("attn.k_norm", (a.num_key_value_heads, a.head_dim), "norm", L),
            ]
        return t

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "CohereConfig", "CohereForCausalLM"
