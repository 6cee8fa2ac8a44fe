"""The spec schema's building blocks: the `Strict` base every section
extends (unknown keys and non-finite numbers refused) and the number types
that read '2T', '7e9' and the model-shape bounds (planner/spec/limits.py).
The sections live in planner/spec/schema*.py; planner/spec/schema.py
re-exports them all."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from planner.spec.limits import MODEL_LIMITS

_SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_NUMBER = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([kKMBGT]?)\s*$")


def _to_number(v: object) -> object:
    """Accept 7e9 written as text (YAML 1.1 reads '7e9' as a string) and
    suffixes: '2T' tokens, '300B', '1.5M'. Refuse true/false (pydantic would
    read them as 1 and 0). Anything else passes through to pydantic, which
    then reports what is allowed."""
    if isinstance(v, bool):
        raise ValueError(f"must be a number, not {str(v).lower()}")
    if isinstance(v, str):
        m = _NUMBER.match(v)
        if m:
            x = float(m.group(1).replace("_", "")) * _SUFFIX.get(m.group(2), 1)
            if not math.isfinite(x):
                return v  # too large for a float: let pydantic reject the text
            return int(x) if x == int(x) else x
    return v


def _to_whole(v: object) -> object:
    v = _to_number(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


Count = Annotated[int, BeforeValidator(_to_whole), Field(ge=1)]


def _hi(field: str) -> int:
    return MODEL_LIMITS[field][1]


# Model-shape bounds from the one table (planner/spec/limits.py MODEL_LIMITS;
# docs/spec.md "Limits"): pydantic refuses ``hidden_size: 1e30`` naming the
# field and line, and `planner schema` shows the maxima.
Width = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("hidden_size"))]
HeadDim = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("head_dim"))]
MlpWidth = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("intermediate_size"))]
Layers = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_layers"))]
Heads = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_attention_heads"))]
KvHeads = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_key_value_heads"))]
Vocab = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("vocab_size"))]
Positions = Annotated[
    int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("max_position_embeddings"))
]
Window = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("sliding_window"))]
Experts = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_local_experts"))]
TopK = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_experts_per_tok"))]
Params = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("parameters"))]
Number = Annotated[float, BeforeValidator(_to_number)]
Fraction = Annotated[float, Field(gt=0, le=1)]


def _admits_bool(ann: object) -> bool:
    return ann is bool or any(_admits_bool(a) for a in getattr(ann, "__args__", ()) or ())


class Strict(BaseModel):
    # Non-finite numbers (.inf, .nan, 1e400) are refused everywhere.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: object, info: ValidationInfo) -> object:
        """true/false where a number belongs is refused (pydantic reads 1, 0)."""
        field = cls.model_fields.get(info.field_name or "")
        ann = field.annotation if field is not None else None
        numeric = "float" in str(ann) or "int" in str(ann)
        if isinstance(v, bool) and numeric and not _admits_bool(ann):
            raise ValueError(f"must be a number, not {str(v).lower()}")
        return v
