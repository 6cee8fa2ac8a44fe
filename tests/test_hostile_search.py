"""The layout search stays bounded (issue 13, class 3) and config.json values
are validated (class 4)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.plan.search import MAX_LAYOUTS, divisors


@pytest.mark.parametrize("n", [1, 2, 12, 49, 97, 720720, 999983])
def test_divisors_match_the_definition(n: int) -> None:
    slow = [k for k in range(1, n + 1) if n % k == 0] if n < 10**6 else None
    fast = divisors(n)
    assert fast == sorted(set(fast)) and all(n % k == 0 for k in fast)
    if slow is not None:
        assert fast == slow


def test_divisors_of_a_large_number_are_fast() -> None:
    t0 = time.perf_counter()
    assert divisors(10**12)[-1] == 10**12
    assert time.perf_counter() - t0 < 1


def _plan(tmp_path: Path, text: str) -> tuple[int, str, float]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["plan", str(path), "-f", "json"])
    return r.exit_code, r.output, time.perf_counter() - t0


def test_search_past_the_cap_is_refused_quickly(tmp_path: Path) -> None:
    code, out, secs = _plan(
        tmp_path,
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 1680}\n"
        "training: {sequence_length: 4096, tokens: 1e12, global_batch_size: 5040}\n"
        "cluster: {gpu: [h100-sxm, a100-80gb, a100-40gb, h200], max_gpus: 1000000}\n",
    )
    assert code == 2 and f"more than {MAX_LAYOUTS:,} layouts" in out, out
    assert "Traceback" not in out and secs < 10


def test_duplicate_candidate_gpus_are_searched_once(tmp_path: Path) -> None:
    spec = (
        "name: h\nmodel: llama-2-7b\n"
        "training: {sequence_length: 4096, tokens: 1e10, global_batch_size: 64}\n"
        "cluster: {gpu: GPUS, max_gpus: 64}\n"
    )
    code1, one, _ = _plan(tmp_path, spec.replace("GPUS", "h100-sxm"))
    code2, many, _ = _plan(tmp_path, spec.replace("GPUS", "[h100-sxm, h100, h100-80gb]"))
    assert code1 == code2 == 0, many
    assert json.loads(one)["search"]["evaluated"] == json.loads(many)["search"]["evaluated"]


CONFIG = {
    "model_type": "llama", "hidden_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 512, "vocab_size": 1000,
}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        ("num_hidden_layers", -4, "must be >= 1; got -4"),
        ("hidden_size", [256], "must be a number, not list"),
        ("vocab_size", "1000", "must be a number, not str"),
        ("intermediate_size", float("nan"), "must be a finite number"),
        ("intermediate_size", 1e400, "must be a finite number"),
        ("num_attention_heads", True, "must be a number, not bool"),
        ("hidden_size", 256.5, "must be a whole number"),
        ("hidden_size", 10**9, "must be at most 1,048,576"),
        ("tie_word_embeddings", "yes", "must be true or false"),
        ("model_type", 3, "must be a string"),
    ],
)
def test_hf_config_values_are_validated(
    key: str, value: object, phrase: str, tmp_path: Path
) -> None:
    cfg = dict(CONFIG, **{key: value})
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: h\nmodel: {hf_config: config.json}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(spec)])
    assert r.exit_code == 2, r.output
    assert "model.hf_config" in r.output and "config.json" in r.output, r.output
    assert f"`{key}` {phrase}" in r.output, r.output


def test_valid_hf_config_still_imports(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(dict(CONFIG, hidden_size=256.0)))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: h\nmodel: {hf_config: config.json}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(spec)])
    assert r.exit_code == 0, r.output
