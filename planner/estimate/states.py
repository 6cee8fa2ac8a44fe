"""Model states: master weights, working weights, gradients, optimizer states.

Conventions (bytes per parameter), each with its source:

* Mixed precision (fp16-mixed, bf16-mixed) keeps 16-bit working weights, an
  fp32 master copy and, by default, 16-bit gradients: 2 + 4 + 2 = 8 bytes
  before the optimizer. With Adam (fp32 m and v, 8 bytes) that is the ZeRO
  paper's 16 bytes/param (Rajbhandari et al. 2020, "ZeRO", s3.1: 2Ψ + 2Ψ +
  KΨ with K = 12). ``gradient_precision: fp32`` keeps fp32 gradients as
  Megatron-LM does (docs/source/api-guide/dist_optimizer.md: "bf16 param,
  fp32 grads: 18 bytes/param").
* fp32: 4-byte weights and gradients, no master copy (Adam: 16 bytes).
* bf16-autocast: fp32 weights under ``torch.autocast`` (the HF Trainer's
  ``bf16=True``), so fp32 gradients and no master copy; matmuls run in bf16
  on temporary casts (PyTorch AMP docs, "Automatic Mixed Precision").
* bf16 (pure bf16): bf16 weights and gradients, no fp32 master, and the
  optimizer states in bf16 too: ``torch.optim`` creates each state with
  ``torch.zeros_like(p)`` (torch/optim/adamw.py ``_init_group``), so states
  take the parameter's dtype: Adam 2 + 2 + 4 = 8 bytes/param. 8-bit
  optimizers keep their own dtypes (bitsandbytes ``Optimizer2State``).
* fp8-mixed: Transformer Engine keeps bf16 weights with an fp32 master and
  bf16 gradients, and caches an FP8 (1-byte) copy of every linear weight
  between micro-batches (NVIDIA Transformer Engine docs, "Using FP8 with
  Transformer Engine"). ASSUMPTION: one FP8 copy (1 byte) per linear weight;
  the per-tensor scaling state (amax history) is a few KiB and ignored. The
  seed's "14 bytes/param" is not a measured figure and is not used.

Optimizer states (fp32 unless said):
adam/adamw m and v: 8 (Kingma & Ba 2015); sgd-momentum: 4; sgd: 0;
lion: one momentum, 4 (Chen et al. 2023, "Symbolic Discovery of Optimization
Algorithms", Alg. 1); adamw-8bit: uint8 m and v with one fp32 absmax per
block of 2048 values, and tensors under 4096 elements kept in 32 bits
(Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization", s2;
bitsandbytes ``min_8bit_size=4096``); adafactor: factored second moment,
one fp32 value per row and per column of each matrix, full fp32 for vectors,
no momentum (Shazeer & Stern 2018, "Adafactor", s3; HF ``Adafactor``
default ``beta1=None``).

Paged optimizers (bitsandbytes ``PagedAdamW``, ``PagedAdamW8bit``; QLoRA,
Dettmers et al. 2023 s3 "Paged Optimizers") keep the same states as
adamw / adamw-8bit in CUDA unified memory, which the driver moves to host
RAM only when the GPU runs out; planner counts them on the GPU (the plan
must fit without relying on paging), so their bytes are adamw's and
adamw-8bit's.

Which parameters carry these states is the trainable set's business
(planner/estimate/trainable.py ``model_states``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.architecture import ParamTensor

DTYPE_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}

ADAM_8BIT_BLOCK = 2048
ADAM_8BIT_MIN_SIZE = 4096


@dataclass(frozen=True)
class PrecisionConvention:
    """Bytes per parameter for one training precision (before the optimizer)."""

    name: str
    weight_bytes: int
    master_bytes: int
    grad_bytes: int
    activation_bytes: int  # storage of 16/32-bit activations
    compute_dtype: str  # which peak TFLOP/s applies
    fp8_weight_copy: bool
    source: str
    state_bytes: int = 4  # element size of optimizer states (2 under pure bf16)


CONVENTIONS: dict[str, PrecisionConvention] = {
    "fp32": PrecisionConvention("fp32", 4, 0, 4, 4, "fp32", False, "full fp32 training (no AMP)"),
    "fp16-mixed": PrecisionConvention(
        "fp16-mixed",
        2,
        4,
        2,
        2,
        "fp16",
        False,
        "Micikevicius et al. 2018 (mixed precision, fp32 master); ZeRO s3.1",
    ),
    "bf16-mixed": PrecisionConvention(
        "bf16-mixed",
        2,
        4,
        2,
        2,
        "bf16",
        False,
        "Megatron-LM / DeepSpeed bf16 with fp32 master; ZeRO s3.1",
    ),
    "bf16-autocast": PrecisionConvention(
        "bf16-autocast",
        4,
        0,
        4,
        2,
        "bf16",
        False,
        "torch.autocast over fp32 weights (HF Trainer bf16=True)",
    ),
    "bf16": PrecisionConvention(
        "bf16",
        2,
        0,
        2,
        2,
        "bf16",
        False,
        "pure bf16: bf16 weights, gradients and optimizer states (torch.optim zeros_like)",
        state_bytes=2,
    ),
    "fp8-mixed": PrecisionConvention(
        "fp8-mixed",
        2,
        4,
        2,
        2,
        "bf16",
        True,
        "Transformer Engine: bf16 weights + fp32 master + FP8 weight cache",
    ),
}


def convention(precision: str, gradient_precision: str | None) -> PrecisionConvention:
    c = CONVENTIONS[precision]
    if gradient_precision is None:
        return c
    return replace(c, grad_bytes=DTYPE_BYTES[gradient_precision])


# Paged optimizers: the states of the optimizer they page (module docstring).
PAGED = {"paged-adamw": "adamw", "paged-adamw-8bit": "adamw-8bit"}


def optimizer_state_bytes(
    optimizer: str, tensors: tuple[ParamTensor, ...], total: int, state_bytes: int = 4
) -> int:
    """Bytes of optimizer state for all parameters (see the module docstring);
    ``state_bytes`` = 2 under pure bf16 (states in the parameters' dtype).

    For a model given by count only, the shape-dependent optimizers are
    evaluated on the assumed shape and scaled to the stated total."""
    optimizer = PAGED.get(optimizer, optimizer)
    shaped = sum(t.numel for t in tensors)
    if optimizer == "adamw-8bit":
        out = _shaped_state_bytes(optimizer, tensors)
    elif optimizer == "adafactor":
        out = _shaped_state_bytes(optimizer, tensors) * state_bytes // 4
    else:
        return _flat_state_bytes(optimizer, total) * state_bytes // 4
    return round(out * total / shaped) if shaped and shaped != total else out


def _flat_state_bytes(optimizer: str, total: int) -> int:
    if optimizer in ("adam", "adamw"):
        return 8 * total
    if optimizer in ("sgd-momentum", "lion"):
        return 4 * total
    if optimizer == "sgd":
        return 0
    raise ValueError(f"unknown optimizer {optimizer!r}")


def _shaped_state_bytes(optimizer: str, tensors: tuple[ParamTensor, ...]) -> int:
    if optimizer == "adamw-8bit":
        out = 0
        for t in tensors:
            per = t.numel // t.count
            if per < ADAM_8BIT_MIN_SIZE:
                out += 8 * t.numel
            else:
                blocks = -(-per // ADAM_8BIT_BLOCK)
                out += t.count * (2 * per + 2 * 4 * blocks)
        return out
    if optimizer == "adafactor":
        out = 0
        for t in tensors:
            if len(t.shape) >= 2:
                out += 4 * t.count * (t.shape[0] + t.shape[1])
            else:
                out += 4 * t.numel
        return out
    raise ValueError(f"unknown optimizer {optimizer!r}")


def optimizer_bytes_per_param(optimizer: str) -> float:
    """Nominal bytes/param, for tables that compare optimizers."""
    optimizer = PAGED.get(optimizer, optimizer)
    return {
        "adam": 8,
        "adamw": 8,
        "sgd-momentum": 4,
        "lion": 4,
        "sgd": 0,
        "adamw-8bit": 2 + 8 / ADAM_8BIT_BLOCK,
        "adafactor": float("nan"),
    }[optimizer]


@dataclass(frozen=True)
class ModelStates:
    master_weights: int
    weights: int
    gradients: int
    optimizer_states: int

    @property
    def total(self) -> int:
        return self.master_weights + self.weights + self.gradients + self.optimizer_states
