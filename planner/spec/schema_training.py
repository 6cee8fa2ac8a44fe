"""The spec's `training` section and its `finetuning` (LoRA / QLoRA)
subsection (re-exported by planner/spec/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from planner.spec.schema_types import Count, Strict, _to_whole

Precision = Literal["fp32", "fp16-mixed", "bf16-mixed", "bf16-autocast", "fp8-mixed", "bf16"]
Optimizer = Literal[
    "adamw",
    "adam",
    "sgd-momentum",
    "sgd",
    "adamw-8bit",
    "adafactor",
    "lion",
    "paged-adamw",
    "paged-adamw-8bit",
]


# Base-weight storage per fine-tuning method (planner/estimate/lora.py).
LORA_BASE = ("bf16", "fp16")
QLORA_BASE = ("nf4", "fp4", "int8")


class FinetuningSection(Strict):
    """Parameter-efficient fine-tuning: LoRA (Hu et al. 2021) or QLoRA
    (Dettmers et al. 2023) adapters on a frozen base (planner/estimate/lora.py)."""

    method: Literal["lora", "qlora"] = Field(
        description="lora: frozen 16-bit base; qlora: frozen base quantized by bitsandbytes."
    )
    rank: Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=65_536)] = Field(
        8, description="LoRA rank r: A is r x in, B is out x r."
    )
    alpha: Annotated[float, Field(gt=0, le=1e6)] = Field(
        16.0, description="LoRA alpha (scaling alpha / r); no effect on memory or time."
    )
    dropout: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="Dropout on the adapters' input (PEFT lora_dropout)."
    )
    target_modules: (
        Annotated[list[str], Field(min_length=1, max_length=64)] | Literal["all-linear"]
    ) = Field(
        ["q_proj", "v_proj"],
        description="HF module names that get adapters, or all-linear (every linear layer"
        " but the LM head, as PEFT).",
    )
    base_precision: Literal["bf16", "fp16", "nf4", "fp4", "int8"] | None = Field(
        None,
        description="Storage of the frozen base. lora: bf16 (default) or fp16; qlora: nf4"
        " (default), fp4 or int8.",
    )
    double_quant: bool = Field(
        False,
        description="qlora 4-bit: quantize the quantization constants (bitsandbytes"
        " bnb_4bit_use_double_quant).",
    )
    trainable_extra: Annotated[list[str], Field(max_length=64)] = Field(
        [],
        description="HF modules trained in full next to the adapters (PEFT modules_to_save),"
        " e.g. lm_head, embed_tokens.",
    )

    @property
    def base(self) -> str:
        """The frozen base's storage, with the method's default."""
        return self.base_precision or ("nf4" if self.method == "qlora" else "bf16")

    @model_validator(mode="after")
    def _consistent(self) -> FinetuningSection:
        allowed = LORA_BASE if self.method == "lora" else QLORA_BASE
        if self.base not in allowed:
            raise ValueError(
                f"base_precision {self.base!r} does not go with method {self.method!r}"
                f" (allowed: {', '.join(allowed)})"
            )
        if self.double_quant and self.base not in ("nf4", "fp4"):
            raise ValueError("double_quant applies to 4-bit bases (nf4, fp4) only")
        return self


class TrainingSection(Strict):
    sequence_length: Count = Field(description="Tokens per sequence.")
    micro_batch_size: Count = Field(1, description="Sequences per GPU per forward pass.")
    global_batch_size: Count | None = Field(
        None, description="Sequences per optimizer step (default: micro_batch_size)."
    )
    tokens: Count = Field(description="Total training tokens, e.g. 2e12 or '2T'.")
    precision: Precision = "bf16-mixed"
    gradient_precision: Literal["fp32", "bf16", "fp16"] | None = Field(
        None, description="Default: 16-bit under *-mixed (ZeRO paper), fp32 otherwise."
    )
    optimizer: Optimizer = "adamw"
    attention: Literal["flash", "eager"] = "flash"
    recompute: Literal["none", "selective", "full"] = "none"
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    implementation: Literal["megatron", "hf-transformers"] = Field(
        "megatron", description="Which framework's saved tensors the activation model follows."
    )
    trainable: Literal["full", "freeze-embeddings"] = Field(
        "full",
        description="Which parameters train (get gradients and optimizer states);"
        " frozen ones keep their weights only (planner/estimate/trainable.py).",
    )
    finetuning: FinetuningSection | None = Field(
        None, description="LoRA / QLoRA adapters on a frozen base; absent = full training."
    )
    freeze_layers: Annotated[int, BeforeValidator(_to_whole), Field(ge=0, le=4_096)] = Field(
        0, description="Full fine-tuning: the first N transformer blocks are frozen."
    )

    @model_validator(mode="before")
    @classmethod
    def _peft_profile(cls, data: object) -> object:
        """Adapters are PEFT modules: their activations follow the
        hf-transformers profile, the default when `finetuning` is given."""
        if isinstance(data, dict) and data.get("finetuning") is not None:
            data = {"implementation": "hf-transformers", **data}
        return data

    @model_validator(mode="after")
    def _one_method(self) -> TrainingSection:
        if self.finetuning is not None:
            if self.freeze_layers:
                raise ValueError("freeze_layers is for full fine-tuning; not with `finetuning`")
            if self.trainable != "full":
                raise ValueError("trainable is for full fine-tuning; not with `finetuning`")
            if self.implementation != "hf-transformers":
                raise ValueError(
                    "finetuning adapters are PEFT modules: implementation must be"
                    " hf-transformers (its default with `finetuning`)"
                )
            if self.precision not in ("bf16-mixed", "bf16-autocast", "bf16", "fp16-mixed"):
                raise ValueError(
                    f"precision {self.precision!r} is not modelled with LoRA/QLoRA"
                    " (use bf16, bf16-mixed, bf16-autocast or fp16-mixed)"
                )
            fp16 = self.precision == "fp16-mixed"
            if fp16 != (self.finetuning.base == "fp16"):
                raise ValueError(
                    "the adapters compute in the base's 16-bit type: fp16-mixed goes with"
                    " base_precision fp16 (lora), the bf16 precisions with a bf16 or"
                    " quantized base"
                )
        return self
