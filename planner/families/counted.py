"""``hf_counted``: a model_type no family lists, counted by transformers.

With the measure extra installed, planner/spec/hf_config.py builds the HF
model class on the meta device (planner/measure/hfmodel.py
``meta_model_fields``: no weights, no network) and keeps its parameter
list; this family serves it. The total is exact (transformers' own
parameters, tied weights once). What the family cannot know is said in
``approximations``: routed experts are not told apart (active parameters
and FLOPs count every expert), the KV cache and attention FLOPs read the
config's heads, head_dim and layer types as a standard attention layer
(wrong for MLA or recurrent layers), and the saved tensors are the llama
profile's.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor, TensorKind
from planner.families.llama import LlamaFamily

_LAYER = re.compile(r"\.(\d+)\.")


def _kind(name: str, shape: tuple[int, ...], vocab: int) -> TensorKind:
    if any(k in name for k in ("vision", "visual", "image", "audio", "multi_modal")):
        return "encoder"
    if name.endswith("lm_head.weight"):
        return "lm_head"
    if len(shape) == 2 and shape[0] == vocab and ("embed" in name or "wte" in name):
        return "embedding"
    if ("pos" in name and "embed" in name) or name.endswith("wpe.weight"):
        return "position"
    if len(shape) >= 2:
        return "linear"
    return "norm" if "norm" in name or name.split(".")[-2].startswith("ln") else "bias"


class HfCountedFamily(LlamaFamily):
    name = "hf_counted"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "any model_type transformers knows, counted on the meta device (measure extra)"
    # the MLP width serves the (approximate) activation profile only;
    # default 4 x hidden_size when the config names none
    required: ClassVar[tuple[str, ...]] = ()
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {}
    reads_unlisted_hf_types = False
    hf_types_overridable = False
    activations_derived = False
    config_only = True

    def peft_module_name(self, t: ParamTensor) -> str | None:
        """Not checked for arbitrary model types: no adapters."""
        return None

    def parameter_tensors(self, a: Architecture) -> list[ParamTensor]:
        """transformers' parameters, identical per-layer tensors grouped."""
        groups: dict[tuple[str, tuple[int, ...]], int] = {}
        for name, shape in a.detail("tensors", ()):
            key = (_LAYER.sub(".*.", name), tuple(shape))
            groups[key] = groups.get(key, 0) + 1
        out = []
        for (name, shape), n in groups.items():
            kind = _kind(name, shape, a.vocab_size)
            final = kind == "norm" and ".*." not in name
            out.append(ParamTensor("final_norm" if final else name, shape, kind, n))
        return out

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        mt = a.detail("model_type", "?")
        return (
            f"model_type {mt!r} is counted by transformers on the meta device: the total is"
            " exact; active parameters and FLOPs count every routed expert, the KV cache and"
            " attention FLOPs assume standard attention with the config's heads, and the"
            " activations use the llama profile",
        )

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        raise NotImplementedError("hf_counted: planner measure does not trace this model")
