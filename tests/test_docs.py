"""Docs completeness: docs/spec.md documents every spec field and every key
of `planner estimate --format json` (the top two levels, and the memory
components the issue names)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from planner.pipeline import evaluate
from planner.spec import schema
from planner.spec.loader import load_spec_text

DOCS = Path(__file__).parents[1] / "docs"
SPEC_MD = (DOCS / "spec.md").read_text(encoding="utf-8")

# planner/spec/schema.py re-exports the classes of planner/spec/schema_*.py.
SCHEMA_MODULES = {
    schema.__name__,
    "planner.spec.schema_types",
    "planner.spec.schema_training",
    "planner.spec.schema_inference",
    "planner.spec.schema_cluster",
    "planner.spec.schema_plan",
}
SECTIONS = [
    cls
    for cls in vars(schema).values()
    if inspect.isclass(cls)
    and issubclass(cls, BaseModel)
    and cls.__module__ in SCHEMA_MODULES
    and cls is not schema.Strict
]


def test_sections_found() -> None:
    names = {c.__name__ for c in SECTIONS}
    assert {"SpecFile", "ModelSection", "TrainingSection", "ClusterSection"} <= names
    # Exactly the classes of the JSON Schema (`planner schema`) are checked.
    assert names == {"SpecFile", *schema.SpecFile.model_json_schema()["$defs"]}


@pytest.mark.parametrize("section", SECTIONS, ids=lambda c: c.__name__)
def test_every_field_documented(section: type[BaseModel]) -> None:
    missing = [f for f in section.model_fields if f"`{f}`" not in SPEC_MD]
    assert not missing, f"{section.__name__}: document {missing} in docs/spec.md"


def test_every_top_level_section_has_a_heading() -> None:
    for field in schema.SpecFile.model_fields:
        if field in ("name", "title", "description", "objective"):
            continue
        assert re.search(rf"^## `{field}`", SPEC_MD, re.M), field


def _json(workload: str) -> dict[str, Any]:
    text = f"name: d\nmodel: mixtral-8x7b\n{workload}\ncluster: {{gpu: h100}}\n"
    return evaluate(load_spec_text(text, "d.yaml")).estimate_json


DOCUMENTS = [
    _json("training: {sequence_length: 1024, tokens: 1e9}"),
    _json("inference: {prompt_tokens: 100, generated_tokens: 10}"),
]


def _undocumented(d: dict[str, Any]) -> list[str]:
    """Top-level keys must appear backticked (`units` or `units.memory`);
    an object's keys dotted (`model.parameters`); a list's items' keys
    backticked (`model_states_bytes`)."""
    missing = []
    for top, value in d.items():
        if f"`{top}" not in SPEC_MD:
            missing.append(top)
        if isinstance(value, dict):
            missing += [f"{top}.{k}" for k in value if f"`{top}.{k}`" not in SPEC_MD]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            missing += [f"{top}[].{k}" for k in value[0] if f"`{k}`" not in SPEC_MD]
    return missing


@pytest.mark.parametrize("doc", DOCUMENTS, ids=["training", "inference"])
def test_every_json_key_documented(doc: dict[str, Any]) -> None:
    missing = _undocumented(doc)
    assert not missing, f"document {missing} in docs/spec.md"


def test_memory_components_documented() -> None:
    memory = DOCUMENTS[0]["memory"]
    for method in ("simplified", "precise"):
        for key in memory[method]:
            assert f"`{key}`" in SPEC_MD, f"memory.{method}.{key}"
