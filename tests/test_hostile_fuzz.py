"""Fuzz the command line with Hypothesis (issue 13, class 10): spec
documents built from the schema's own field names, mutations of the example
specs in specs/ and Hugging Face config.json documents. Every run exits 0, 1
or 2, never with an internal error, and the JSON holds no NaN, no Infinity
and no negative size, time or cost. Bounded (derandomized, few examples, a
deadline each) so it runs in CI in a few seconds."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {p.name: yaml.safe_load(p.read_text()) for p in (ROOT / "specs").glob("*.yaml")}
CHEAP = [
    "seed-7b.yaml",
    "llama-2-7b-finetune.yaml",
    "llama-2-13b-int4-serving.yaml",
    "llama-3.1-70b-serving-slo.yaml",
]
SETTINGS = settings(
    max_examples=50,
    deadline=3000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
QUANTITY = ("bytes", "seconds", "days", "hours", "usd", "cost", "gib", "memory", "time")

plausible = st.one_of(
    st.integers(min_value=1, max_value=4096),
    st.sampled_from([1, 2, 4, 8, 64, 0.5, 0.9, 2.5, 80, 1e12, "2T", "4k"]),
)
hostile_scalar = st.one_of(
    plausible,
    plausible,
    plausible,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            0,
            1,
            -1,
            3,
            1e308,
            1e-308,
            True,
            False,
            None,
            "",
            "yes",
            "1:30",
            "2T",
            "\u202e",
            "---",
            "\x1b[2J",
            "\ud800",
            ".inf",
            "-.nan",
            [],
            {},
        ]
    ),
    st.text(max_size=12),
)


def _check_json(node: Any, key: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _check_json(v, str(k))
    elif isinstance(node, list):
        for v in node:
            _check_json(v, key)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        assert math.isfinite(node), (key, node)
        if any(q in key.lower() for q in QUANTITY) and "over" not in key.lower():
            assert node >= 0, (key, node)


def _no_constant(name: str) -> Any:
    raise AssertionError(f"JSON holds {name}")


def _run(text: str, extra: dict[str, str] | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in (extra or {}).items():
            Path(tmp, name).write_text(content, encoding="utf-8", errors="surrogatepass")
        spec = Path(tmp, "spec.yaml")
        spec.write_text(text, encoding="utf-8", errors="surrogatepass")
        for command in ("estimate", "plan"):
            r = CliRunner().invoke(main, [command, str(spec), "-f", "json"])
            assert r.exit_code in (0, 1, 2), (command, r.exit_code, r.output, text)
            assert "internal error" not in r.output and "Traceback" not in r.output, r.output
            if r.exit_code == 0:
                _check_json(json.loads(r.stdout, parse_constant=_no_constant))
            if r.exit_code == 2:
                return


def _set(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict) and doc:
        key = list(doc)[head % len(doc)]
        return {**doc, key: _set(doc[key], rest, value)}
    if isinstance(doc, list) and doc:
        i = head % len(doc)
        return [*doc[:i], _set(doc[i], rest, value), *doc[i + 1 :]]
    return value


def _dump(doc: Any) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return json.dumps(doc)


@SETTINGS
@given(
    name=st.sampled_from(CHEAP),
    path=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=3),
    value=hostile_scalar,
)
def test_fuzz_mutated_example_specs(name: str, path: list[int], value: Any) -> None:
    _run(_dump(_set(EXAMPLES[name], path, value)))


SECTIONS = {
    "training": [
        "sequence_length",
        "micro_batch_size",
        "global_batch_size",
        "tokens",
        "trainable",
    ],
    "cluster": [
        "gpu",
        "max_gpus",
        "gpus_per_node",
        "price_per_gpu_hour",
        "mfu",
        "host_memory_per_node",
    ],
    "assumptions": ["cuda_context_gib", "goodput", "nccl_buffer_gib"],
    "parallelism": [
        "tensor_parallel",
        "pipeline_parallel",
        "data_parallel",
        "context_parallel",
        "virtual_pipeline_stages",
        "zero_stage",
    ],
    "constraints": ["max_days", "max_budget_usd"],
    "report": ["contingency", "purchase_price_per_gpu"],
}


@SETTINGS
@given(
    section=st.sampled_from(sorted(SECTIONS)),
    data=st.data(),
)
def test_fuzz_spec_documents(section: str, data: st.DataObject) -> None:
    doc: dict[str, Any] = {
        "name": "fuzz",
        "model": "llama-2-7b",
        "training": {"sequence_length": 2048, "tokens": 1e9, "global_batch_size": 8},
        "cluster": {"gpu": "a100-80gb", "max_gpus": 8},
    }
    fields = data.draw(st.lists(st.sampled_from(SECTIONS[section]), min_size=1, max_size=3))
    body = dict(doc.get(section) or {})
    for f in fields:
        body[f] = data.draw(hostile_scalar)
    doc[section] = body
    _run(_dump(doc))


HF_KEYS = [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
    "head_dim",
    "tie_word_embeddings",
    "max_position_embeddings",
    "model_type",
    "num_local_experts",
    "num_experts",
    "moe_intermediate_size",
    "decoder_sparse_step",
    "mlp_only_layers",
]


@SETTINGS
@given(
    key=st.sampled_from(HF_KEYS),
    value=hostile_scalar,
    model_type=st.sampled_from(
        ["llama", "mistral", "qwen2", "gpt2", "mixtral", "qwen3", "qwen3_moe", "unknown"]
    ),
)
def test_fuzz_hf_configs(key: str, value: Any, model_type: str) -> None:
    cfg: dict[str, Any] = {
        "model_type": model_type,
        "hidden_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "vocab_size": 1000,
        "n_embd": 256,
        "n_layer": 2,
        "n_head": 4,
        "n_positions": 1024,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
    }
    cfg[key] = value
    try:
        text = json.dumps(cfg)
    except (TypeError, ValueError):
        return
    spec = (
        "name: fuzz\nmodel: {hf_config: config.json}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    _run(spec, {"config.json": text})
