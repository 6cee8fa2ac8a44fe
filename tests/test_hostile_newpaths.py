"""Issue 13's rules on the code paths added after it was first built: every
number of the schema bounded (so a new field cannot slip past the limits),
`cluster.host_memory_per_node`, `planner measure` (trace and --step),
config.json through the model families, a frozen trainable set. Each case:
exit 2 naming the field (or option), no traceback, quickly."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from planner.cli import main
from planner.spec.limits import MODEL_LIMITS, SPEC_LIMITS
from planner.spec.schema import SpecFile

BASE = "name: h\nmodel: llama-2-7b\ntraining: {sequence_length: 4096, tokens: 1e9}\n"


def _metadata(ann: Any) -> list[Any]:
    out = list(getattr(ann, "__metadata__", ()))
    for m in list(out):
        out += list(getattr(m, "metadata", ()))
    for a in getattr(ann, "__args__", ()) or ():
        out += _metadata(a)
    return out


def _models(ann: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return [m for a in getattr(ann, "__args__", ()) or () for m in _models(a)]


def _numeric_fields(cls: type[BaseModel], prefix: str, seen: set[type]) -> list[tuple[str, Any]]:
    out = []
    for name, f in cls.model_fields.items():
        path = f"{prefix}{name}"
        subs = _models(f.annotation)
        if subs:
            sep = "[]." if name == "gpu" else "."
            for s in subs:
                if s not in seen:
                    seen.add(s)
                    out += _numeric_fields(s, path + sep, seen)
            continue
        text = str(f.annotation)
        if ("int" in text or "float" in text) and "Literal" not in text:
            out.append((path, [*f.metadata, *_metadata(f.annotation)]))
    return out


def test_every_number_in_the_schema_has_an_upper_bound() -> None:
    # A field main adds later (host_memory_per_node was one) must be bounded
    # in the schema (le/lt) or listed in SPEC_LIMITS, or an absurd value
    # reaches the estimate.
    fields = _numeric_fields(SpecFile, "", set())
    assert len(fields) > 50
    missing = [
        path
        for path, meta in fields
        if path not in SPEC_LIMITS
        and not any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in meta)
    ]
    assert missing == []


def test_schema_model_bounds_are_the_limits_table() -> None:
    # One source of truth: the pydantic maxima of the model fields (what
    # `planner schema` shows) are MODEL_LIMITS'.
    props = SpecFile.model_json_schema()["$defs"]["ModelSection"]["properties"]
    for key, (lo, hi) in MODEL_LIMITS.items():
        if key == "published_parameters_rounded":  # a float, checked by range_problems
            continue
        (branch,) = [b for b in props[key]["anyOf"] if b.get("type") == "integer"]
        # pydantic writes a Field() after a BeforeValidator as ge/le keys
        bounds = (branch.get("minimum", branch.get("ge")), branch.get("maximum", branch.get("le")))
        assert bounds == (lo, hi), key


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("1e300", "must be at most 1,048,576"),  # was OverflowError (float -> int bytes)
        ("0", "greater than 0"),
        (".inf", "finite"),
        ("true", "must be a number, not true"),
    ],
)
def test_host_memory_per_node_is_bounded(tmp_path: Path, value: str, phrase: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(BASE + f"cluster: {{gpu: a100-80gb, host_memory_per_node: {value}}}\n")
    for command in ("validate", "plan", "estimate"):
        r = CliRunner().invoke(main, [command, str(spec)])
        assert r.exit_code == 2, (command, r.output)
        assert "s.yaml:4: cluster.host_memory_per_node: " in r.output and phrase in r.output
        assert "internal error" not in r.output and "Traceback" not in r.output


def test_measure_trace_refuses_a_model_too_deep_to_trace_quickly(tmp_path: Path) -> None:
    # 4,096 layers (within the model limits) traced for over 60 s on 2 cores.
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 4096}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["measure", str(spec)])
    assert time.perf_counter() - t0 < 5
    assert r.exit_code == 2 and "at most 256 layers" in r.output and "4,096" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("layers", ["-1", "0", str(10**30)])
def test_measure_step_layers_out_of_range(tmp_path: Path, layers: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(BASE + "cluster: {gpu: a100-80gb}\n")
    r = CliRunner().invoke(main, ["measure", str(spec), "--step", "--layers", layers])
    assert r.exit_code == 2 and f"--layers must be 1 to 32, got {layers}" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        ("moe_intermediate_size", -1, "`moe_intermediate_size` must be >= 1; got -1"),
        ("num_experts", "8", "`num_experts` must be a number, not str"),
        ("num_experts_per_tok", 1e400, "`num_experts_per_tok` must be a finite number"),
        ("decoder_sparse_step", 0, "`decoder_sparse_step` must be >= 1; got 0"),
        ("head_dim", 0, "`head_dim` must be >= 1; got 0"),
        ("num_attention_heads", 10**6, "`num_attention_heads` must be at most 16,384"),
    ],
)
def test_hf_config_through_the_moe_family(
    tmp_path: Path, key: str, value: object, phrase: str
) -> None:
    # qwen3_moe is read by planner/families/moe.py (MoE family, strict).
    cfg = {
        "model_type": "qwen3_moe",
        "hidden_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "vocab_size": 1000,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        key: value,
    }
    (tmp_path / "config.json").write_text(json.dumps(cfg).replace("Infinity", "1e999"))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: h\nmodel: {hf_config: config.json}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    for command in ("validate", "plan"):
        r = CliRunner().invoke(main, [command, str(spec)])
        assert r.exit_code == 2, r.output
        assert "model.hf_config" in r.output and phrase in r.output, r.output


def test_frozen_embeddings_with_hostile_text_and_offload(tmp_path: Path) -> None:
    # training.trainable and host RAM (main) with spec text that must stay
    # text: the JSON holds no NaN/Infinity and the terminal no raw escape.
    spec = tmp_path / "s.yaml"
    spec.write_text(
        'name: h\ntitle: "\\e[2J evil \\u202e"\nmodel: llama-2-7b\n'
        "training: {sequence_length: 4096, tokens: 1e9, trainable: freeze-embeddings}\n"
        "cluster: {gpu: a100-40gb, host_memory_per_node: 0.001}\n"
    )
    for command in ("estimate", "plan"):
        r = CliRunner().invoke(main, [command, str(spec)])
        assert r.exit_code in (0, 1), r.output
        assert "\x1b" not in r.output and "\u202e" not in r.output
        j = CliRunner().invoke(main, [command, str(spec), "-f", "json"])
        json.loads(j.stdout, parse_constant=lambda c: pytest.fail(f"JSON holds {c}"))
