"""Model families: one module each, one protocol (``base.ModelFamily``).

``FAMILIES`` maps the spec's ``model.architecture`` to its family, the way
vLLM's ``model_executor/models/registry.py`` maps an HF architecture name to
its implementation. A new family is one module with a ``ModelFamily``
subclass, registered here and named in ``planner.architecture.Family``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.families.base import ModelFamily
from planner.families.code import GptBigCodeFamily, Starcoder2Family
from planner.families.cohere import CohereFamily
from planner.families.counted import HfCountedFamily
from planner.families.deepseek import DeepseekFamily
from planner.families.fused import BloomFamily, FalconFamily, GptNeoxFamily
from planner.families.gemma import GemmaFamily
from planner.families.gpt import GptFamily
from planner.families.gpt_oss import GptOssFamily
from planner.families.jamba import JambaFamily
from planner.families.llama import LlamaFamily
from planner.families.mamba import MambaFamily
from planner.families.moe import MoeFamily
from planner.families.moe_variants import PhimoeFamily, Qwen2MoeFamily
from planner.families.olmo import Olmo2Family, OlmoeFamily
from planner.families.opt import OptFamily

if TYPE_CHECKING:
    from planner.architecture import Architecture

FAMILIES: dict[str, ModelFamily] = {
    f.name: f
    for f in (
        LlamaFamily(),
        GptFamily(),
        MoeFamily(),
        GemmaFamily(),
        Qwen2MoeFamily(),
        DeepseekFamily(),
        GptOssFamily(),
        GptNeoxFamily(),
        Starcoder2Family(),
        CohereFamily(),
        Olmo2Family(),
        OlmoeFamily(),
        PhimoeFamily(),
        FalconFamily(),
        BloomFamily(),
        OptFamily(),
        GptBigCodeFamily(),
        MambaFamily(),
        JambaFamily(),
        HfCountedFamily(),
    )
}

# The family assumed when a model is given only by ``parameters`` and its
# shape, with no ``architecture`` (the seed document's "7B": hidden 4096,
# 32 layers, 32 heads, i.e. Llama-2-7B's shape). Documented in docs/spec.md.
COUNT_ONLY_FAMILY = "llama"


def get_family(name: str) -> ModelFamily:
    """The family registered under ``name``; KeyError names the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}") from None


def family_of(a: Architecture) -> ModelFamily:
    return get_family(a.family)


__all__ = ["COUNT_ONLY_FAMILY", "FAMILIES", "ModelFamily", "family_of", "get_family"]
