"""Serving plans for inference specs (planner.plan.serving), against hand
calculations from the formulas in the module docstring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.plan.serving import make_serving_plan, serving_to_dict
from planner.spec import load_spec_text

GIB = 2**30


def _spec(gpu: str = "h100-sxm", precision: str = "fp16", batch: int = 16) -> str:
    return f"""
name: serve
model: llama-2-70b
inference: {{batch_size: {batch}, prompt_tokens: 3072, generated_tokens: 1024,
             weight_precision: {precision}, kv_cache_precision: fp16}}
cluster: {{gpu: {gpu}, price_per_gpu_hour: 2.5}}
"""


def test_llama2_70b_fp16_needs_four_h100() -> None:
    plan = make_serving_plan(load_spec_text(_spec()))
    best = plan.best
    # 16-bit weights: 2 x 68,976,648,192 bytes (published count).
    weights = 2 * 68_976_648_192
    # KV cache: 2 x 80 layers x 8 kv heads x 128 x 2 bytes = 327,680 B/token (GQA).
    kv = 327_680 * 16 * (3072 + 1024)
    assert plan.memory.weights == weights
    assert plan.memory.kv_cache == kv
    usable = 81559 * 2**20 - GIB  # H100 driver-reported memory minus CUDA context
    assert best.usable == usable
    # t = 2 leaves more than the usable memory per GPU: weights alone 69 GB each.
    half = (weights + kv + plan.memory.activations) / 2 * 1.05
    assert half > usable
    assert best.tensor_parallel == 4
    assert best.memory.weights == weights // 4
    assert best.memory.total <= usable


def test_decode_step_is_bandwidth_bound_by_hand() -> None:
    plan = make_serving_plan(load_spec_text(_spec()))
    o = plan.best
    weights = 2 * 68_976_648_192
    mean_ctx = 3072 + 1024 / 2
    kv_read = 327_680 * mean_ctx * 16
    memory_time = (weights + kv_read) / 4 / (3350e9 * 0.7)  # H100 3.35 TB/s at 70%
    # two all-reduces per layer of 16 x 8192 x 2 bytes, at least 10 us each
    ring = 2 * 3 / 4 * 16 * 8192 * 2 / (450e9 * 0.7)
    allreduce = 2 * 80 * max(ring, 10e-6)
    assert o.decode_step_seconds == pytest.approx(memory_time + allreduce, rel=1e-9)
    assert o.tokens_per_second == pytest.approx(16 * 1024 / o.request_seconds)
    assert o.usd_per_hour == pytest.approx(4 * 2.5)
    per_million = 10.0 / (o.tokens_per_second * 3600) * 1e6
    assert o.usd_per_million_tokens == pytest.approx(per_million)


def test_int4_fits_in_fewer_gpus_than_fp16() -> None:
    fp16 = make_serving_plan(load_spec_text(_spec(precision="fp16"))).best
    int4 = make_serving_plan(load_spec_text(_spec(precision="int4"))).best
    assert int4.degree_checked < fp16.degree_checked
    # each GPU still streams about as many weight bytes per token (36 GB of
    # int4 on one GPU vs 34 GB of fp16 on each of four), so a replica is not
    # faster, but it costs a quarter of the GPUs: cheaper per token
    assert int4.usd_per_million_tokens < fp16.usd_per_million_tokens


def test_does_not_fit_on_one_node_of_small_gpus() -> None:
    p = make_serving_plan(load_spec_text(_spec(gpu="l4", batch=64)))
    assert not p.best.fits
    d = serving_to_dict(p)
    assert d["plan"]["fits"] is False
    assert d["cost"]["usd_per_hour"] is None


def test_best_is_cheapest_per_token_and_json_keys() -> None:
    text = _spec().replace(
        "cluster: {gpu: h100-sxm, price_per_gpu_hour: 2.5}",
        "cluster: {gpu: [{preset: a100-80gb, price_per_gpu_hour: 1.0},"
        " {preset: h100-sxm, price_per_gpu_hour: 9.0}]}",
    )
    p = make_serving_plan(load_spec_text(text))
    assert p.best.cluster.gpu.key == "a100-80gb"
    d = serving_to_dict(p)
    for key in ("gpus", "nodes", "gpu", "tensor_parallel", "fits", "usable_memory_per_gpu"):
        assert key in d["plan"]
    assert set(d["plan"]["memory_per_gpu"]) == {
        "weights", "kv_cache", "activations", "other", "total",
    }  # fmt: skip
    assert all(isinstance(v, int) for v in d["plan"]["memory_per_gpu"].values())
    assert [a["gpu"] for a in d["alternatives"]] == ["h100-sxm"]


def test_cli_plan_on_inference_spec(tmp_path: Path) -> None:
    f = tmp_path / "serve.yaml"
    f.write_text(_spec())
    r = CliRunner().invoke(main, ["plan", str(f), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["plan"]["tensor_parallel"] == 4
    r = CliRunner().invoke(main, ["plan", str(f)])
    assert r.exit_code == 0
    assert "4 x NVIDIA H100" in r.output and "GiB" in r.output
