"""The trainable set: which parameter tensors get gradients and optimizer
states, and the bytes each kind of state takes.

Every model-state figure (estimate, plan, ZeRO sharding, offload, host
memory, DeepSpeed cross-check, precision table) is computed from a
``TrainableSet``, so "full training" is just the set in which every tensor
trains.

* A trainable tensor keeps its working weights (``weight_bytes``), an fp32
  master copy (``master_bytes``, mixed precision only), a gradient
  (``grad_bytes``) and optimizer states (planner.estimate.states); the ZeRO
  paper's 2 + 2 + K bytes/param (Rajbhandari et al. 2020, s3.1).
* A frozen tensor (``requires_grad=False``) keeps only its weights, at the
  precision they are stored in (the working precision): no gradient, no
  master copy, no optimizer state. DeepSpeed builds its fp32 partitions and
  gradient buffers from ``requires_grad`` parameters only
  (``deepspeed/runtime/zero/stage_1_and_2.py``: ``trainable_parameters``);
  ``torch.optim`` creates state only for parameters that receive a gradient.

A kind is one predicate on a ``ParamTensor`` in ``TRAINABLE_KINDS``; adding
one is one entry here plus its name in the spec schema
(``training.trainable``) and docs/spec.md. A model given by parameter count
has an assumed shape: the trainable share of the shaped tensors is scaled
to the stated total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planner.architecture import ParamTensor
from planner.estimate.states import ModelStates, PrecisionConvention, optimizer_state_bytes

Trains = Callable[[ParamTensor], bool]

TRAINABLE_KINDS: dict[str, Trains] = {
    # Every parameter trains (pre-training, full fine-tuning).
    "full": lambda t: True,
    # Token and position embeddings frozen (a tied LM head is the same
    # tensor, so it is frozen too); every other tensor trains.
    "freeze-embeddings": lambda t: t.kind not in ("embedding", "position"),
}


@dataclass(frozen=True)
class StageSplit:
    """Parameters by where a pipeline puts them (planner/plan/memory.py)."""

    embedding: int  # first stage
    per_layer: int  # one transformer block, all experts
    expert_per_layer: int  # the expert share of one block
    final_norm: int  # last stage
    lm_head: int  # last stage (0 when tied)
    word_embedding: int  # the tied copy Megatron keeps on the last stage


@dataclass(frozen=True)
class TrainableSet:
    kind: str
    conv: PrecisionConvention  # weight / master / gradient bytes per parameter
    tensors: tuple[ParamTensor, ...]  # every tensor of the model
    trains: tuple[bool, ...]  # one flag per tensor
    total: int  # all parameters
    trainable: int  # parameters with gradients and optimizer states

    @property
    def full(self) -> bool:
        return self.trainable == self.total and all(self.trains)

    @property
    def frozen(self) -> int:
        return self.total - self.trainable

    @property
    def trainable_tensors(self) -> tuple[ParamTensor, ...]:
        return tuple(t for t, on in zip(self.tensors, self.trains, strict=True) if on)

    @property
    def weight_bytes(self) -> int:
        return self.conv.weight_bytes

    @property
    def master_bytes(self) -> int:
        return self.conv.master_bytes

    @property
    def grad_bytes(self) -> int:
        return self.conv.grad_bytes

    def largest_trainable_tensor(self) -> int:
        """Elements of the largest single trainable tensor (0 if none)."""
        return max((t.numel // t.count for t in self.trainable_tensors), default=0)

    def _scaled(self, n: int) -> int:
        shaped = sum(t.numel for t in self.tensors)
        return round(n * self.total / shaped) if shaped and shaped != self.total else n

    def split(self, counts: StageSplit, num_layers: int, tied: bool) -> StageSplit:
        """The trainable parameters split like ``counts`` (all parameters)."""
        if self.full:
            return counts
        on = self.trainable_tensors

        def numel(keep: Trains) -> int:
            return self._scaled(sum(t.numel for t in on if keep(t)))

        emb = numel(lambda t: t.kind in ("embedding", "position"))
        head = numel(lambda t: t.kind == "lm_head")
        norm = numel(lambda t: t.name == "final_norm")
        word = numel(lambda t: t.name == "embed_tokens") if tied else 0
        return StageSplit(
            embedding=emb,
            per_layer=max(self.trainable - emb - head - norm, 0) // num_layers,
            expert_per_layer=numel(lambda t: t.expert) // num_layers,
            final_norm=norm,
            lm_head=head,
            word_embedding=word,
        )


def trainable_set(
    kind: str, conv: PrecisionConvention, tensors: tuple[ParamTensor, ...], total: int
) -> TrainableSet:
    """The set ``kind`` names, over the model's tensors (``total`` parameters)."""
    keep = TRAINABLE_KINDS[kind]
    trains = tuple(keep(t) for t in tensors)
    on = sum(t.numel for t, k in zip(tensors, trains, strict=True) if k)
    shaped = sum(t.numel for t in tensors)
    if all(trains):
        trainable = total
    elif shaped and shaped != total:  # given by count: scale the assumed shape
        trainable = round(on * total / shaped)
    else:
        trainable = on
    return TrainableSet(kind, conv, tensors, trains, total, trainable)


def model_states(ts: TrainableSet, optimizer: str) -> ModelStates:
    """Model states of the whole model (module docstring): weights for every
    parameter, master / gradients / optimizer states for the trainable ones.
    fp8-mixed adds one cached FP8 byte per linear weight, frozen or not
    (Transformer Engine casts every linear weight it runs in FP8)."""
    c = ts.conv
    weights = c.weight_bytes * ts.total
    if c.fp8_weight_copy:
        weights += sum(t.numel for t in ts.tensors if t.kind in ("linear",))
    return ModelStates(
        master_weights=c.master_bytes * ts.trainable,
        weights=weights,
        gradients=c.grad_bytes * ts.trainable,
        optimizer_states=optimizer_state_bytes(optimizer, ts.trainable_tensors, ts.trainable),
    )
