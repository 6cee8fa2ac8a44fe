"""Text rendering of a ``planner measure`` comparison."""

from __future__ import annotations

from typing import Any

from planner.measure.compare import Comparison
from planner.units import fmt_bytes, fmt_int


def render(c: Comparison, unit: str = "GiB") -> str:
    d = c.to_dict()
    m, e, ec = d["measured"], d["estimate"], d["estimate_cpu_kernels"]

    def b(n: int) -> str:
        return fmt_bytes(n, unit, 3)

    lines = [
        f"planner measure: {d['case']}",
        f"  traced under fake tensors in {d['trace_seconds']:.2f} s"
        f" (recompute traced as {d['traced_recompute']})",
        "",
        f"  {'':34}{'measured':>14}{'estimate':>14}{'ratio':>8}",
        f"  {'per layer':34}{b(m['per_layer_bytes']):>14}{b(e['per_layer_bytes']):>14}"
        f"{_ratio(m['per_layer_bytes'], e['per_layer_bytes']):>8}",
    ]
    for part, n in m["non_layer_bytes"].items():
        lines.append(f"  {'non-layer: ' + part:34}{b(n):>14}")
    non_layer = sum(m["non_layer_bytes"].values())
    lines += [
        f"  {'non-layer total':34}{b(non_layer):>14}{b(e['non_layer_bytes']):>14}"
        f"{_ratio(non_layer, e['non_layer_bytes']):>8}",
        f"  {'total (' + str(c.case.arch.num_layers) + ' layers)':34}{b(m['total_bytes']):>14}"
        f"{b(e['total_bytes']):>14}{_ratio(m['total_bytes'], e['total_bytes']):>8}",
        f"  {'total, exact bytes (measured)':34}{fmt_int(m['total_bytes']):>28}",
        f"  {'total, exact bytes (estimate)':34}{fmt_int(e['total_bytes']):>28}",
        "",
        f"  estimate: {e['implementation']} profile, CUDA kernels (what planner plans with)",
        f"  hf-transformers profile on CPU kernels: {b(ec['total_bytes'])}"
        f" (measured / that = {d['ratio_measured_to_cpu_estimate']:.4f})",
    ]
    notes = d["cpu_vs_cuda_differences"]
    if notes:
        lines.append("  CPU trace vs a CUDA run:")
        lines += [f"   - {n}" for n in notes]
    lines.append(
        "  Not seen by the trace: CUDA context, allocator fragmentation, NCCL buffers,"
        " kernel workspaces (documented assumptions in `planner estimate`)."
    )
    return "\n".join(lines)


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def render_step(d: dict[str, Any], unit: str = "GiB") -> str:
    """``planner measure --step``: ``d`` is ``StepComparison.to_dict()``."""

    def b(n: int | None) -> str:
        return "-" if n is None else fmt_bytes(n, unit, 3)

    def s(x: float | None) -> str:
        return "-" if x is None else f"{x:.4f} s"

    def r(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    lines = [
        f"planner measure --step: {d['case']}, {d['optimizer']}",
        f"  device: {d['device_name']} ({d['device']}); torch {d['torch']},"
        f" transformers {d['transformers']}",
        f"  peak memory: {d['memory_method']}; {d['warmup_steps']} warm-up step(s),"
        f" median of {d['timed_steps']} timed",
        f"  predicted: {d['compared']} ({d['activation_profile']} profile)",
        f"  predicted step time: {d['predicted_gpu'] or 'none'} at MFU {d['mfu']}"
        f" ({d['predicted_gpu_source']})",
        "",
        f"  {'layers':22}{'measured':>14}{'predicted':>14}{'ratio':>8}"
        f"{'measured':>12}{'predicted':>12}{'ratio':>8}",
    ]
    f = d["full_model"]
    rows = [(str(x["layers"]), x) for x in d["runs"]]
    label = f"{f['layers']} (extrapolated)" if f["measured_per_layer_bytes"] is not None else ""
    if label:
        rows.append((label, f))
    for name, x in rows:
        lines.append(
            f"  {name:22}{b(x['measured_peak_bytes']):>14}{b(x['predicted_bytes']):>14}"
            f"{r(x['memory_ratio']):>8}{s(x['measured_step_seconds']):>12}"
            f"{s(x['predicted_step_seconds']):>12}{r(x['time_ratio']):>8}"
        )
    if label:
        lines.append(
            f"  {'per layer':22}{b(f['measured_per_layer_bytes']):>14}"
            f"{b(f['predicted_per_layer_bytes']):>14}"
        )
    exact = ", ".join(fmt_int(x["measured_peak_bytes"]) for _, x in rows)
    lines.append(f"  peak bytes, exact: {exact}")
    if d["device"] == "cpu":
        lines.append("  CPU: step times are shown as measured; planner predicts GPU times only.")
    return "\n".join(lines)
