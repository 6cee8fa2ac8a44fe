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

INSTALL_HINT = (
    "planner measure needs the optional extra: pip install 'planner[measure]'"
    " (torch and transformers; for a CPU-only torch: pip install torch"
    " --index-url https://download.pytorch.org/whl/cpu)"
)

__all__ = ["MeasureCase", "SavedRecord", "Trace", "case_from_spec", "measure", "require_extra"]


def require_extra() -> None:
    """Raise ``PlannerError`` (exit 2 in the CLI) when torch or transformers
    is missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise PlannerError(f"{INSTALL_HINT} ({exc})") from None


def measure(case: MeasureCase, implementation: str = "hf-transformers") -> Comparison:
    """Trace ``case`` under fake tensors and compare with the analytic model."""
    require_extra()
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
