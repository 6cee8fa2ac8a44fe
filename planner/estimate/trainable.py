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

Fine-tuning adds to this (``training_set``): ``freeze_layers`` freezes the
first N transformer blocks (each per-layer tensor group split N : L - N);
``finetuning`` (LoRA / QLoRA, planner/estimate/lora.py) freezes the whole
base, stores it at ``base_precision`` and adds the adapter tensors (and the
trainable copies of ``trainable_extra``), which alone train.

A kind is one predicate on a ``ParamTensor`` in ``TRAINABLE_KINDS``; adding
one is one entry here plus its name in the spec schema
(``training.trainable``) and docs/spec.md. A model given by parameter count
has an assumed shape: the trainable share of the shaped tensors is scaled
to the stated total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.architecture import Architecture, ParamTensor
from planner.estimate.lora import QUANTIZED_KINDS, Adapters, adapters_for, base_tensor_bytes
from planner.estimate.states import ModelStates, PrecisionConvention, optimizer_state_bytes

if TYPE_CHECKING:
    from planner.spec.schema import TrainingSection

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
    total: int  # all parameters (adapters and trainable copies included)
    trainable: int  # parameters with gradients and optimizer states
    adapters: Adapters | None = None  # LoRA / QLoRA (planner/estimate/lora.py)

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

    def with_additions(self, counts: StageSplit, num_layers: int) -> StageSplit:
        """All parameters split like ``counts`` (the base model's), with the
        adapters (in the layers) and trainable copies added."""
        if self.adapters is None:
            return counts
        add = self.adapters.adapters + self.adapters.extra
        emb = sum(t.numel for t in add if t.kind in ("embedding", "position"))
        head = sum(t.numel for t in add if t.kind == "lm_head")
        layer = sum(t.numel for t in add) - emb - head
        return StageSplit(
            embedding=counts.embedding + emb,
            per_layer=counts.per_layer + layer // num_layers,
            expert_per_layer=counts.expert_per_layer,
            final_norm=counts.final_norm,
            lm_head=counts.lm_head + head,
            word_embedding=counts.word_embedding,
        )

    def checkpoint_weight_bytes(self, weights: int) -> int:
        """Weights a training checkpoint writes, of ``weights`` held: all of
        them, except under LoRA / QLoRA, where only the trainable ones (the
        adapters and trainable copies) are saved and the frozen base stays
        the base model's files (PEFT ``save_pretrained`` writes the adapter
        state dict only; peft/utils/save_and_load.py
        ``get_peft_model_state_dict``)."""
        if self.adapters is None:
            return weights
        return self.conv.weight_bytes * self.trainable

    def weight_storage_bytes(self) -> int:
        """Bytes of all weights: trainable ones at the working precision,
        the frozen LoRA / QLoRA base at ``base_precision`` (lora.py), other
        frozen ones at the working precision."""
        c = self.conv
        if self.adapters is None:
            return c.weight_bytes * self.total
        ad = self.adapters
        frozen = sum(
            base_tensor_bytes(t, ad.base, ad.double_quant)
            for t, on in zip(self.tensors, self.trains, strict=True)
            if not on
        )
        return frozen + c.weight_bytes * self.trainable

    def dequantize_pass_bytes(self) -> int:
        """QLoRA / int8: HBM bytes one pass over the base's quantized weights
        moves when each is dequantized for its matmul: the stored weight
        read and its 16-bit copy written (0 for a 16-bit base)."""
        ad = self.adapters
        if ad is None or not ad.quantized:
            return 0
        return sum(
            base_tensor_bytes(t, ad.base, ad.double_quant) + 2 * t.numel
            for t, on in zip(self.tensors, self.trains, strict=True)
            if not on and t.kind in QUANTIZED_KINDS
        )


def _split_layers(tensors: tuple[ParamTensor, ...], frozen: int, layers: int) -> list[ParamTensor]:
    """Each per-layer tensor group split into the first ``frozen`` blocks'
    share and the rest. ASSUMPTION: a group whose count is not a multiple of
    the layers (a family whose blocks differ) is split in proportion."""
    out: list[ParamTensor] = []
    for t in tensors:
        per_layer = t.kind not in ("embedding", "position", "lm_head", "encoder")
        if not per_layer or t.name == "final_norm" or t.count < layers:
            out.append(t)
            continue
        off = round(t.count * frozen / layers)
        out.append(ParamTensor(f"frozen.{t.name}", t.shape, t.kind, off, t.expert))
        out.append(ParamTensor(t.name, t.shape, t.kind, t.count - off, t.expert))
    return [t for t in out if t.count > 0]


def training_set(
    t: TrainingSection,
    conv: PrecisionConvention,
    tensors: tuple[ParamTensor, ...],
    total: int,
    arch: Architecture,
) -> TrainableSet:
    """The trainable set a training section describes (module docstring)."""
    if t.finetuning is not None:
        ad = adapters_for(arch, t.finetuning)
        added = ad.adapters + ad.extra
        every = tensors + added
        trains = tuple(False for _ in tensors) + tuple(True for _ in added)
        n = sum(x.numel for x in added)
        return TrainableSet("lora", conv, every, trains, total + n, n, ad)
    if t.freeze_layers:
        split = tuple(_split_layers(tensors, t.freeze_layers, arch.num_layers))
        keep = TRAINABLE_KINDS[t.trainable]
        trains = tuple(keep(x) and not x.name.startswith("frozen.") for x in split)
        on = sum(x.numel for x, k in zip(split, trains, strict=True) if k)
        shaped = sum(x.numel for x in split)
        trainable = round(on * total / shaped) if shaped and shaped != total else on
        kind = f"{t.trainable}+freeze_layers={t.freeze_layers}"
        return TrainableSet(kind, conv, split, trains, total, trainable)
    return trainable_set(t.trainable, conv, tensors, total)


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
    weights = ts.weight_storage_bytes()
    if c.fp8_weight_copy:
        weights += sum(t.numel for t in ts.tensors if t.kind in ("linear",))
    return ModelStates(
        master_weights=c.master_bytes * ts.trainable,
        weights=weights,
        gradients=c.grad_bytes * ts.trainable,
        optimizer_states=optimizer_state_bytes(
            optimizer, ts.trainable_tensors, ts.trainable, c.state_bytes
        ),
    )
