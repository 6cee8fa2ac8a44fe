"""The unit of the activation inventory: one tensor an operation saves for
backward, and the inputs every activation profile reads. Kept apart from
``activations`` so that the model families (planner/families) can list
what their layers save without importing the profiles."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.architecture import Architecture


@dataclass(frozen=True)
class Saved:
    """One saved tensor: the operation that keeps it, and its size."""

    name: str
    numel: int
    itemsize: int
    why: str = ""
    core_attention: bool = False  # dropped by selective recompute
    # How tensor parallelism divides it (Korthikanti et al. 2022 s4.2):
    # "tp": split across the t ranks; "sp": replicated on every rank unless
    # sequence parallelism splits it (norm inputs, dropout masks, the inputs
    # of the QKV and first MLP projections: the 10sbh term).
    shard: str = "tp"

    @property
    def bytes(self) -> int:
        return self.numel * self.itemsize


@dataclass(frozen=True)
class LoraActs:
    """What the LoRA activation profile (planner/estimate/lora_profile.py)
    needs to know about the adapters."""

    targets: frozenset[str]  # adapted HF module names
    rank: int
    dropout: float
    embedding_trains: bool
    lm_head_trains: bool


@dataclass(frozen=True)
class ActivationInputs:
    arch: Architecture
    seq: int
    micro_batch: int
    act_bytes: int  # 2 for 16-bit activations, 4 for fp32
    attention: str  # "flash" | "eager"
    dropout: float
    recompute: str  # "none" | "selective" | "full"
    implementation: str = "megatron"
    extra: dict[str, float] = field(default_factory=dict)
    # The training precision's name: the hf-transformers profile needs to
    # know bf16-autocast (fp32 residual stream, bf16 matmul outputs).
    precision: str = ""
    # Whose kernels' saved tensors to count: "cuda" (what planner plans for)
    # or "cpu" (only to compare with a `planner measure` trace).
    device: str = "cuda"
    # LoRA / QLoRA adapters on a frozen base (None: the full-training profiles).
    lora: LoraActs | None = None

    @property
    def tokens(self) -> int:
        return self.seq * self.micro_batch
