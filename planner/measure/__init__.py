"""``planner measure``: trace the real Hugging Face model of a spec under
PyTorch's fake tensors and count what one training forward pass saves for
backward, next to the analytic estimate.

Needs the optional extra (``pip install planner[measure]``: torch and
transformers). Only this package imports torch, and only when a trace runs;
``import planner.measure`` itself works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.errors import PlannerError
from planner.measure.case import MeasureCase, SavedRecord, Trace, case_from_spec

if TYPE_CHECKING:
    from planner.measure.compare import Comparison
    from planner.measure.stepcompare import StepComparison
    from planner.spec.model import Spec

INSTALL_HINT = (
    "planner measure needs the optional extra: pip install 'planner[measure]'"
    " (torch and transformers; for a CPU-only torch: pip install torch"
    " --index-url https://download.pytorch.org/whl/cpu)"
)

__all__ = [
    "MeasureCase",
    "SavedRecord",
    "Trace",
    "case_from_spec",
    "measure",
    "measure_step",
    "require_extra",
]


def require_extra() -> None:
    """Raise ``PlannerError`` (exit 2 in the CLI) when torch or transformers
    is missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise PlannerError(f"{INSTALL_HINT} ({exc})") from None


def require_peft() -> None:
    """LoRA / QLoRA specs trace a PEFT model: the measure extra has peft."""
    try:
        import peft  # noqa: F401
    except ImportError as exc:
        raise PlannerError(f"{INSTALL_HINT} ({exc})") from None


# The trace runs every layer's forward under fake tensors: about 17 ms a
# layer on a 2-core CPU after ~5 s of import and set-up (256 layers: 9 s,
# 4,096 layers: over 60 s; issue 13 bounds a command at about 10 s). 256 is
# twice the deepest published model (Llama-3.1-405B: 126 layers).
MAX_TRACE_LAYERS = 256


def measure(case: MeasureCase, implementation: str = "hf-transformers") -> Comparison:
    """Trace ``case`` under fake tensors and compare with the analytic model."""
    if case.arch.num_layers > MAX_TRACE_LAYERS:
        raise PlannerError(
            f"planner measure traces at most {MAX_TRACE_LAYERS} layers; the spec's model has"
            f" {case.arch.num_layers:,} (set model.num_layers lower: the per-layer figures"
            " do not depend on the layer count)"
        )
    require_extra()
    if case.finetuning is not None:
        require_peft()
    from planner.measure.compare import compare
    from planner.measure.trace import trace

    if case.arch.is_moe and case.precision in ("fp32", "bf16-autocast"):
        raise PlannerError(
            "planner measure: transformers' grouped_mm experts need 16-bit weights on CPU;"
            " measure this MoE model with bf16-mixed"
        )
    return compare(case, trace(case), implementation)


def versions() -> dict[str, str]:
    """torch and transformers versions (for reports)."""
    require_extra()
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def measure_step(spec: Spec, layers: int, device: str) -> StepComparison:
    """Run real training steps of the spec's model truncated to ``layers``
    (and to min(2 x layers, L)) on ``device``; compare with the prediction
    (planner/measure/stepcompare.py, planner/measure/step.py)."""
    from planner.measure import stepcompare as sc

    if device not in ("cpu", "cuda"):
        raise PlannerError(f"planner measure --step: --device is cpu or cuda, not {device!r}")
    case = case_from_spec(spec)
    sc.check_step(spec, case, layers)
    require_extra()
    from planner.measure import step

    name = step.check_device(device)
    gpu = mfu = None
    gpu_source = "none: planner predicts GPU step times only"
    if device == "cuda":
        gpu, mfus, gpu_source = sc.device_gpu(spec, name, step.cuda_memory_bytes())
        mfu = mfus.expected
    cases = [sc.truncated(case, n) for n in sc.layer_counts(layers, case.arch.num_layers)]
    predicted = [sc.predict(spec, c, device, gpu, mfu) for c in cases]
    step.check_room(device, predicted[-1].total)
    assert spec.training is not None
    runs = [step.run_steps(c, spec.training.optimizer, device) for c in cases]
    return sc.StepComparison(
        spec_name=spec.name,
        case=case,
        optimizer=spec.training.optimizer,
        device=device,
        device_name=name,
        versions=versions(),
        runs=tuple(runs),
        predicted=tuple(predicted),
        predicted_full=sc.predict(spec, case, device, gpu, mfu),
        gpu_key=gpu.key if gpu else None,
        gpu_source=gpu_source,
        mfu=mfu,
        warmup_steps=step.WARMUP_STEPS[device],
        memory_method=step.MEMORY_METHOD[device],
        implementation=spec.training.implementation,
    )
