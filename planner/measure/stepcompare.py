"""``planner measure --step``: measured real training steps next to planner's
prediction for the same truncated model, and the extrapolation to all the
spec's layers. Plain data, no torch (planner/measure/step.py runs the steps).

Predicted memory = the estimate's precise memory for the model truncated to
N layers (planner/estimate/memory.py ``precise_memory``: model states +
activations + temporaries) WITHOUT its runtime-overhead items (CUDA context,
allocator fragmentation), because ``max_memory_allocated`` counts neither.
The activations use the ``hf-transformers`` profile (the model that runs),
for the recompute mode that runs (selective runs as none), counting the
saved tensors of the kernels of the device that runs (CPU or CUDA).

Predicted step time = planner's compute time for one step on one GPU
(planner/estimate/compute.py: hardware FLOPs per token x b x s / (peak x
MFU), the compute term of planner/plan/timing.py ``step_time``; one GPU has
no communication, bubble or offload terms), on the catalog GPU that matches
the device (else the spec's GPU), at the expected MFU. On CPU no time is
predicted: planner models GPUs only.

Extrapolation to L layers: measured(L) = measured(N) + (L - N) x per layer,
per layer = (measured(N2) - measured(N)) / (N2 - N) from a second run with
N2 = min(2N, L) layers; with N = L nothing is extrapolated.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import Any

from planner.catalog import Gpu, MfuDefaults, gpu_catalog
from planner.errors import PlannerError
from planner.estimate.activations import ActivationInputs
from planner.estimate.compute import training_flops
from planner.estimate.memory import precise_memory
from planner.estimate.params import count_parameters
from planner.estimate.states import convention
from planner.estimate.trainable import training_set
from planner.measure.case import MeasureCase
from planner.spec.model import Spec

PRECISIONS = ("fp32", "bf16-autocast", "bf16-mixed")
OPTIMIZERS = ("adamw", "adam", "sgd", "sgd-momentum")
DEFAULT_LAYERS = 2
COMPARED = (
    "model states + activations + temporaries of the estimate's precise memory,"
    " without the CUDA context and allocator fragmentation"
)


@dataclass(frozen=True)
class StepRun:
    """One measured configuration: peak bytes and the timed steps."""

    layers: int
    peak_bytes: int
    step_seconds: tuple[float, ...]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.step_seconds)


@dataclass(frozen=True)
class Predicted:
    layers: int
    states_bytes: int
    activation_bytes: int
    temporary_bytes: int
    step_seconds: float | None

    @property
    def total(self) -> int:
        return self.states_bytes + self.activation_bytes + self.temporary_bytes


def check_step(spec: Spec, case: MeasureCase, layers: int) -> None:
    """Refuse what --step does not run, before torch is imported."""
    t = spec.training
    assert t is not None
    if case.precision not in PRECISIONS:
        raise PlannerError(
            f"planner measure --step runs precision {', '.join(PRECISIONS)};"
            f" the spec has {case.precision!r} (fp16 needs loss scaling, fp8 Transformer Engine)"
        )
    if (
        convention(t.precision, t.gradient_precision).grad_bytes
        != convention(t.precision, None).grad_bytes
    ):
        raise PlannerError(
            "planner measure --step keeps the precision's default gradient dtype;"
            f" remove training.gradient_precision ({t.gradient_precision})"
        )
    if t.optimizer not in OPTIMIZERS:
        raise PlannerError(
            f"planner measure --step runs optimizer {', '.join(OPTIMIZERS)};"
            f" the spec has {t.optimizer!r}"
        )
    if t.finetuning is not None:
        raise PlannerError(
            "planner measure --step does not run LoRA / QLoRA yet (the step's optimizer and"
            " gradients are those of full training); use planner measure (without --step),"
            " which traces the PEFT model's activations"
        )
    if case.arch.is_moe:
        raise PlannerError(
            "planner measure --step does not run MoE models: their memory depends on the"
            " routing of random weights; use planner measure (without --step)"
        )
    n = case.arch.num_layers
    if not 1 <= layers <= n:
        raise PlannerError(f"planner measure --step: --layers must be 1 to {n}, got {layers}")


def layer_counts(layers: int, total: int) -> tuple[int, ...]:
    """The runs: N, and N2 = min(2N, L) when N < L."""
    return (layers,) if layers >= total else (layers, min(2 * layers, total))


def truncated(case: MeasureCase, layers: int) -> MeasureCase:
    return replace(case, arch=replace(case.arch, num_layers=layers))


def device_gpu(spec: Spec, device_name: str, memory_bytes: int) -> tuple[Gpu, MfuDefaults, str]:
    """The catalog GPU for a CUDA device name: the catalog entries whose key
    family ("h200", "a100") is in the name, the one nearest in memory; the
    spec's GPU (with the spec's MFU) when it is that one or none matches."""
    cl = spec.cluster
    name = device_name.lower().replace("-", " ")
    found = [g for k, g in gpu_catalog().items() if k.split("-")[0] in name.split()]
    if not found:
        return cl.gpu, cl.mfu, "spec (no catalog GPU matches the device name)"
    best = min(found, key=lambda g: abs(g.memory_bytes - memory_bytes))
    if best.key == cl.gpu.key:
        return cl.gpu, cl.mfu, "spec (matches the device)"
    return best, best.default_mfu, "catalog entry matching the device name"


def predict(
    spec: Spec, case: MeasureCase, device: str, gpu: Gpu | None, mfu: float | None
) -> Predicted:
    """planner's figures for ``case`` (already truncated) on ``device``."""
    t = spec.training
    assert t is not None
    arch = case.arch
    conv = convention(t.precision, t.gradient_precision)
    counts = count_parameters(arch)
    x = ActivationInputs(
        arch=arch,
        seq=case.seq,
        micro_batch=case.micro_batch,
        act_bytes=conv.activation_bytes,
        attention=case.attention,
        dropout=case.dropout,
        recompute=case.traced_recompute,
        implementation="hf-transformers",
        precision=case.precision,
        device=device,
    )
    ts = training_set(t, conv, counts.tensors, counts.total, arch)
    mem = precise_memory(x, ts, t.optimizer, spec.assumptions)
    seconds = None
    if gpu is not None and mfu is not None:
        flops = training_flops(arch, counts, case.seq, case.traced_recompute)
        hw = flops.hardware_per_token * case.seq * case.micro_batch
        # one GPU, compute only: hardware FLOPs / (dense peak x MFU) (planner/plan/timing.py)
        seconds = hw / (gpu.compute_peak(conv.compute_dtype) * mfu)
    return Predicted(
        arch.num_layers, mem.states.total, mem.activations.total, mem.temporary, seconds
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


@dataclass(frozen=True)
class StepComparison:
    spec_name: str
    case: MeasureCase  # the full (untruncated) case
    optimizer: str
    device: str
    device_name: str
    versions: dict[str, str]
    runs: tuple[StepRun, ...]
    predicted: tuple[Predicted, ...]  # one per run
    predicted_full: Predicted
    gpu_key: str | None
    gpu_source: str
    mfu: float | None
    warmup_steps: int
    memory_method: str
    implementation: str  # the spec's (the prediction uses hf-transformers)

    def _extrapolate(self, values: list[float]) -> tuple[float, float | None]:
        """(value at all layers, per layer) from the runs' values."""
        n_all = self.case.arch.num_layers
        if len(self.runs) == 1:
            return values[0], None
        (n1, n2), (v1, v2) = (r.layers for r in self.runs), values
        per = (v2 - v1) / (n2 - n1)
        return v1 + (n_all - n1) * per, per

    def to_dict(self) -> dict[str, Any]:
        c, full = self.case, self.predicted_full
        rows = []
        for r, p in zip(self.runs, self.predicted, strict=True):
            rows.append(
                {
                    "layers": r.layers,
                    "measured_peak_bytes": r.peak_bytes,
                    "predicted_bytes": p.total,
                    "memory_ratio": _ratio(r.peak_bytes, p.total),
                    "predicted_detail": {
                        "model_states": p.states_bytes,
                        "activations": p.activation_bytes,
                        "temporary": p.temporary_bytes,
                    },
                    "measured_step_seconds": round(r.median_seconds, 6),
                    "timed_step_seconds": [round(s, 6) for s in r.step_seconds],
                    "predicted_step_seconds": p.step_seconds,
                    "time_ratio": _ratio(r.median_seconds, p.step_seconds),
                }
            )
        peak, per_peak = self._extrapolate([float(r.peak_bytes) for r in self.runs])
        sec, per_sec = self._extrapolate([r.median_seconds for r in self.runs])
        per_pred = (self.predicted[-1].total - self.predicted[0].total) / max(
            self.predicted[-1].layers - self.predicted[0].layers, 1
        )
        return {
            "mode": "step",
            "spec": self.spec_name,
            "case": c.label,
            "model": c.arch.name,
            "optimizer": self.optimizer,
            "precision": c.precision,
            "attention": c.attention,
            "recompute": c.recompute,
            "run_recompute": c.traced_recompute,
            "micro_batch_size": c.micro_batch,
            "sequence_length": c.seq,
            "device": self.device,
            "device_name": self.device_name,
            "torch": self.versions["torch"],
            "transformers": self.versions["transformers"],
            "memory_method": self.memory_method,
            "compared": COMPARED,
            "activation_profile": "hf-transformers",
            "spec_implementation": self.implementation,
            "warmup_steps": self.warmup_steps,
            "timed_steps": len(self.runs[0].step_seconds),
            "predicted_gpu": self.gpu_key,
            "predicted_gpu_source": self.gpu_source,
            "mfu": self.mfu,
            "runs": rows,
            "full_model": {
                "layers": c.arch.num_layers,
                "extrapolated_from_layers": [r.layers for r in self.runs],
                "measured_peak_bytes": round(peak),
                "predicted_bytes": full.total,
                "memory_ratio": _ratio(peak, full.total),
                "measured_per_layer_bytes": None if per_peak is None else round(per_peak),
                "predicted_per_layer_bytes": round(per_pred) if len(self.runs) > 1 else None,
                "measured_step_seconds": round(sec, 6),
                "predicted_step_seconds": full.step_seconds,
                "time_ratio": _ratio(sec, full.step_seconds),
                "measured_per_layer_step_seconds": None if per_sec is None else round(per_sec, 6),
            },
        }
