"""Serving plan for inference specs: GPUs per replica, throughput, cost.

* GPUs per replica: the smallest tensor-parallel degree t (within one node)
  that divides the attention and key/value heads (Megatron-style head split,
  Shoeybi et al. 2019 s3) with (weights + KV cache + working activations) / t
  plus allocator fragmentation <= usable memory per GPU (device memory minus
  the CUDA context, planner.plan.memory.usable_memory_per_gpu). ASSUMPTION:
  tensor parallelism splits weights, KV cache and activations evenly
  (embeddings and LM head vocab-parallel; norms, < 0.1%, ignored).
* Decode step (one new token for every sequence of the batch) is bound by
  memory bandwidth: each GPU streams its weight shard and its KV-cache shard
  once per step (Pope et al. 2022, "Efficiently Scaling Transformer
  Inference", s2-3), at ``assumptions.decode_bandwidth_efficiency`` of the
  peak HBM bandwidth (ASSUMPTION, default 0.7); or by compute, 2 x active
  parameters x batch FLOPs / (t x peak x MFU), whichever is longer; plus two
  tensor-parallel all-reduces of b x h activations per layer (Shoeybi et al.
  2019 s3), each at least ``assumptions.collective_latency_us``. The KV
  cache read is taken at the mean context length, prompt + generated / 2.
* Prefill: 2 x active parameters x prompt tokens x batch plus attention,
  compute-bound at the expected MFU (planner.estimate.compute).
* Throughput of one replica with static batching: batch x generated tokens /
  (prefill + generated x decode step); cost per million generated tokens =
  t x price per GPU-hour / (tokens per hour) x 1e6. Continuous-batching
  engines (vLLM, TensorRT-LLM) overlap requests and do better: treat the
  figure as a conservative planning number and confirm with a load test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from planner.catalog import gib_to_bytes
from planner.estimate.compute import attention_flops_per_token
from planner.estimate.inference import InferenceMemory, inference_memory
from planner.estimate.params import ParameterCounts, count_parameters
from planner.estimate.states import DTYPE_BYTES
from planner.findings import Finding
from planner.plan.memory import usable_memory_per_gpu
from planner.plan.roofline import expert_read_share, expert_weights
from planner.spec.model import ClusterChoice, Spec

if TYPE_CHECKING:
    from planner.plan.capacity import CapacityPlan

HOURS_PER_MONTH = 30 * 24  # a 30-day month of continuous serving


@dataclass(frozen=True)
class ServingMemory:
    """One GPU of the replica, bytes."""

    weights: int
    kv_cache: int
    activations: int
    other: int  # allocator fragmentation

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.activations + self.other


@dataclass(frozen=True)
class ServingOption:
    cluster: ClusterChoice
    usable: int
    tensor_parallel: int | None  # None: no degree within one node fits
    degree_checked: int  # the degree the memory figures are for
    memory: ServingMemory
    prefill_seconds: float
    decode_step_seconds: float
    request_seconds: float
    tokens_per_second: float  # generated tokens per second, one replica

    @property
    def fits(self) -> bool:
        return self.tensor_parallel is not None

    @property
    def usd_per_hour(self) -> float | None:
        p = self.cluster.price_per_gpu_hour
        return None if p is None or not self.fits else p * self.degree_checked

    @property
    def usd_per_million_tokens(self) -> float | None:
        h = self.usd_per_hour
        return None if h is None else h / (self.tokens_per_second * 3600) * 1e6


@dataclass(frozen=True)
class ServingPlan:
    spec: Spec
    counts: ParameterCounts
    memory: InferenceMemory  # one replica, all GPUs together
    options: tuple[ServingOption, ...]  # one per candidate GPU type
    findings: tuple[Finding, ...] = ()  # SRV-xxx (planner.plan.rules.serving)
    capacity: CapacityPlan | None = None  # with inference.traffic (planner.plan.capacity)
    one_replica: dict[str, int] | None = None  # the inverse question (_one_replica)

    @property
    def feasible(self) -> bool:
        """False when no configuration meets the traffic, SLOs and budget
        (``planner plan`` exits 1), or when no replica fits."""
        errors = any(f.severity == "error" for f in self.findings)
        if self.capacity is not None:
            return self.capacity.feasible and not errors
        return self.best.fits and not errors

    @property
    def best(self) -> ServingOption:
        """The fitting option with the lowest cost per generated token (the
        first fitting candidate when no price is known, the first candidate
        when none fits)."""
        priced = [o for o in self.options if o.usd_per_hour is not None]
        fitting = [o for o in self.options if o.fits]
        if priced:  # cost per unit of work, then per hour
            return min(priced, key=lambda o: (o.usd_per_million_tokens, o.usd_per_hour))
        return fitting[0] if fitting else self.options[0]


def _degrees(spec: Spec, c: ClusterChoice) -> list[int]:
    a = spec.model
    return [
        t for t in range(1, c.gpus_per_node + 1)
        if a.num_attention_heads % t == 0 and a.num_key_value_heads % t == 0
    ]  # fmt: skip


def _per_gpu(m: InferenceMemory, t: int, frag: float) -> ServingMemory:
    w, kv, act = -(-m.weights // t), -(-m.kv_cache // t), -(-m.activations // t)
    return ServingMemory(w, kv, act, round((w + kv + act) * frag))


def _timing(spec: Spec, counts: ParameterCounts, m: InferenceMemory, c: ClusterChoice, t: int
            ) -> tuple[float, float, float]:  # fmt: skip
    """(prefill seconds, decode step seconds, request seconds) for one replica."""
    w, a, arch = spec.inference, spec.assumptions, spec.model
    assert w is not None
    gpu = c.gpu
    dtype = "bf16" if w.weight_precision in ("int4", "int8", "fp8", "bf16") else w.weight_precision
    peak = gpu.compute_peak(dtype)
    mfu = c.mfu.expected
    prompt_attn = attention_flops_per_token(arch, w.prompt_mean) / 2
    prefill_flops = w.batch_size * w.prompt_mean * (2.0 * counts.matmul_per_token + prompt_attn)
    prefill = prefill_flops / (t * peak * mfu)
    mean_ctx = w.prompt_mean + w.generated_tokens / 2  # each layer caps it at its window
    kv_read = arch.family_impl.kv_cache_bytes(arch, mean_ctx, DTYPE_BYTES[w.kv_cache_precision])
    kv_read *= w.batch_size
    bw = gpu.memory_bandwidth_gb_s * 1e9 * a.decode_bandwidth_efficiency
    # an MoE step reads only the experts its batch routes to (planner.plan.roofline)
    experts = expert_weights(counts, m.weights)
    read = m.weights - experts + experts * expert_read_share(arch, w.batch_size)
    memory_time = (read + kv_read) / t / bw
    compute_time = 2.0 * counts.matmul_per_token * w.batch_size / (t * peak * mfu)
    allreduce = 0.0
    if t > 1:
        link = gpu.intra_node_gb_s * 1e9 * a.bandwidth_efficiency
        nbytes = w.batch_size * arch.hidden_size * 2
        one = max(2 * (t - 1) / t * nbytes / link, a.collective_latency_us * 1e-6)
        allreduce = 2 * arch.num_layers * one
    step = max(memory_time, compute_time) + allreduce
    return prefill, step, prefill + w.generated_tokens * step


def _option(spec: Spec, counts: ParameterCounts, m: InferenceMemory, c: ClusterChoice
            ) -> ServingOption:  # fmt: skip
    usable = usable_memory_per_gpu(spec, c.gpu.memory_bytes)
    frag = spec.assumptions.allocator_fragmentation
    degrees = _degrees(spec, c)
    chosen = next((t for t in degrees if _per_gpu(m, t, frag).total <= usable), None)
    t = chosen or degrees[-1]
    prefill, step, request = _timing(spec, counts, m, c, t)
    w = spec.inference
    assert w is not None
    return ServingOption(
        cluster=c,
        usable=usable,
        tensor_parallel=chosen,
        degree_checked=t,
        memory=_per_gpu(m, t, frag),
        prefill_seconds=prefill,
        decode_step_seconds=step,
        request_seconds=request,
        tokens_per_second=w.batch_size * w.generated_tokens / request,
    )


def make_serving_plan(spec: Spec) -> ServingPlan:
    """Plan one serving replica for every candidate GPU type."""
    assert spec.inference is not None
    counts = count_parameters(spec.model)
    m = inference_memory(spec.model, counts, spec.inference)
    from planner.plan.rules.serving import run_serving_rules

    options = tuple(_option(spec, counts, m, c) for c in spec.clusters)
    capacity = None
    if spec.inference.traffic is not None:
        from planner.plan.capacity import make_capacity_plan

        capacity = make_capacity_plan(spec, counts)
    plan = ServingPlan(spec, counts, m, options, capacity=capacity)
    plan = replace(plan, one_replica=_one_replica(plan))
    return replace(plan, findings=run_serving_rules(plan))


def _option_dict(o: ServingOption) -> dict[str, Any]:
    return {
        "gpu": o.cluster.gpu.key,
        "gpus": o.degree_checked,
        "tensor_parallel": o.degree_checked,
        "fits": o.fits,
        "memory_per_gpu": {
            "weights": o.memory.weights,
            "kv_cache": o.memory.kv_cache,
            "activations": o.memory.activations,
            "other": o.memory.other,
            "total": o.memory.total,
        },
        "usable_memory_per_gpu": o.usable,
        "margin_bytes": o.usable - o.memory.total,
        "prefill_seconds": o.prefill_seconds,
        "decode_step_seconds": o.decode_step_seconds,
        "request_seconds": o.request_seconds,
        "tokens_per_second": o.tokens_per_second,
        "usd_per_hour": o.usd_per_hour,
        "usd_per_month": None if o.usd_per_hour is None else o.usd_per_hour * HOURS_PER_MONTH,
        "usd_per_million_tokens": o.usd_per_million_tokens,
        "price_per_gpu_hour": o.cluster.price_per_gpu_hour,
        "price_source": o.cluster.price_source,
    }


def serving_to_dict(p: ServingPlan) -> dict[str, Any]:
    """JSON of `planner plan --format json` for an inference spec (docs/plan.md)."""
    best = p.best
    d = _option_dict(best)
    gpus = d["gpus"]
    per_node = best.cluster.gpus_per_node
    out: dict[str, Any] = {
        "spec": {"name": p.spec.name, "title": p.spec.title, "source": p.spec.source},
        "kind": "inference",
        "units": {"memory": "bytes", "time": "seconds", "cost": "USD"},
        "plan": {
            **{
                k: d[k]
                for k in (
                    "gpus",
                    "gpu",
                    "tensor_parallel",
                    "fits",
                    "memory_per_gpu",
                    "usable_memory_per_gpu",
                    "margin_bytes",
                )
            },
            "nodes": -(-gpus // per_node),
            "pipeline_parallel": 1,
            "data_parallel": 1,
            "replica_memory": p.memory.total_before_overhead,
            "cuda_context_per_gpu": gib_to_bytes(p.spec.assumptions.cuda_context_gib),
        },
        "throughput": {
            k: d[k]
            for k in (
                "prefill_seconds",
                "decode_step_seconds",
                "request_seconds",
                "tokens_per_second",
            )
        },
        "cost": {
            k: d[k]
            for k in (
                "usd_per_hour",
                "usd_per_month",
                "usd_per_million_tokens",
                "price_per_gpu_hour",
                "price_source",
            )
        },
        "alternatives": [_option_dict(o) for o in p.options if o is not best],
        "findings": [f.to_dict() for f in p.findings],
    }
    out["plan"].update(p.one_replica or {})
    if p.capacity is not None:  # the capacity plan replaces the one-replica view
        from planner.plan.capacity_out import capacity_to_dict

        cap = capacity_to_dict(p.capacity)
        for key in ("plan", "throughput", "cost", "latency"):
            out[key] = cap.pop(key, None)
        out["capacity"] = cap
        del out["alternatives"]  # capacity.candidates holds every GPU type and shape
    out["feasible"] = p.feasible
    return out


def _one_replica(p: ServingPlan) -> dict[str, int]:
    """The inverse question for one replica of the best option: the KV cache
    as vLLM profiles it (planner.plan.roofline), the most sequences of the
    spec's length and the longest single context it holds."""
    from planner.plan.roofline import make_replica

    o, w = p.best, p.spec.inference
    assert w is not None
    r = make_replica(p.spec, p.counts, o.cluster, o.degree_checked, 1)
    tokens = max(r.memory.kv_tokens, 0)
    return {
        "replicas": 1,
        "gpus_per_replica": o.degree_checked,
        "kv_cache_tokens": tokens,
        "max_concurrency": r.max_sequences(w.prompt_p99 + w.generated_tokens),
        "max_context_tokens": min(tokens, p.spec.model.max_position_embeddings),
    }


from planner.plan.serving_text import render_serving  # noqa: E402  (re-export)

__all__ = ["ServingPlan", "make_serving_plan", "render_serving", "serving_to_dict"]
