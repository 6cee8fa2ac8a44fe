"""planner measure --step: real CPU training steps of tiny models; the
measured peak (torch.profiler allocation events) is within 3% of planner's
prediction; bad options exit 2 with one clear line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

DATA = Path(__file__).resolve().parent / "data"
LLAMA_SPEC = str(DATA / "measure_tiny_llama.yaml")
GPT_SPEC = str(DATA / "measure_tiny_gpt.yaml")
TOLERANCE = 0.03


def _json(args: list[str]) -> dict:
    res = CliRunner().invoke(main, ["measure", *args, "--step", "-f", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_cli_fp32_llama_two_runs_and_extrapolation() -> None:
    d = _json([LLAMA_SPEC, "--layers", "1"])
    assert [r["layers"] for r in d["runs"]] == [1, 2]
    for r in d["runs"]:
        assert abs(r["memory_ratio"] - 1) < TOLERANCE, r
        assert r["measured_step_seconds"] > 0 and r["predicted_step_seconds"] is None
    full, two = d["full_model"], d["runs"][1]
    assert full["layers"] == 2
    assert full["measured_peak_bytes"] == two["measured_peak_bytes"]  # 1 + (2-1) x per layer
    per = two["measured_peak_bytes"] - d["runs"][0]["measured_peak_bytes"]
    assert full["measured_per_layer_bytes"] == per > 0
    assert d["device"] == "cpu" and d["torch"] == torch.__version__


@pytest.mark.parametrize(
    ("spec", "precision"),
    [(LLAMA_SPEC, "bf16-autocast"), (LLAMA_SPEC, "bf16-mixed"), (GPT_SPEC, "fp32")],
)
def test_step_peak_within_3_percent(spec: str, precision: str) -> None:
    from planner.measure import measure_step
    from planner.spec import load_spec

    loaded = load_spec(spec)
    assert loaded.training is not None
    t = loaded.training.model_copy(update={"precision": precision})
    c = measure_step(replace(loaded, training=t), 2, "cpu").to_dict()
    (run,) = c["runs"]
    assert run["layers"] == 2 and c["precision"] == precision
    assert abs(run["memory_ratio"] - 1) < TOLERANCE, run


def test_profiled_peak_counts_a_known_allocation() -> None:
    """The CPU method itself: a 4 MB buffer alive at the marked region's
    peak, a 2 MB one freed before it."""
    from torch.profiler import ProfilerActivity, profile, record_function

    from planner.measure.step import profiled_peak

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        a = torch.empty(1_000_000)  # 4,000,000 bytes, alive throughout
        b = torch.empty(500_000)
        del b
        with record_function("region"):
            c = torch.empty(250_000)  # +1,000,000 at the peak
            del c
        del a
    assert profiled_peak(prof, "region") == 5_000_000


def test_text_output() -> None:
    res = CliRunner().invoke(main, ["measure", LLAMA_SPEC, "--step", "--unit", "GB"])
    assert res.exit_code == 0, res.output
    assert "planner measure --step:" in res.stdout and " GB" in res.stdout
    assert "planner predicts GPU times only" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--step", "--layers", "0"], "--layers must be 1 to 2, got 0"),
        (["--step", "--layers", "3"], "--layers must be 1 to 2, got 3"),
        (["--layers", "1"], "--layers and --device go with --step"),
        (["--step", "--device", "tpu"], "'tpu' is not one of"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    res = CliRunner().invoke(main, ["measure", LLAMA_SPEC, *args])
    assert res.exit_code == 2 and message in res.output, res.output
    assert "Traceback" not in res.output


def test_cuda_without_a_gpu_exits_2() -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    res = CliRunner().invoke(main, ["measure", LLAMA_SPEC, "--step", "--device", "cuda"])
    assert res.exit_code == 2 and "torch sees no CUDA GPU" in res.output, res.output


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"optimizer": "lion"}, "runs optimizer adamw, adam, sgd, sgd-momentum"),
        ({"precision": "fp16-mixed"}, "runs precision fp32, bf16-autocast, bf16-mixed"),
        ({"gradient_precision": "fp32", "precision": "bf16-mixed"}, "gradient_precision"),
    ],
)
def test_unsupported_settings_are_refused(update: dict, message: str) -> None:
    from planner.errors import PlannerError
    from planner.measure import measure_step
    from planner.spec import load_spec

    loaded = load_spec(LLAMA_SPEC)
    assert loaded.training is not None
    spec = replace(loaded, training=loaded.training.model_copy(update=update))
    with pytest.raises(PlannerError, match=message):
        measure_step(spec, 2, "cpu")


def test_device_gpu_matches_the_catalog() -> None:
    from planner.measure.stepcompare import device_gpu
    from planner.spec import load_spec

    spec = load_spec(LLAMA_SPEC)  # cluster: h100-sxm
    gpu, mfu, source = device_gpu(spec, "NVIDIA H200", 150_000_000_000)
    assert gpu.key == "h200" and mfu == gpu.default_mfu and "catalog" in source
    gpu, mfu, source = device_gpu(spec, "NVIDIA H100 80GB HBM3", 85_000_000_000)
    assert gpu.key == "h100-sxm" and mfu == spec.cluster.mfu and source.startswith("spec")
    gpu, _, source = device_gpu(spec, "Some Future GPU", 1)
    assert gpu.key == "h100-sxm" and "no catalog GPU" in source
