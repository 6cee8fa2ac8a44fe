"""Import a Hugging Face ``config.json`` from disk (no network).

Finds the family that lists the config's ``model_type``
(``ModelFamily.hf_model_types`` in planner/families) and lets it map the
config's fields onto the spec's model fields.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from planner.families import FAMILIES, get_family
from planner.spec.limits import check_hf_values, whole


def fields_from_hf_config(cfg: dict[str, Any], family: str | None = None) -> dict[str, Any]:
    """Spec model fields from a config.json mapping. Raises ValueError with a
    message naming the missing key. ``family`` (the spec's ``architecture``)
    lets a family that reads unlisted types (a llama-style block) read a
    model_type no family lists, or one whose owner allows it."""
    check_hf_values(cfg)  # types and ranges first (planner/spec/limits.py)
    cfg = whole(cfg)
    mt = str(cfg.get("model_type", "")).lower()
    owner = next((f for f in FAMILIES.values() if mt in f.hf_model_types), None)
    named = get_family(family) if family else None
    reader = named if named is not None and named.reads_unlisted_hf_types else None
    if owner is not None and (reader is None or not owner.hf_types_overridable):
        return owner.from_hf_config(cfg, owner.hf_model_types[mt], strict=True)
    if reader is not None:
        defaults = owner.hf_model_types[mt] if owner is not None else {}
        return reader.from_hf_config(cfg, defaults, strict=False)
    known = sorted(t for f in FAMILIES.values() for t in f.hf_model_types)
    refusal = (
        f"model_type {mt!r} is not one planner can count exactly from its fields; known: "
        + ", ".join(known)
        + ". Reading it as another family would miscount it"
    )
    if not _measure_extra_installed():
        raise ValueError(
            refusal + ". With the measure extra installed (pip install 'planner[measure]'),"
            " planner counts any model_type transformers knows exactly, by building it on"
            " the meta device (activations, FLOPs and the KV cache are then approximate)"
        )
    from planner.measure.hfmodel import meta_model_fields  # imports torch

    try:
        return meta_model_fields(cfg)
    except ValueError as exc:
        raise ValueError(f"{refusal}; {exc}") from None


def _measure_extra_installed() -> bool:
    """torch and transformers importable (without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
