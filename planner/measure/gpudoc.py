"""docs/accuracy.md's section "One real training step on a GPU", rendered
from docs/data/gpu_step.json: the ``planner measure --step --device cuda
--format json`` documents of benchmarks/gpu_step.sh, merged by
``python benchmarks/accuracy.py --gpu-results DIR``. Plain data, no torch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.units import fmt_bytes

TITLE = "## One real training step on a GPU"
HEADER = (
    "| spec | precision, recompute | layers | measured peak | predicted | ratio"
    " | measured step | predicted step | ratio |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


def merge(results_dir: Path) -> dict[str, Any]:
    """The step documents (``"mode": "step"``, run on CUDA) in a folder, by
    file name; a folder without one is an error (nothing to record)."""
    if not results_dir.is_dir():
        raise PlannerError(f"{results_dir}: not a folder")
    cases = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PlannerError(f"{path}: not a JSON document ({exc})") from None
        if isinstance(doc, dict) and doc.get("mode") == "step" and doc.get("device") == "cuda":
            cases.append(doc)
    if not cases:
        raise PlannerError(f"{results_dir}: no `planner measure --step --device cuda` JSON files")
    return {"cases": cases}


def _row(d: dict[str, Any], r: dict[str, Any], layers: str) -> str:
    def s(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f} s"

    def ratio(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    return (
        f"| {d['spec']} | {d['precision']}, {d['run_recompute']} | {layers}"
        f" | {fmt_bytes(r['measured_peak_bytes'], 'GiB', 2)}"
        f" | {fmt_bytes(r['predicted_bytes'], 'GiB', 2)} | {ratio(r['memory_ratio'])}"
        f" | {s(r['measured_step_seconds'])} | {s(r['predicted_step_seconds'])}"
        f" | {ratio(r['time_ratio'])} |"
    )


def section(data: dict[str, Any] | None) -> str:
    """The Markdown section (title included) for the recorded GPU runs."""
    cases = (data or {}).get("cases") or []
    lines = [TITLE, ""]
    if not cases:
        lines += [
            "No GPU run is recorded: docs/data/gpu_step.json holds no results yet, so",
            "this file has no measured GPU peak memory or step time. To record one, run",
            "`OUT=DIR bash benchmarks/gpu_step.sh` on a machine with one NVIDIA GPU, then",
            "`python benchmarks/accuracy.py --gpu-results DIR`.",
        ]
        return "\n".join(lines) + "\n"
    devices = sorted({f"{d['device_name']} (torch {d['torch']}, transformers"
                      f" {d['transformers']})" for d in cases})  # fmt: skip
    lines += [
        f"Measured with `planner measure --step --device cuda` on {', '.join(devices)};",
        "peak = `torch.cuda.max_memory_allocated` over the timed steps; predicted =",
        "model states + activations + temporaries (no CUDA context, no fragmentation);",
        f"step times: median of {cases[0]['timed_steps']} steps after"
        f" {cases[0]['warmup_steps']} warm-up, predicted on the catalog GPU"
        f' {cases[0]["predicted_gpu"]} at MFU {cases[0]["mfu"]}. Rows "all" extrapolate',
        "the measured runs linearly in the number of layers.",
        "",
        HEADER,
    ]
    for d in cases:
        for r in d["runs"]:
            lines.append(_row(d, r, str(r["layers"])))
        f = d["full_model"]
        if f.get("measured_per_layer_bytes") is not None:
            lines.append(_row(d, f, f"all {f['layers']}"))
    return "\n".join(lines) + "\n"
