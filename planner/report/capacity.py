"""Report sections and charts for capacity plans (inference.traffic), built
from the serving plan's JSON (planner.plan.capacity_out.capacity_to_dict)."""

from __future__ import annotations

from typing import Any

from planner.report import charts
from planner.report.budget import cluster_for, price_text
from planner.report.records import Sections, Table
from planner.spec.model import Spec
from planner.units import fmt_pct, fmt_usd, plural


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f} ms"


def capacity_texts(plan: dict[str, Any], spec: Spec) -> tuple[str, str]:
    """(GPUs sentence, cost sentence) of the summary."""
    p, cost, lat = plan["plan"], plan["cost"], plan["latency"]
    if p is None:
        return (
            "not enough: no replica fits on any candidate GPU within the cluster",
            "No serving cost: nothing fits.",
        )
    c = cluster_for(spec, p["gpu"])
    head = (
        f"{p['replicas']} replica{'s' if p['replicas'] > 1 else ''} x {p['gpus_per_replica']}"
        f" {c.gpu.name} = {plural(p['gpus'], 'GPU')} (tensor parallel {p['tensor_parallel']},"
        f" {plural(p['pipeline_parallel'], 'pipeline stage')}); p99 TTFT {_ms(lat['ttft_ms'])},"
        " p99 TPOT"
        f" {_ms(lat['tpot_ms'])}"
    )
    if not plan["feasible"]:
        head = "no configuration meets the targets; closest: " + head
    elif plan["capacity"]["why_not_fewer_gpus"]:
        # What sets the GPU count: the search's evidence that fewer GPUs miss.
        head += ". Fewer GPUs miss the targets (" + "; ".join(
            plan["capacity"]["why_not_fewer_gpus"]) + ")"  # fmt: skip
    if cost["usd_per_hour"] is None:
        return head, "No price known."
    money = (
        f"{fmt_usd(cost['usd_per_hour'])} per hour, {fmt_usd(cost['usd_per_month'])} per"
        f" 30-day month ({cost['gpu_hours_per_month']:,} GPU-hours), about"
        f" {fmt_usd(cost['usd_per_million_output_tokens'])} per million output tokens at"
        f" {plan['throughput']['output_tokens_per_second']:,.0f} output tokens/s (estimated)."
    )
    return head, money


def fill_capacity_sections(x: Sections, plan: dict[str, Any], spec: Spec) -> None:
    cap = plan["capacity"]
    rate = spec.report.contingency
    rows = []
    for g in cap["by_gpu"]:
        c = cluster_for(spec, g["gpu"])
        if not g["meets"]:
            rows.append((c.gpu.name, "does not meet the targets", "-", "-", "-", "-"))
            continue
        h = g["usd_per_hour"]
        rows.append(
            (
                c.gpu.name,
                f"{g['replicas']} x {g['gpus_per_replica']} = {g['gpus']}",
                "-" if h is None else fmt_usd(h),
                "-" if h is None else fmt_usd(h * 720),
                "-" if h is None else fmt_usd(h * 720 * (1 + rate)),
                "-"
                if g["usd_per_million_output_tokens"] is None
                else fmt_usd(g["usd_per_million_output_tokens"]),
            )
        )
    x.budget = Table(
        (
            "GPU",
            "replicas x GPUs",
            "per hour",
            "per 30-day month",
            f"with {fmt_pct(rate, 0)} contingency",
            "per 1M output tokens",
        ),
        tuple(rows),
        ("l", "r", "r", "r", "r", "r"),
    )
    cand = []
    for c in cap["candidates"]:
        lat = c["latency"]
        cand.append(
            (
                cluster_for(spec, c["gpu"]).gpu.name,
                f"t={c['tensor_parallel']} p={c['pipeline_parallel']}",
                str(c["replicas"]),
                str(c["max_concurrency"]),
                f"{c['kv_cache_tokens']:,}",
                _ms(lat.get("ttft_ms")),
                _ms(lat.get("tpot_ms")),
                "meets" if c["meets"] else "; ".join(c["misses"]),
            )
        )
    x.alternatives = Table(
        (
            "GPU",
            "replica",
            "replicas",
            "max concurrency",
            "KV tokens",
            "p99 TTFT",
            "p99 TPOT",
            "verdict",
        ),
        tuple(cand),
        ("l", "l", "r", "r", "r", "r", "r", "l"),
    )
    if plan["findings"]:
        x.findings = Table(
            ("rule", "severity", "finding"),
            tuple((f["id"], f["severity"], f["message"]) for f in plan["findings"]),
            ("l", "l", "l"),
        )
    w = spec.inference
    assert w is not None
    notes = [
        "Replicas serve around the clock; load splits evenly; latencies from a queueing"
        " approximation (M/G/inf running sequences, M/D/1 prefill queue; docs/plan.md"
        " 'Serving capacity'): confirm with a load test.",
        f"Engine profile {w.engine} (assumed efficiencies, docs/spec.md);"
        f" gpu_memory_utilization {w.gpu_memory_utilization:g}.",
    ]
    p = plan["plan"]
    if p is not None:
        notes.insert(0, f"GPU price: {price_text(cluster_for(spec, p['gpu']))}.")
    x.budget_notes = notes


def latency_chart(plan: dict[str, Any], spec: Spec) -> tuple[str, str, str] | None:
    cap = plan["capacity"]
    pts = [
        (q["requests_per_second"], q["ttft_ms"], q["tpot_ms"])
        for q in cap["load_curve"]
        if q["stable"] and q["ttft_ms"] is not None
    ]
    if len(pts) < 2:
        return None
    w = spec.inference
    assert w is not None
    slo = w.slo
    rate = plan["throughput"]["requests_per_second"] if plan.get("throughput") else None
    svg = charts.latency_load(pts, slo.ttft_ms if slo else None, slo.tpot_ms if slo else None, rate)
    cap_text = (
        "p99 time to first token and time per output token of the plan's replicas as"
        " the load rises (10% to 150% of the planned rate, dotted; the points end where"
        " the replicas are overloaded); dashed lines are the SLOs."
    )
    return "p99 latency vs load", cap_text, svg


def cost_chart(plan: dict[str, Any], spec: Spec) -> tuple[str, str, str] | None:
    rows = [
        (cluster_for(spec, g["gpu"]).gpu.name, g["usd_per_million_output_tokens"])
        for g in plan["capacity"]["by_gpu"]
        if g["meets"] and g["usd_per_million_output_tokens"] is not None
    ]
    if not rows:
        return None
    text = (
        "USD per million output tokens of the cheapest plan on each GPU type that meets"
        " the targets."
    )
    return "Cost per million output tokens by GPU type", text, charts.cost_bars(rows)
