"""A parallel layout: how one training job is split over GPUs.

Symbols follow Narayanan et al. 2021 ("Efficient Large-Scale Language Model
Training on GPU Clusters Using Megatron-LM", s2 and Table 1): t tensor
parallel, p pipeline parallel, d data parallel, b micro-batch size,
m = B / (b * d) micro-batches per step for a global batch of B sequences,
v virtual pipeline stages (interleaved schedule). Context parallelism c
splits the sequence (Megatron-LM ``--context-parallel-size``); expert
parallelism e splits an MoE layer's experts across the data-parallel ranks.
GPUs = t * p * d * c (expert parallelism reuses the data-parallel ranks).
"""

from __future__ import annotations

from dataclasses import dataclass

RECOMPUTE_MODES = ("none", "selective", "full")
OFFLOAD_MODES = ("none", "optimizer", "optimizer+params")


@dataclass(frozen=True)
class Layout:
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    data_parallel: int = 1
    context_parallel: int = 1
    expert_parallel: int = 1
    sequence_parallel: bool = False
    virtual_pipeline_stages: int = 1
    zero_stage: int = 0  # 0-3, over the data-parallel group (ZeRO s5)
    recompute: str = "none"  # none | selective | full
    micro_batch_size: int = 1
    offload: str = "none"  # none | optimizer | optimizer+params
    global_batch_size: int = 1  # sequences per optimizer step (from the spec)

    @property
    def t(self) -> int:
        return self.tensor_parallel

    @property
    def p(self) -> int:
        return self.pipeline_parallel

    @property
    def d(self) -> int:
        return self.data_parallel

    @property
    def c(self) -> int:
        return self.context_parallel

    @property
    def e(self) -> int:
        return self.expert_parallel

    @property
    def v(self) -> int:
        return self.virtual_pipeline_stages

    @property
    def gpus(self) -> int:
        return self.t * self.p * self.d * self.c

    @property
    def num_microbatches(self) -> int:
        """m = B / (b * d) (Narayanan et al. 2021 s2.2)."""
        return self.global_batch_size // (self.micro_batch_size * self.d)

    def nodes(self, gpus_per_node: int) -> int:
        return -(-self.gpus // gpus_per_node)

    def describe(self) -> str:
        parts = [f"t={self.t}", f"p={self.p}", f"d={self.d}"]
        if self.c > 1:
            parts.append(f"c={self.c}")
        if self.e > 1:
            parts.append(f"e={self.e}")
        if self.v > 1:
            parts.append(f"v={self.v}")
        if self.sequence_parallel:
            parts.append("SP")
        parts += [
            f"ZeRO-{self.zero_stage}",
            f"recompute {self.recompute}",
            f"micro-batch {self.micro_batch_size}",
        ]
        if self.offload != "none":
            parts.append(f"offload {self.offload}")
        return ", ".join(parts)
