"""docs/accuracy.md's GPU step section: rendered from docs/data/gpu_step.json
(current in the committed file), plainly empty until a GPU run is recorded,
and a table when the results folder of benchmarks/gpu_step.sh is merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.errors import PlannerError
from planner.measure import gpudoc

ROOT = Path(__file__).resolve().parent.parent


def _case(name: str, device: str = "cuda") -> dict:
    run = {
        "layers": 2,
        "measured_peak_bytes": 20 * 2**30,
        "predicted_bytes": 19 * 2**30,
        "memory_ratio": 1.0526,
        "measured_step_seconds": 0.5,
        "predicted_step_seconds": 0.4,
        "time_ratio": 1.25,
    }
    four = {**run, "layers": 4, "measured_peak_bytes": 30 * 2**30}
    full = {**run, "layers": 32, "measured_per_layer_bytes": 5 * 2**30}
    return {
        "mode": "step", "spec": name, "device": device, "device_name": "NVIDIA H200",
        "torch": "2.11.0", "transformers": "5.17.0", "precision": "bf16-mixed",
        "run_recompute": "none", "timed_steps": 3, "warmup_steps": 2,
        "predicted_gpu": "h200", "mfu": 0.5, "runs": [run, four], "full_model": full,
    }  # fmt: skip


def test_committed_section_is_current() -> None:
    data = json.loads((ROOT / "docs" / "data" / "gpu_step.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8")
    assert gpudoc.section(data) in doc, "regenerate with: python benchmarks/accuracy.py"


def test_no_results_says_so() -> None:
    text = gpudoc.section({"cases": []})
    assert text.startswith(gpudoc.TITLE) and "No GPU run is recorded" in text
    assert "|" not in text


def test_section_renders_merged_results(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(_case("llama-2-7b-finetune")))
    (tmp_path / "cpu.json").write_text(json.dumps(_case("cpu-run", "cpu")))
    merged = gpudoc.merge(tmp_path)
    assert [c["spec"] for c in merged["cases"]] == ["llama-2-7b-finetune"]
    text = gpudoc.section(merged)
    assert "No GPU run" not in text and "NVIDIA H200 (torch 2.11.0, transformers 5.17.0)" in text
    rows = [line for line in text.splitlines() if line.startswith("| llama")]
    assert rows == [
        "| llama-2-7b-finetune | bf16-mixed, none | 2 | 20.00 GiB | 19.00 GiB | 1.053"
        " | 0.500 s | 0.400 s | 1.250 |",
        "| llama-2-7b-finetune | bf16-mixed, none | 4 | 30.00 GiB | 19.00 GiB | 1.053"
        " | 0.500 s | 0.400 s | 1.250 |",
        "| llama-2-7b-finetune | bf16-mixed, none | all 32 | 20.00 GiB | 19.00 GiB | 1.053"
        " | 0.500 s | 0.400 s | 1.250 |",
    ]


def test_merge_of_a_folder_without_results_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PlannerError, match="not a JSON document"):
        gpudoc.merge(tmp_path)
    (tmp_path / "bad.json").unlink()
    with pytest.raises(PlannerError, match="no `planner measure --step --device cuda`"):
        gpudoc.merge(tmp_path)
