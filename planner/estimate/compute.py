"""Training FLOPs per token (time and cost: planner.plan.timing, the one
time model).

Model FLOPs per token (PaLM convention, Chowdhery et al. 2022, App. B):
forward = 2 x (weights in matmuls a token passes through, incl. the LM head)
+ 4 x layers x s x (heads x head_dim) for QK^T and attention over V (the
full s x s count, as MFU conventions use; s capped at a sliding layer's
window, each layer's kind from its family); training = 3 x forward
(backward = 2 x forward; Kaplan et al. 2020 s2.1 "C = 6N" plus attention).
Hardware FLOPs add what recomputation repeats: the attention core's forward
(selective) or a whole forward (full, "8ND"; Narayanan et al. 2021 eq. 3
counts 4 forward passes).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture
from planner.estimate.params import ParameterCounts


@dataclass(frozen=True)
class Flops:
    forward_per_token: float
    attention_forward_per_token: float
    model_per_token: float  # 3 x forward (MFU numerator)
    hardware_per_token: float  # incl. recomputation

    def total(self, tokens: float) -> float:
        return self.model_per_token * tokens

    def hardware_total(self, tokens: float) -> float:
        return self.hardware_per_token * tokens


def attention_flops_per_token(a: Architecture, seq: int) -> float:
    """QK^T and attention over V, per token, summed over layers by the
    family (each layer's kind and window; MLA's head widths)."""
    return a.family_impl.attention_flops_per_token(a, seq)


def training_flops(a: Architecture, counts: ParameterCounts, seq: int, recompute: str) -> Flops:
    attn = attention_flops_per_token(a, seq)
    fwd = 2.0 * counts.matmul_per_token + attn
    model = 3.0 * fwd
    extra = {"none": 0.0, "selective": attn, "full": fwd}[recompute]
    return Flops(fwd, attn, model, model + extra)
