"""A parallel layout: how one training job is split over GPUs.

Symbols follow Narayanan et al. 2021 ("Efficient Large-Scale Language Model
Training on GPU Clusters Using Megatron-LM", s2 and Table 1): t tensor
parallel, p pipeline parallel, d data parallel, b micro-batch size,
m = B / (b * d) micro-batches per step for a global batch of B sequences,
v virtual pipeline stages (interleaved schedule). Context parallelism c
splits the sequence (Megatron-LM ``--context-parallel-size``); expert
parallelism e splits an MoE layer's experts across the data-parallel ranks.
GPUs = t * p * d * c (expert parallelism reuses the data-parallel ranks).

ZeRO shards over groups of ``zero_shard_group`` data-parallel ranks and
replicates across the d / group groups: PyTorch FSDP's HYBRID_SHARD (FSDP
docs, ``ShardingStrategy``) and DeepSpeed's MiCS (Zhang et al. 2022,
"MiCS: Near-linear Scaling for Training Gigantic Model on Public Cloud").
0 (the default) shards over the whole data-parallel group.
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
    zero_shard_group: int = 0  # data-parallel ranks per shard group; 0 = all d
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
    def z(self) -> int:
        """Data-parallel ranks the ZeRO states are sharded over."""
        g = self.zero_shard_group
        return self.d if g <= 0 or g >= self.d else g

    @property
    def hybrid(self) -> bool:
        return self.zero_stage > 0 and self.z < self.d

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
        zero = f"ZeRO-{self.zero_stage}"
        if self.hybrid:
            zero += f" hybrid (shards of {self.z}, {self.d // self.z} replicas)"
        parts += [
            zero,
            f"recompute {self.recompute}",
            f"micro-batch {self.micro_batch_size}",
        ]
        if self.offload != "none":
            parts.append(f"offload {self.offload}")
        return ", ".join(parts)
