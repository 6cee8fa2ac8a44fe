"""Evaluate the estimation rules for a spec: ``estimate(spec) -> Estimate``.

Pure functions of the spec; no I/O. The plan (planner/plan) and the reports
build on the returned records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.catalog import gib_to_bytes
from planner.estimate.activations import Activations, Saved
from planner.estimate.compute import Flops, training_flops
from planner.estimate.inference import InferenceMemory, inference_memory
from planner.estimate.memory import (
    PreciseMemory,
    SimplifiedMemory,
    activation_inputs,
    dequantized_weight_bytes,
    precise_memory,
    simplified_memory,
)
from planner.estimate.params import ParameterCounts, count_parameters
from planner.estimate.states import CONVENTIONS, PrecisionConvention, convention
from planner.estimate.trainable import TrainableSet, model_states, training_set
from planner.spec.model import ClusterChoice, Spec

SEED_STRATEGIES = ("fp32", "fp16-mixed", "bf16-mixed", "fp8-mixed")
# With LoRA / QLoRA: the precisions the adapters are modelled under (a
# 16-bit or quantized base; fp16-mixed only with an fp16 base).
FINETUNING_STRATEGIES = ("bf16", "bf16-mixed", "bf16-autocast")


@dataclass(frozen=True)
class StrategyRow:
    """Bytes per parameter of one precision strategy under the spec's optimizer."""

    precision: str
    master_weights: float
    weights: float
    gradients: float
    optimizer_states: float
    source: str

    @property
    def total(self) -> float:
        return self.master_weights + self.weights + self.gradients + self.optimizer_states


@dataclass(frozen=True)
class TrainingEstimate:
    conv: PrecisionConvention
    simplified: SimplifiedMemory
    precise: PreciseMemory
    flops: Flops
    tokens: int
    strategies: tuple[StrategyRow, ...]
    trainable: TrainableSet


@dataclass(frozen=True)
class InferenceEstimate:
    memory: InferenceMemory
    runtime_overhead: int

    @property
    def total(self) -> int:
        return self.memory.total_before_overhead + self.runtime_overhead


@dataclass(frozen=True)
class Estimate:
    spec: Spec
    counts: ParameterCounts
    training: TrainingEstimate | None
    inference: InferenceEstimate | None


def precision_strategies(spec: Spec, counts: ParameterCounts) -> tuple[StrategyRow, ...]:
    """Bytes per parameter (of all parameters) of each strategy, over the
    spec's trainable set: frozen parameters add weights only."""
    t = spec.training
    assert t is not None
    rows = []
    names: tuple[str, ...] = SEED_STRATEGIES
    if t.finetuning is not None:
        names = ("fp16-mixed",) if t.finetuning.base == "fp16" else FINETUNING_STRATEGIES
    for name in names:
        conv = convention(name, None)
        ts = training_set(t, conv, counts.tensors, counts.total, spec.model)
        st = model_states(ts, t.optimizer)
        p = counts.total
        rows.append(
            StrategyRow(
                name,
                st.master_weights / p,
                st.weights / p,
                st.gradients / p,
                st.optimizer_states / p,
                conv.source,
            )
        )
    return tuple(rows)


def _training(spec: Spec, counts: ParameterCounts) -> TrainingEstimate:
    t = spec.training
    assert t is not None
    a = spec.model
    conv = convention(t.precision, t.gradient_precision)
    x = activation_inputs(a, t, conv)
    ts = training_set(t, conv, counts.tensors, counts.total, spec.model)
    precise = precise_memory(x, ts, t.optimizer, spec.assumptions)
    simple = simplified_memory(
        counts.total, t.micro_batch_size, t.sequence_length, a.hidden_size, a.num_layers
    )
    flops = training_flops(a, counts, t.sequence_length, t.recompute, ts)
    return TrainingEstimate(
        conv, simple, precise, flops, t.tokens, precision_strategies(spec, counts), ts
    )


def estimate(spec: Spec, counts: ParameterCounts | None = None) -> Estimate:
    """Parameters and one replica's memory and FLOPs (no layout, no time:
    time and cost come from the plan, planner.pipeline.evaluate)."""
    counts = counts or count_parameters(spec.model)
    training = _training(spec, counts) if spec.training else None
    inference = None
    if spec.inference is not None:
        mem = inference_memory(spec.model, counts, spec.inference)
        allocated = mem.total_before_overhead
        overhead = gib_to_bytes(spec.assumptions.cuda_context_gib) + round(
            allocated * spec.assumptions.allocator_fragmentation
        )
        inference = InferenceEstimate(mem, overhead)
    return Estimate(spec, counts, training, inference)


# ---------------------------------------------------------------- JSON


def _saved(items: tuple[Saved, ...]) -> list[dict[str, Any]]:
    return [{"name": s.name, "bytes": s.bytes, "why": s.why} for s in items]


def _acts(a: Activations) -> dict[str, Any]:
    return {
        "per_layer": _saved(a.per_layer),
        "per_layer_without_recompute": a.full_layer_bytes,
        "non_layer": _saved(a.non_layer),
        "non_layer_bytes": a.non_layer_bytes,
        "layers": a.num_layers,
    }


def finetuning_json(ts: TrainableSet, p: PreciseMemory) -> dict[str, Any] | None:
    """The LoRA / QLoRA memory items by name (bytes; None for full training):
    the frozen base at its storage, the adapters' weights, master copies,
    gradients and optimizer states (trainable copies included), and the
    dequantized weight QLoRA holds at a time."""
    ad = ts.adapters
    if ad is None:
        return None
    c, st = ts.conv, p.states
    adapter_weights = c.weight_bytes * ts.trainable
    return {
        "method": ad.method,
        "rank": ad.rank,
        "base_precision": ad.base,
        "double_quant": ad.double_quant,
        "target_modules": list(ad.target_names),
        "adapter_parameters": ad.adapter_parameters,
        "trainable_extra_parameters": sum(t.numel for t in ad.extra),
        "base_weights": st.weights - adapter_weights,
        "adapter_weights": adapter_weights,
        "adapter_master_weights": st.master_weights,
        "adapter_gradients": st.gradients,
        "adapter_optimizer_states": st.optimizer_states,
        "dequantized_weight": dequantized_weight_bytes(ts),
    }


def to_dict(
    e: Estimate, time: dict[str, Any] | None = None, cluster: ClusterChoice | None = None
) -> dict[str, Any]:
    """The JSON document of `planner estimate --format json` (keys are stable).

    ``time`` is the plan's low / expected / high run time and cost
    (planner.pipeline.estimate_time), so that estimate and plan print one
    budget; None (no fitting plan, or an inference spec) prints none.
    ``cluster`` is the plan's GPU choice (default: the first candidate)."""
    cl = cluster or e.spec.cluster
    s, c, a = e.spec, e.counts, e.spec.model
    out: dict[str, Any] = {
        "spec": {"name": s.name, "title": s.title, "source": s.source},
        "units": {"memory": "bytes", "compute": "FLOPs", "time": "seconds", "cost": "USD"},
        "model": {
            "name": a.name,
            "architecture": a.family,
            "parameters": c.total,
            "active_parameters": c.active,
            "embedding_parameters": c.embedding,
            "lm_head_parameters": c.lm_head,
            "parameters_per_layer": c.per_layer,
            "layers": a.num_layers,
            "hidden_size": a.hidden_size,
            "published_parameters": a.published_parameters,
            "given_by_count": a.by_count_only,
            "assumed": list(a.notes),
            "approximate": list(a.family_impl.approximations(a)),
        },
    }
    if e.training is not None:
        t, p = e.training, e.training.precise
        out["memory"] = {
            "simplified": {
                "weights": t.simplified.weights,
                "gradients": t.simplified.gradients,
                "optimizer_states": t.simplified.optimizer_states,
                "activations": t.simplified.activations,
                "total": t.simplified.total,
            },
            "precise": {
                "master_weights": p.states.master_weights,
                "weights": p.states.weights,
                "gradients": p.states.gradients,
                "optimizer_states": p.states.optimizer_states,
                "activations": p.activations.total,
                "activations_per_layer": p.activations.per_layer_bytes,
                "temporary": p.temporary,
                "runtime_overhead": p.runtime_overhead,
                "total": p.total,
                "activation_detail": _acts(p.activations),
                "temporary_detail": [vars(i) for i in p.temporary_items],
                "overhead_detail": [vars(i) for i in p.overhead_items],
            },
            "precision": t.conv.name,
            "trainable": t.trainable.kind,
            "trainable_parameters": t.trainable.trainable,
            "finetuning": finetuning_json(t.trainable, p),
        }
        out["model"]["trainable_parameters"] = t.trainable.trainable
        out["precision_strategies"] = [
            {
                "precision": r.precision,
                "bytes_per_parameter": {
                    "master_weights": r.master_weights,
                    "weights": r.weights,
                    "gradients": r.gradients,
                    "optimizer_states": r.optimizer_states,
                    "total": r.total,
                },
                "model_states_bytes": round(r.total * c.total),
                "source": r.source,
            }
            for r in t.strategies
        ]
        out["compute"] = {
            "flops_per_token": t.flops.model_per_token,
            "hardware_flops_per_token": t.flops.hardware_per_token,
            "attention_flops_per_token": 3 * t.flops.attention_forward_per_token,
            "tokens": t.tokens,
            "total_flops": t.flops.total(t.tokens),
            "hardware_total_flops": t.flops.hardware_total(t.tokens),
            "gpu": cl.gpu.key,
            "time": time,
            "time_source": "the training plan (planner plan): its layout, step time model"
            " and goodput"
            if time is not None
            else "no layout fits: no time or cost",
        }
    if e.inference is not None:
        m = e.inference.memory
        out["inference"] = {
            "weights": m.weights,
            "kv_cache": m.kv_cache,
            "kv_cache_per_token": m.kv_cache_per_token,
            "cached_tokens_per_sequence": m.cached_tokens,
            "activations": m.activations,
            "runtime_overhead": e.inference.runtime_overhead,
            "total": e.inference.total,
            "weight_precision": s.inference.weight_precision if s.inference else None,
        }
    return out


__all__ = ["CONVENTIONS", "Estimate", "estimate", "to_dict"]
