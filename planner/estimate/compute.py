"""Training FLOPs per token (time and cost: planner.plan.timing, the one
time model).

Model FLOPs per token (PaLM convention, Chowdhery et al. 2022, App. B):
forward = 2 x (weights in matmuls a token passes through, incl. the LM head)
+ 4 x layers x s x (heads x head_dim) for QK^T and attention over V (the
full s x s count, as MFU conventions use; s capped at a sliding layer's
window, each layer's kind from its family); training = 3 x forward
(backward = 2 x forward; Kaplan et al. 2020 s2.1 "C = 6N" plus attention).
Frozen weights (LoRA / QLoRA base, frozen layers or embeddings;
planner/estimate/trainable.py) need no weight gradient: forward 2N, backward
2N for the activation gradient only (Hu et al. 2021, LoRA, s4.2: no
gradients for most parameters), so training = 2N_frozen + 2N_frozen + 6N
for the trainable matmuls (adapters 6 r (in + out) per token) + 3 x attention.
ASSUMPTION: every frozen matmul runs its activation-gradient backward; the
few before the first trainable tensor (layer 0's projections under LoRA,
frozen leading blocks with frozen embeddings) skip it, so this is an upper
bound by at most those layers' share.
Hardware FLOPs add what recomputation repeats: the attention core's forward
(selective) or a whole forward (full, "8ND"; Narayanan et al. 2021 eq. 3
counts 4 forward passes).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture
from planner.estimate.params import ParameterCounts
from planner.estimate.trainable import TrainableSet


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


def training_flops(
    a: Architecture,
    counts: ParameterCounts,
    seq: int,
    recompute: str,
    ts: TrainableSet | None = None,
) -> Flops:
    """FLOPs per token (module docstring); ``ts`` None: every weight trains."""
    attn = attention_flops_per_token(a, seq)
    trained, frozen = float(counts.matmul_per_token), 0.0
    if ts is not None and not ts.full:
        trained, frozen = matmul_split(ts, a, counts.matmul_per_token)
    fwd = 2.0 * (trained + frozen) + attn
    model = fwd + 4.0 * trained + 2.0 * frozen + 2.0 * attn  # = 3 x fwd when all train
    extra = {"none": 0.0, "selective": attn, "full": fwd}[recompute]
    return Flops(fwd, attn, model, model + extra)


def matmul_split(ts: TrainableSet, a: Architecture, total: int) -> tuple[float, float]:
    """(trainable, frozen) weights a token's matmuls pass through: linear
    weights (routed experts at top-k / E), the LM head (the tied embedding
    when tied), LoRA adapters. A module PEFT replaced by a trainable copy
    (``modules_to_save``) runs the copy only. Scaled to ``total`` (the
    base's matmul weights, plus the adapters) for a model given by count."""
    fam = a.family_impl
    share = fam.active_experts(a) / fam.experts(a)
    copied = {t.name.removeprefix("modules_to_save.") for t in ts.tensors}
    copied = {n for n in copied if f"modules_to_save.{n}" in {t.name for t in ts.tensors}}
    trained = frozen = 0.0
    for t, on in zip(ts.tensors, ts.trains, strict=True):
        base_name = t.name.removeprefix("modules_to_save.")
        head = t.kind == "lm_head" or (a.tie_word_embeddings and base_name == "embed_tokens")
        if not (head or t.kind in ("linear", "adapter")) or (not on and t.name in copied):
            continue
        n = t.numel * (share if t.expert else 1.0)
        if on:
            trained += n
        else:
            frozen += n
    shaped = trained + frozen
    adapters = sum(t.numel for t in ts.tensors if t.kind == "adapter")
    scale = (total + adapters) / shaped if shaped else 1.0
    return trained * scale, frozen * scale
