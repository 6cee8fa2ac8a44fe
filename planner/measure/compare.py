"""Measured against analytic: the trace next to ``planner.estimate.activations``
for the same settings, their ratio, and the CPU-vs-CUDA differences that
remain (the analytic profiles follow CUDA kernels; the trace runs CPU ones).
Plain data only, no torch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from planner.estimate.activations import ActivationInputs, Activations, activations
from planner.estimate.lora import lora_acts
from planner.estimate.states import CONVENTIONS
from planner.measure.case import MeasureCase, Trace


def analytic(case: MeasureCase, implementation: str, device: str = "cuda") -> Activations:
    """The analytic activation model for ``case`` (``device="cpu"`` counts
    what CPU kernels save, to compare like with like)."""
    x = ActivationInputs(
        arch=case.arch,
        seq=case.seq,
        micro_batch=case.micro_batch,
        act_bytes=CONVENTIONS[case.precision].activation_bytes,
        attention=case.attention,
        dropout=case.dropout,
        recompute=case.recompute,
        implementation=implementation,
        precision=case.precision,
        device=device,
        lora=lora_acts(case.arch, case.finetuning),
    )
    return activations(x)


def differences(case: MeasureCase) -> list[str]:
    """What the CPU trace sees differently from a CUDA run, for this case."""
    notes = []
    if case.dropout > 0:
        notes.append(
            "dropout masks: CPU saves the scaled noise in the activation dtype, CUDA's"
            " native_dropout a 1-byte mask (the analytic profile follows CUDA)"
        )
        if case.attention == "flash":
            notes.append(
                "SDPA with dropout runs PyTorch's math path on CPU (fp32 s x s score and"
                " probability matrices); CUDA's flash kernel keeps only its output and"
                " statistics: the measured figure overstates a CUDA run"
            )
    if case.arch.norm == "layernorm" and CONVENTIONS[case.precision].activation_bytes < 4:
        notes.append("LayerNorm mean/rstd: 16-bit on CPU, fp32 on CUDA")
    if case.recompute == "selective":
        notes.append("selective recompute has no Hugging Face equivalent: traced as none")
    ft = case.finetuning
    if ft is not None and ft.base in ("nf4", "fp4", "int8"):
        notes.append(
            f"the {ft.base} base is traced in bf16: bitsandbytes' kernels need CUDA; its"
            " MatMul4Bit saves only the packed weight, as a frozen bf16 linear saves only its"
            " weight, so the saved activations are the same (storage and dequantization are"
            " derived, docs/assumptions.md)"
        )
    if case.precision == "fp8-mixed":
        notes.append("fp8 is not traced: HF models do not use Transformer Engine; traced as bf16")
    return notes


@dataclass(frozen=True)
class Comparison:
    case: MeasureCase
    trace: Trace
    implementation: str
    estimate: Activations  # the spec's profile, CUDA kernels
    estimate_cpu: Activations  # hf-transformers profile, CPU kernels

    @property
    def measured_layer(self) -> int:
        return max(self.trace.layer_bytes(), default=0)

    @property
    def ratio(self) -> float:
        return self.trace.total / self.estimate.total if self.estimate.total else 0.0

    @property
    def ratio_cpu(self) -> float:
        return self.trace.total / self.estimate_cpu.total if self.estimate_cpu.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        c, t = self.case, self.trace
        return {
            "case": c.label,
            "model": c.arch.name,
            "micro_batch_size": c.micro_batch,
            "sequence_length": c.seq,
            "precision": c.precision,
            "attention": c.attention,
            "dropout": c.dropout,
            "recompute": c.recompute,
            "traced_recompute": c.traced_recompute,
            "trace_seconds": round(t.seconds, 3),
            "fake_tensors": t.fake,
            "measured": {
                "per_layer_bytes": self.measured_layer,
                "layers_bytes": t.layer_bytes(),
                "non_layer_bytes": t.part_bytes(),
                "total_bytes": t.total,
            },
            "estimate": {
                "implementation": self.implementation,
                "per_layer_bytes": self.estimate.per_layer_bytes,
                "non_layer_bytes": self.estimate.non_layer_bytes,
                "total_bytes": self.estimate.total,
            },
            "estimate_cpu_kernels": {
                "implementation": "hf-transformers",
                "per_layer_bytes": self.estimate_cpu.per_layer_bytes,
                "non_layer_bytes": self.estimate_cpu.non_layer_bytes,
                "total_bytes": self.estimate_cpu.total,
            },
            "ratio_measured_to_estimate": round(self.ratio, 4),
            "ratio_measured_to_cpu_estimate": round(self.ratio_cpu, 4),
            "cpu_vs_cuda_differences": differences(c),
        }


def compare(case: MeasureCase, trace: Trace, implementation: str) -> Comparison:
    cpu_case = replace(case, recompute=case.traced_recompute)
    return Comparison(
        case,
        trace,
        implementation,
        analytic(case, implementation),
        analytic(cpu_case, "hf-transformers", device="cpu"),
    )
