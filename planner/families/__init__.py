"""Model families: one module each, one protocol (``base.ModelFamily``).

``FAMILIES`` maps the spec's ``model.architecture`` to its family, the way
vLLM's ``model_executor/models/registry.py`` maps an HF architecture name to
its implementation. A new family is one module with a ``ModelFamily``
subclass, registered here and named in ``planner.architecture.Family``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.families.base import ModelFamily
from planner.families.gpt import GptFamily
from planner.families.llama import LlamaFamily
from planner.families.moe import MoeFamily

if TYPE_CHECKING:
    from planner.architecture import Architecture

FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (LlamaFamily(), GptFamily(), MoeFamily())}

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
