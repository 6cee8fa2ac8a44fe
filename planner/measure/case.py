"""What one ``planner measure`` run traces, and what it found: plain data,
no torch, so the command line and reports can use them without the extra."""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture
from planner.errors import PlannerError
from planner.spec.schema import FinetuningSection

# Parameter dtype per training precision. fp8-mixed keeps bf16 weights and
# runs its matmuls in FP8 through Transformer Engine, which a Hugging Face
# model does not use: it is traced as bf16 (see ``CPU_CUDA_NOTES``).
WEIGHT_DTYPE = {
    "fp32": "float32",
    "bf16-mixed": "bfloat16",
    "fp16-mixed": "float16",
    "fp8-mixed": "bfloat16",
    "bf16-autocast": "float32",  # fp32 weights, bf16 compute under torch.autocast
    "bf16": "bfloat16",  # pure bf16
}
# LoRA / QLoRA: the frozen base's dtype when traced (4-bit and int8 bases are
# traced as bf16: planner/measure/peftmodel.py says why).
BASE_DTYPE = {"bf16": "bfloat16", "fp16": "float16", "nf4": "bfloat16", "fp4": "bfloat16",
              "int8": "bfloat16"}  # fmt: skip


@dataclass(frozen=True)
class MeasureCase:
    """One forward pass to trace: the model and the training settings that
    change what is saved for backward."""

    arch: Architecture
    seq: int
    micro_batch: int
    precision: str  # a training precision name (planner.estimate.states)
    attention: str  # "flash" | "eager"
    dropout: float
    recompute: str  # "none" | "selective" | "full"
    finetuning: FinetuningSection | None = None  # LoRA / QLoRA adapters (PEFT)

    @property
    def weight_dtype(self) -> str:
        """dtype of the model's (base) parameters."""
        if self.finetuning is not None:
            return BASE_DTYPE[self.finetuning.base]
        return WEIGHT_DTYPE[self.precision]

    @property
    def adapter_dtype(self) -> str:
        """dtype of LoRA adapters: the precision's working weights."""
        return WEIGHT_DTYPE[self.precision]

    @property
    def autocast(self) -> bool:
        return self.precision == "bf16-autocast"

    @property
    def traced_recompute(self) -> str:
        """HF has no selective recomputation: it is traced as ``none``."""
        return "full" if self.recompute == "full" else "none"

    @property
    def label(self) -> str:
        a = self.arch
        gqa = (
            f" kv{a.num_key_value_heads}" if a.num_key_value_heads != a.num_attention_heads else ""
        )
        drop = f" drop{self.dropout:g}" if self.dropout else ""
        ft = self.finetuning
        lora = f" {ft.method}-r{ft.rank}" if ft is not None else ""
        return (
            f"{a.name}{gqa} b{self.micro_batch} s{self.seq} {self.precision}"
            f" {self.attention} rc-{self.recompute}{drop}{lora}"
        )


def case_from_spec(spec: object) -> MeasureCase:
    """The case a spec's training section describes."""
    t = getattr(spec, "training", None)
    arch = getattr(spec, "model", None)
    if t is None or not isinstance(arch, Architecture):
        raise PlannerError("planner measure needs a spec with a `training` section")
    if arch.by_count_only:
        raise PlannerError(
            "planner measure needs the model's architecture (preset, architecture fields"
            " or hf_config), not only its parameter count"
        )
    if not arch.family_impl.activations_derived:
        raise PlannerError(
            f"planner measure checks the hf-transformers profile against a trace; the"
            f" {arch.family!r} family's saved tensors are not derived yet (its activation"
            " figure is approximate), so it is not traced"
        )
    if arch.qk_norm and arch.is_moe:
        raise PlannerError(
            "planner measure traces qk-norm models only as dense Qwen3 blocks; a qk-norm MoE"
            " (Qwen3-MoE) is not traced"
        )
    return MeasureCase(
        arch=arch,
        seq=t.sequence_length,
        micro_batch=t.micro_batch_size,
        precision=t.precision,
        attention=t.attention,
        dropout=t.dropout,
        recompute=t.recompute,
        finetuning=t.finetuning,
    )


@dataclass(frozen=True)
class SavedRecord:
    """One storage saved for backward (deduplicated), where it was saved."""

    part: str  # "layer", "embedding", "final_norm", "lm_head", "loss", "shared"
    layer: int | None
    module: str  # the innermost module running when it was first saved
    shape: tuple[int, ...]
    dtype: str
    bytes: int  # the whole storage (a saved view keeps all of it alive)
    kind: str = "activation"  # or "weight_copy" (autocast), "checkpoint_input"


@dataclass(frozen=True)
class Trace:
    """Every storage one forward pass kept alive for backward."""

    records: tuple[SavedRecord, ...]
    num_layers: int
    seconds: float
    fake: bool

    def layer_bytes(self) -> list[int]:
        out = [0] * self.num_layers
        for r in self.records:
            if r.part == "layer" and r.layer is not None:
                out[r.layer] += r.bytes
        return out

    def part_bytes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            if r.part != "layer":
                out[r.part] = out.get(r.part, 0) + r.bytes
        return out

    @property
    def total(self) -> int:
        return sum(r.bytes for r in self.records)
