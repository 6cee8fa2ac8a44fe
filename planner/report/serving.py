"""Report sections for inference specs, built from the serving plan's JSON
(planner.plan.serving.serving_to_dict: GPUs per replica, per-GPU memory,
throughput and cost per candidate GPU type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.report.budget import cluster_for, price_text
from planner.report.records import Sections, Table, gib
from planner.spec.model import Spec
from planner.units import fmt_duration, fmt_int, fmt_pct, fmt_usd


def options(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The best option first, then the other candidate GPU types."""
    best = {**plan["plan"], **plan["throughput"], **plan["cost"]}
    return [best, *plan["alternatives"]]


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


def serving_summary(e: dict[str, Any], plan: dict[str, Any], spec: Spec) -> ServingSummary:
    if "capacity" in plan:
        return _capacity_summary(e, plan, spec)
    i, best = e["inference"], options(plan)[0]
    c = cluster_for(spec, best["gpu"])
    t = best["gpus"]
    if not best["fits"]:
        gpus = f"more than one node of {c.gpus_per_node} GPUs: it does not fit"
        cost = "No serving cost: the replica does not fit."
    else:
        gpus = (f"{t} GPU{'s' if t > 1 else ''} per replica (tensor parallel {t},"
                f" {gib(best['memory_per_gpu']['total'])} per GPU)")  # fmt: skip
        cost = "No price known." if best["usd_per_hour"] is None else (
            f"One replica costs {fmt_usd(best['usd_per_hour'])} per hour,"
            f" {fmt_usd(best['usd_per_month'])} per 30-day month, about"
            f" {fmt_usd(best['usd_per_million_tokens'])} per million generated tokens"
            f" ({best['tokens_per_second']:,.0f} tokens/s, estimated).")  # fmt: skip
    risks = [
        f"The KV cache grows with batch x tokens: {fmt_int(i['kv_cache_per_token'])} bytes per"
        " token of each sequence; longer contexts or larger batches need more memory.",
        "Throughput is a static-batching, memory-bandwidth-bound estimate (decode streams the"
        " weights and KV cache once per token at an assumed 70% of peak bandwidth); confirm"
        " the replica count with a load test.",
    ]
    if c.price_is_indicative and c.price_per_gpu_hour is not None:
        risks.append("The GPU price is the catalog's indicative figure, not a quote.")
    return ServingSummary(
        kind="inference",
        memory_total=gib(i["total"]),
        memory_breakdown=f"weights {gib(i['weights'])}, KV cache {gib(i['kv_cache'])},"
        f" activations {gib(i['activations'])}, overhead {gib(i['runtime_overhead'])}",
        gpu_name=c.gpu.name,
        usable=gib(best["usable_memory_per_gpu"]),
        gpus_text=gpus,
        cost_text=cost,
        constraints=None,
        risks=risks,
    )


def _capacity_summary(e: dict[str, Any], plan: dict[str, Any], spec: Spec) -> ServingSummary:
    from planner.report.capacity import capacity_texts

    i = e["inference"]
    gpus, cost = capacity_texts(plan, spec)
    p = plan["plan"]
    c = cluster_for(spec, p["gpu"] if p else spec.cluster.gpu.key)
    w = spec.inference
    assert w is not None
    budget = int(c.gpu.memory_bytes * w.gpu_memory_utilization)  # what the engine may use
    # The KV cache at the plan's p99 running sequences, each at its longest
    # (p99 prompt + generated tokens): what one replica holds at the peak it
    # is planned for, not the single sequence of the inference estimate.
    running = plan["latency"]["concurrency_p99"] if p else 0.0
    tokens = w.prompt_p99 + w.generated_tokens
    kv = int(running * tokens * i["kv_cache_per_token"])
    total = i["weights"] + kv + i["activations"] + i["runtime_overhead"]
    return ServingSummary(
        kind="inference",
        memory_total=gib(total),
        memory_breakdown=f"weights {gib(i['weights'])}; KV cache {gib(kv)} for"
        f" {running:,.1f} running sequences (p99) of up to {fmt_int(tokens)} tokens at"
        f" {fmt_int(i['kv_cache_per_token'])} bytes per token; activations and runtime"
        f" {gib(i['activations'] + i['runtime_overhead'])}",
        gpu_name=c.gpu.name,
        usable=gib(budget),
        gpus_text=gpus,
        cost_text=cost,
        constraints=None,
        risks=[
            "Latencies come from a queueing approximation of continuous batching and an"
            " assumed engine efficiency; confirm the replica count with a load test.",
            "Traffic is taken as Poisson at the given mean rate: bursts above it raise p99.",
        ],
    )


def fill_serving_sections(x: Sections, e: dict[str, Any], plan: dict[str, Any], spec: Spec
                          ) -> None:  # fmt: skip
    if "capacity" in plan:
        from planner.report.capacity import fill_capacity_sections

        fill_capacity_sections(x, plan, spec)
        return
    rows = []
    rate = spec.report.contingency
    for o in options(plan):
        c = cluster_for(spec, o["gpu"])
        if not o["fits"]:
            rows.append((c.gpu.name, "does not fit", gib(o["memory_per_gpu"]["total"]),
                         "-", "-", "-", "-", "-"))  # fmt: skip
            continue
        p, month = o["price_per_gpu_hour"], o["usd_per_month"]
        rows.append((
            c.gpu.name, str(o["gpus"]), gib(o["memory_per_gpu"]["total"]),
            f"{o['tokens_per_second']:,.0f}",
            "-" if p is None else f"{fmt_usd(p)}/GPU-h",
            "-" if month is None else fmt_usd(month),
            "-" if month is None else fmt_usd(month * (1 + rate)),
            "-" if o["usd_per_million_tokens"] is None else fmt_usd(o["usd_per_million_tokens"]),
        ))  # fmt: skip
    x.budget = Table(
        ("GPU", "GPUs per replica", "memory per GPU", "tokens/s", "unit price",
         "per 30-day month", f"with {fmt_pct(rate, 0)} contingency", "per 1M tokens"),
        tuple(rows), ("l", "r", "r", "r", "l", "r", "r", "r"),
    )  # fmt: skip
    if plan["findings"]:
        x.findings = Table(
            ("rule", "severity", "finding"),
            tuple((f["id"], f["severity"], f["message"]) for f in plan["findings"]),
            ("l", "l", "l"),
        )
    best = options(plan)[0]
    x.budget_notes = [
        f"GPU price: {price_text(cluster_for(spec, best['gpu']))}.",
        "One replica, serving around the clock; multiply by the replica count the load needs."
        f" Contingency {fmt_pct(rate, 0)} (report.contingency).",
        f"Throughput of the best option: prefill {fmt_duration(best['prefill_seconds'])}, decode"
        f" step {best['decode_step_seconds'] * 1e3:,.1f} ms, one request of the spec's batch"
        f" {fmt_duration(best['request_seconds'])} (planner.plan.serving; docs/plan.md).",
    ]
