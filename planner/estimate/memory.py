"""Training memory for one model replica: the seed's simplified method and
the precise method, per component, in bytes (integers).

Simplified (the seed's method 1): 16-bit weights (2P), 16-bit gradients
(2P), two 16-bit Adam states (4P), and the seed's activation formula
b*s*h*2 bytes per layer. It leaves out the fp32 master copy, stores Adam's
moments in 16 bits, and keeps one hidden state per layer.

Precise: every buffer that coexists at the peak of a training step:
master weights, working weights, gradients, optimizer states (states.py),
activations per layer and outside the layers (activations.py), temporaries
and runtime overheads (documented assumptions):

* temporary = the returned 16-bit logits (s*b*V) plus the larger of the fp32
  gradient of the logits at the start of backward (4*s*b*V, plus its cast
  back to 16 bits when the logits are 16-bit) and, under full
  recompute, one layer's recomputed activations, plus under QLoRA one
  dequantized base weight (below);
* QLoRA: bitsandbytes dequantizes a 4-bit weight to the compute dtype for
  each matmul, in forward and again in backward for the activation
  gradient (bitsandbytes/autograd/_functions.py ``MatMul4Bit``:
  ``F.dequantize_4bit(B, quant_state).to(A.dtype).t()``), and frees it
  after: one 16-bit copy of the largest base weight at a time (int8:
  ``MatMul8bitLt`` dequantizes likewise for the backward);
* runtime overhead = CUDA context (``assumptions.cuda_context_gib``,
  default 1 GiB: PyTorch + cuBLAS/cuDNN handles; gpus.yaml notes 650 MB to
  1000 MiB in public calculators) plus allocator fragmentation
  (``assumptions.allocator_fragmentation``, default 5% of allocated bytes;
  PyTorch caching-allocator rounding and split blocks).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture
from planner.catalog import gib_to_bytes
from planner.estimate.activations import (
    ActivationInputs,
    Activations,
    activations,
    seed_activation_bytes,
)
from planner.estimate.lora import lora_acts
from planner.estimate.states import ModelStates, PrecisionConvention
from planner.estimate.trainable import TrainableSet, model_states
from planner.spec.schema import AssumptionsSection, TrainingSection


@dataclass(frozen=True)
class SimplifiedMemory:
    weights: int
    gradients: int
    optimizer_states: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_states + self.activations


def simplified_memory(params: int, b: int, s: int, h: int, layers: int) -> SimplifiedMemory:
    """The seed's method 1 (shared/SEED.md)."""
    return SimplifiedMemory(
        weights=2 * params,
        gradients=2 * params,
        optimizer_states=2 * 2 * params,
        activations=seed_activation_bytes(b, s, h, layers),
    )


@dataclass(frozen=True)
class Item:
    name: str
    bytes: int
    why: str


@dataclass(frozen=True)
class PreciseMemory:
    states: ModelStates
    activations: Activations
    temporary_items: tuple[Item, ...]
    overhead_items: tuple[Item, ...]

    @property
    def temporary(self) -> int:
        return sum(i.bytes for i in self.temporary_items)

    @property
    def runtime_overhead(self) -> int:
        return sum(i.bytes for i in self.overhead_items)

    @property
    def total(self) -> int:
        return self.states.total + self.activations.total + self.temporary + self.runtime_overhead


def loss_gradient_bytes(sbv: int, act_bytes: int) -> int:
    """Bytes of the logits' gradients at the start of backward. The loss
    upcasts the logits (HF loss/loss_utils.py ``ForCausalLMLoss``:
    ``logits.float()``; Megatron-LM ``compute_language_model_loss``:
    ``vocab_parallel_cross_entropy(logits.float(), ...)``), so their gradient
    is fp32 (4 s*b*V); with 16-bit logits the backward of ``.float()`` casts
    it back to a second s*b*V x activation-bytes buffer while the fp32 one is
    alive. Measured by ``planner measure --step`` on the CPU: bf16 runs peak
    2 s*b*V above an estimate without the cast (docs/accuracy.md)."""
    return sbv * (4 + (act_bytes if act_bytes < 4 else 0))


def dequantized_weight_bytes(trainable: TrainableSet) -> int:
    """QLoRA: one base weight dequantized to 16 bits (module docstring)."""
    ad = trainable.adapters
    return 2 * ad.largest_quantized_weight(trainable.tensors) if ad is not None else 0


def temporary_items(
    x: ActivationInputs, acts: Activations, dequantized: int = 0
) -> tuple[Item, ...]:
    sbv = x.tokens * x.arch.vocab_size
    logits = Item("logits", sbv * x.act_bytes, "returned logits, alive until the loss is done")
    loss_grad = Item(
        "loss_gradient",
        loss_gradient_bytes(sbv, x.act_bytes),
        "fp32 gradient of the logits at backward start (and its 16-bit cast)",
    )
    rec = Item(
        "recompute_working_set",
        acts.recompute_working_set + dequantized,
        "one layer's activations rematerialised during backward"
        + (" and one dequantized base weight (QLoRA)" if dequantized else ""),
    )
    peak = max((loss_grad, rec), key=lambda i: i.bytes)
    return (logits, peak)


def overhead_items(allocated: int, a: AssumptionsSection) -> tuple[Item, ...]:
    return (
        Item("cuda_context", gib_to_bytes(a.cuda_context_gib), "CUDA context and library handles"),
        Item(
            "allocator_fragmentation",
            round(allocated * a.allocator_fragmentation),
            f"{a.allocator_fragmentation:.0%} of allocated bytes (caching allocator)",
        ),
    )


def activation_inputs(
    arch: Architecture,
    t: TrainingSection,
    conv: PrecisionConvention,
    micro_batch: int | None = None,
    recompute: str | None = None,
) -> ActivationInputs:
    """The activation model's inputs for a training section (the plan may
    change the micro-batch and the recompute mode)."""
    return ActivationInputs(
        arch=arch,
        seq=t.sequence_length,
        micro_batch=micro_batch or t.micro_batch_size,
        act_bytes=conv.activation_bytes,
        attention=t.attention,
        dropout=t.dropout,
        recompute=recompute or t.recompute,
        implementation=t.implementation,
        precision=conv.name,
        lora=lora_acts(arch, t.finetuning),
    )


def precise_memory(
    x: ActivationInputs,
    trainable: TrainableSet,
    optimizer: str,
    assumptions: AssumptionsSection,
) -> PreciseMemory:
    states = model_states(trainable, optimizer)
    acts = activations(x)
    temps = temporary_items(x, acts, dequantized_weight_bytes(trainable))
    allocated = states.total + acts.total + sum(i.bytes for i in temps)
    return PreciseMemory(states, acts, temps, overhead_items(allocated, assumptions))
