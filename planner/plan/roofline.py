"""One serving replica: memory as vLLM profiles it, and step times from a
roofline.

A replica is t x p GPUs: tensor parallel t inside a node (t divides the
attention and key/value heads, Shoeybi et al. 2019 s3), p pipeline stages
(layers split evenly). For an MoE model the experts are split over the same
t GPUs (expert parallel = t); either way each GPU holds 1/(t p) of the
weights (ASSUMPTION: balanced split, norms approximated as divided).

Memory per GPU (vLLM ``vllm/worker/worker.py`` ``determine_num_available_
blocks``: KV memory = total x gpu_memory_utilization - peak of a profiling
forward pass, which holds the weights, the activations of one step of
``max_num_batched_tokens`` tokens and the non-torch memory):

    kv_cache = memory x gpu_memory_utilization - weights - workspace - runtime
    blocks   = floor(kv_cache / (block_size x kv bytes per token per GPU))

with the block size in ``vllm/worker/cache_engine.py`` ``get_cache_block_
size`` (block_size x kv_heads/t x head_dim x 2 x layers/p x bytes). The
workspace is the step's hidden states (2h), its widest layer input (q+2kv+q,
or 3 x intermediate x top-k) in 16 bits, split by t, plus fp32 logits of
``max_num_seqs`` sequences; runtime = CUDA context + the engine's own memory
+ NCCL buffers when t p > 1 (ASSUMPTIONS, docs/assumptions.md).

Step times (Pope et al. 2022, "Efficiently Scaling Transformer Inference",
s2-3; Kwon et al. 2023):

* prefill of n tokens is compute-bound: (2 x matmul weights x n + attention
  4 L n span q_dim / 2) / (t x peak x prefill_mfu), and no faster than one
  read of the weights (short prompts); the p stages run one after another,
  so the time does not fall with p;
* decode of B sequences is memory-bound: the weights are read once per step
  (an MoE reads the dense part and only the experts its B tokens route to:
  E x (1 - (1 - k/E)^B) expected distinct experts per layer for top-k of E,
  under uniform independent routing: an expert is missed by one token with
  probability 1 - k/E, by all B with (1 - k/E)^B, and linearity of
  expectation sums the E indicator variables), plus each sequence's KV cache
  at its context, at ``decode_bandwidth`` x peak HBM bandwidth of t GPUs;
  the compute bound 2 x matmul weights x B / (t x peak x mfu) applies when
  it is longer;
* plus two tensor-parallel all-reduces per layer of tokens x hidden x 2
  bytes (Shoeybi et al. 2019 s3; ring all-reduce moves 2 (t-1)/t of it),
  each at least ``assumptions.collective_latency_us``, and p - 1 stage
  hand-offs of tokens x hidden x 2 bytes over the inter-node link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.architecture import Architecture
from planner.catalog import gib_to_bytes
from planner.estimate.compute import attention_flops_per_token
from planner.estimate.inference import cached_tokens, kv_cache_bytes, weight_bytes
from planner.estimate.params import ParameterCounts
from planner.plan.engines import Efficiency, engine_efficiency
from planner.spec.model import ClusterChoice, Spec

ACT_BYTES = 2  # 16-bit activations


@dataclass(frozen=True)
class ReplicaMemory:
    """One GPU of the replica, bytes (module docstring)."""

    budget: int  # memory x gpu_memory_utilization
    weights: int
    workspace: int
    runtime: int
    kv_cache: int  # what is left for the KV cache (negative: the replica does not fit)
    kv_bytes_per_block: int
    kv_blocks: int
    block_size: int

    @property
    def kv_tokens(self) -> int:
        """Tokens the replica's KV cache holds (every GPU holds its share of each)."""
        return self.kv_blocks * self.block_size


@dataclass(frozen=True)
class Replica:
    """A replica shape on one GPU type and the figures that do not depend on load."""

    spec: Spec
    counts: ParameterCounts
    cluster: ClusterChoice
    tp: int
    pp: int
    eff: Efficiency
    weights: int  # whole replica, bytes
    expert_weights: int  # of which in MoE experts
    memory: ReplicaMemory

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    # -- FLOP/s and bytes/s of the replica ---------------------------------
    def _peak(self) -> float:
        w = self.spec.inference
        assert w is not None
        p = w.weight_precision
        dtype = "bf16" if p in ("int4", "int8", "fp8", "bf16") else p  # weight-only quantization
        return self.cluster.gpu.compute_peak(dtype)

    def _bandwidth(self) -> float:
        """Bytes per second the t GPUs of one stage stream together."""
        return self.tp * self.cluster.gpu.memory_bandwidth_gb_s * 1e9 * self.eff.decode_bandwidth

    def _comm(self, tokens: float) -> float:
        """TP all-reduces (2 per layer) and pipeline hand-offs for one pass."""
        a, s = self.spec.model, self.spec.assumptions
        nbytes = tokens * a.hidden_size * ACT_BYTES
        lat = s.collective_latency_us * 1e-6
        out = 0.0
        if self.tp > 1:
            link = self.cluster.gpu.intra_node_gb_s * 1e9 * s.bandwidth_efficiency
            one = max(2 * (self.tp - 1) / self.tp * nbytes / link, lat)
            out += 2 * a.num_layers * one
        if self.pp > 1:
            link = self.cluster.gpu.inter_node_gb_s * 1e9 * s.bandwidth_efficiency
            out += (self.pp - 1) * (lat + nbytes / link)
        return out

    # -- the roofline ------------------------------------------------------
    def prefill_flops(self, tokens: int) -> float:
        a = self.spec.model
        attn = attention_flops_per_token(a, tokens) / 2  # causal: half
        return tokens * (2.0 * self.counts.matmul_per_token + attn)

    def prefill_seconds(self, tokens: int, batch: int = 1) -> float:
        """Prefill of ``batch`` prompts of ``tokens`` tokens: compute-bound,
        but never faster than reading the weights once (the roofline's
        memory side, which short prompts hit)."""
        compute = (
            batch * self.prefill_flops(tokens) / (self.tp * self._peak() * self.eff.prefill_mfu)
        )
        memory = self.weights_read(batch * tokens) / self._bandwidth()
        return max(compute, memory) + self._comm(batch * tokens)

    def weights_read(self, batch: float) -> float:
        """Weight bytes one decode step reads for ``batch`` tokens: the dense
        part, and E x (1 - (1 - k/E)^B) of E experts per layer (docstring)."""
        dense = self.weights - self.expert_weights
        return dense + self.expert_weights * expert_read_share(self.spec.model, batch)

    def decode_memory_seconds(self, batch: float, context: float) -> float:
        w = self.spec.inference
        assert w is not None
        kv = batch * kv_cache_bytes(self.spec.model, math.ceil(context), w.kv_cache_precision)
        return (self.weights_read(batch) + kv) / self._bandwidth()

    def decode_compute_seconds(self, batch: float, context: float) -> float:
        a = self.spec.model
        attn = attention_flops_per_token(a, math.ceil(context))
        flops = batch * (2.0 * self.counts.matmul_per_token + attn)
        return flops / (self.tp * self._peak() * self.eff.prefill_mfu)

    def decode_step_seconds(self, batch: float, context: float) -> float:
        """One decode step for ``batch`` running sequences at mean ``context``."""
        memory = self.decode_memory_seconds(batch, context)
        compute = self.decode_compute_seconds(batch, context)
        return max(memory, compute) + self._comm(max(batch, 1.0))

    # -- KV capacity -------------------------------------------------------
    def blocks_per_sequence(self, tokens: int) -> int:
        a = self.spec.model
        kept = cached_tokens(a, tokens)  # the window when every attention layer slides
        return max(-(-kept // self.memory.block_size), 1)

    def max_sequences(self, tokens: int) -> int:
        """Sequences of ``tokens`` tokens the KV cache holds at once."""
        return max(self.memory.kv_blocks, 0) // self.blocks_per_sequence(tokens)


def expert_read_share(a: Architecture, batch: float) -> float:
    """Expected share of the E experts of a layer that ``batch`` tokens route
    to at top-k: 1 - (1 - k/E)^B (module docstring); 1 for a dense model."""
    if a.experts <= 1:
        return 1.0
    return 1.0 - (1.0 - a.active_experts / a.experts) ** max(batch, 1.0)


def expert_weights(counts: ParameterCounts, total: int) -> int:
    """Bytes in MoE expert tensors: the weight bytes x the experts' parameter share."""
    shaped = sum(t.numel for t in counts.tensors)
    expert = sum(t.numel for t in counts.tensors if t.expert)
    return 0 if not shaped else total * expert // shaped


def _workspace(spec: Spec, tp: int, eff: Efficiency) -> int:
    a = spec.model
    n = eff.max_num_batched_tokens
    widest = max(2 * a.q_dim + 2 * a.kv_dim, 3 * a.intermediate_size * a.active_experts)
    hidden = n * 2 * a.hidden_size * ACT_BYTES
    split = -(-n * widest * ACT_BYTES // tp)
    logits = -(-eff.max_num_seqs * a.vocab_size * 4 // tp)
    return hidden + split + logits


def make_replica(
    spec: Spec, counts: ParameterCounts, c: ClusterChoice, tp: int, pp: int
) -> Replica:
    w, a = spec.inference, spec.model
    assert w is not None
    eff = engine_efficiency(spec, c)
    weights = weight_bytes(counts, w.weight_precision, w.group_size)
    n = tp * pp
    per_gpu = -(-weights // n)
    runtime = gib_to_bytes(spec.assumptions.cuda_context_gib) + eff.runtime_bytes
    if n > 1:
        runtime += gib_to_bytes(spec.assumptions.nccl_buffer_gib)
    workspace = _workspace(spec, tp, eff)
    budget = int(c.gpu.memory_bytes * w.gpu_memory_utilization)
    kv = budget - per_gpu - workspace - runtime
    # vllm/worker/cache_engine.py get_cache_block_size, per GPU: heads / t, layers / p
    per_token = kv_cache_bytes(a, 1, w.kv_cache_precision)
    block = -(-per_token * eff.block_size // n)
    blocks = max(kv, 0) // block
    mem = ReplicaMemory(budget, per_gpu, workspace, runtime, kv, block, blocks, eff.block_size)
    return Replica(spec, counts, c, tp, pp, eff, weights, expert_weights(counts, weights), mem)


def shapes(spec: Spec, c: ClusterChoice, cap: int) -> list[tuple[int, int]]:
    """(t, p) candidates: t within a node dividing the heads; p > 1 only at a
    full node (stages across nodes), up to ``cap`` GPUs and the layer count."""
    a = spec.model
    tps = [
        t
        for t in range(1, c.gpus_per_node + 1)
        if a.num_attention_heads % t == 0 and a.num_key_value_heads % t == 0 and t <= cap
    ]
    out = [(t, 1) for t in tps]
    if tps:
        t = tps[-1]
        p = 2
        while t * p <= cap and p <= a.num_layers:
            out.append((t, p))
            p *= 2
    return out
