"""Inference specs: how many GPUs hold one serving replica, and what it costs
per hour. ``planner plan`` plans training runs only, so this works from the
estimate's JSON (planner.engine.to_dict, key ``inference``).

GPUs per replica: the smallest tensor-parallel degree t that divides the
attention and key/value heads (Megatron-style head split, Shoeybi et al.
2019 s3) with (weights + KV cache + activations) / t x (1 + allocator
fragmentation) <= usable memory per GPU (device memory minus the CUDA
context, planner.plan.memory.usable_memory_per_gpu). ASSUMPTION: tensor
parallelism splits weights, KV cache and working activations evenly
(embeddings and LM head vocab-parallel); norms (< 0.1%) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.plan.memory import usable_memory_per_gpu
from planner.report.budget import price_text
from planner.report.records import Sections, Table, gib
from planner.spec.model import ClusterChoice, Spec
from planner.units import fmt_int, fmt_pct, fmt_usd

HOURS_PER_MONTH = 30 * 24  # a 30-day month of continuous serving


@dataclass(frozen=True)
class Fit:
    cluster: ClusterChoice
    usable: int
    tensor_parallel: int | None  # None: does not fit within one node
    per_gpu: int  # bytes per GPU at that degree (or at one node when it does not fit)


def allocated(e: dict[str, Any]) -> int:
    i = e["inference"]
    return i["weights"] + i["kv_cache"] + i["activations"]


def fit(e: dict[str, Any], spec: Spec, c: ClusterChoice) -> Fit:
    a, frag = spec.model, spec.assumptions.allocator_fragmentation
    usable = usable_memory_per_gpu(spec, c.gpu.memory_bytes)
    ts = [t for t in range(1, c.gpus_per_node + 1)
          if a.num_attention_heads % t == 0 and a.num_key_value_heads % t == 0]  # fmt: skip
    for t in ts:
        per_gpu = round(-(-allocated(e) // t) * (1 + frag))
        if per_gpu <= usable:
            return Fit(c, usable, t, per_gpu)
    return Fit(c, usable, None, round(allocated(e) / ts[-1] * (1 + frag)))


def fits(e: dict[str, Any], spec: Spec) -> list[Fit]:
    return [fit(e, spec, c) for c in spec.clusters]


@dataclass(frozen=True)
class ServingSummary:
    kind: str
    memory_total: str
    memory_breakdown: str
    gpu_name: str
    usable: str
    gpus_text: str
    cost_text: str
    constraints: Table | None
    risks: list[str]


def _cheapest(options: list[Fit]) -> Fit:
    """The fitting candidate with the lowest hourly cost per replica (the
    spec's first GPU when none fits or no price is known)."""
    priced = [f for f in options if f.tensor_parallel and f.cluster.price_per_gpu_hour is not None]
    if not priced:
        return options[0]
    return min(priced, key=lambda f: (f.tensor_parallel or 0) * (f.cluster.price_per_gpu_hour or 0))


def serving_summary(e: dict[str, Any], plan: Any, spec: Spec) -> ServingSummary:
    i, f = e["inference"], _cheapest(fits(e, spec))
    if f.tensor_parallel is None:
        gpus = f"more than one node of {f.cluster.gpus_per_node} GPUs: it does not fit"
        cost = "No serving cost: the replica does not fit."
    else:
        t = f.tensor_parallel
        gpus = (f"{t} GPU{'s' if t > 1 else ''} per replica (tensor parallel {t},"
                f" {gib(f.per_gpu)} per GPU)")  # fmt: skip
        p = f.cluster.price_per_gpu_hour
        cost = "No price known." if p is None else (
            f"One replica costs {fmt_usd(t * p)} per hour, {fmt_usd(t * p * HOURS_PER_MONTH)}"
            " per 30-day month.")  # fmt: skip
    risks = [
        f"The KV cache grows with batch x tokens: {fmt_int(i['kv_cache_per_token'])} bytes per"
        " token of each sequence; longer contexts or larger batches need more memory.",
        "Serving throughput (tokens/s) is not estimated here; size the replica count from a"
        " load test.",
    ]
    if f.cluster.price_is_indicative and f.cluster.price_per_gpu_hour is not None:
        risks.append("The GPU price is the catalog's indicative figure, not a quote.")
    return ServingSummary(
        kind="inference",
        memory_total=gib(i["total"]),
        memory_breakdown=f"weights {gib(i['weights'])}, KV cache {gib(i['kv_cache'])},"
        f" activations {gib(i['activations'])}, overhead {gib(i['runtime_overhead'])}",
        gpu_name=f.cluster.gpu.name,
        usable=gib(f.usable),
        gpus_text=gpus,
        cost_text=cost,
        constraints=None,
        risks=risks,
    )


def fill_serving_sections(x: Sections, e: dict[str, Any], plan: Any, spec: Spec) -> None:
    rows, notes = [], []
    rate = spec.report.contingency
    for f in fits(e, spec):
        p = f.cluster.price_per_gpu_hour
        t = f.tensor_parallel
        if t is None:
            rows.append((f.cluster.gpu.name, "does not fit", gib(f.per_gpu), "-", "-", "-"))
            continue
        month = None if p is None else t * p * HOURS_PER_MONTH
        rows.append((
            f.cluster.gpu.name, str(t), gib(f.per_gpu),
            "-" if p is None else f"{fmt_usd(p)}/GPU-hour",
            "-" if month is None else fmt_usd(month),
            "-" if month is None else fmt_usd(month * (1 + rate)),
        ))  # fmt: skip
    x.budget = Table(
        ("GPU", "GPUs per replica", "memory per GPU", "unit price", "per 30-day month",
         f"with {fmt_pct(rate, 0)} contingency"),
        tuple(rows), ("l", "r", "r", "l", "r", "r"),
    )  # fmt: skip
    notes.append(f"GPU price: {price_text(fits(e, spec)[0].cluster)}.")
    notes.append(
        "One replica, serving around the clock; multiply by the replica count the load needs."
        f" Contingency {fmt_pct(rate, 0)} (report.contingency)."
    )
    x.budget_notes = notes
