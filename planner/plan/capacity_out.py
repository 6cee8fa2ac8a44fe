"""JSON and text of a capacity plan (planner.plan.capacity); keys in docs/plan.md."""

from __future__ import annotations

from typing import Any

from planner.plan.capacity import HOURS_PER_MONTH, Candidate, CapacityPlan, order_key
from planner.plan.queueing import LoadPoint
from planner.units import fmt_bytes, fmt_usd, plural


def _ms(x: float | None) -> float | None:
    return None if x is None or x == float("inf") else x * 1e3


def _point(p: LoadPoint | None) -> dict[str, Any]:
    if p is None:
        return {"stable": False}
    return {
        "requests_per_second_per_replica": p.rate,
        "stable": p.stable,
        "concurrency": None if not p.stable else p.concurrency,
        "concurrency_p99": None if not p.stable else p.concurrency_p99,
        "prefill_share": None if not p.stable else p.prefill_share,
        "ttft_ms": _ms(p.ttft_p99),
        "tpot_ms": _ms(p.tpot_p99),
        "ttft_ms_p50": _ms(p.ttft_p50),
        "tpot_ms_p50": _ms(p.tpot_p50),
    }


def candidate_dict(c: Candidate) -> dict[str, Any]:
    r, w = c.replica, c.replica.spec.inference
    assert w is not None
    m = r.memory
    return {
        "gpu": r.cluster.gpu.key,
        "tensor_parallel": r.tp,
        "pipeline_parallel": r.pp,
        "gpus_per_replica": r.gpus,
        "replicas": c.replicas,
        "gpus": c.gpus,
        "max_concurrency": c.max_concurrency,
        "kv_cache_tokens": m.kv_tokens,
        "kv_cache_blocks": m.kv_blocks,
        "block_size": m.block_size,
        "kv_profile_per_gpu": {
            "budget": m.budget,
            "weights": m.weights,
            "workspace": m.workspace,
            "runtime": m.runtime,
            "kv_cache": max(m.kv_cache, 0),
        },
        "requests_per_second": c.rate,
        "meets": c.meets,
        "misses": list(c.misses),
        "fewer_replicas_misses": list(c.fewer),
        "latency": _point(c.point),
        "usd_per_hour": c.usd_per_hour,
        "usd_per_million_output_tokens": c.usd_per_million(w.generated_tokens),
    }


def capacity_to_dict(p: CapacityPlan) -> dict[str, Any]:
    """The keys a capacity plan adds to ``planner plan --format json`` (docs/plan.md)."""
    w = p.spec.inference
    assert w is not None
    shown = p.best or (p.closest[0] if p.closest else None)
    d = candidate_dict(shown) if shown else None
    g, pm = w.generated_tokens, w.prompt_mean
    out: dict[str, Any] = {"feasible": p.feasible}
    if d is not None and shown is not None:
        r = shown.replica
        rate = shown.rate
        hour = shown.usd_per_hour
        out["plan"] = {
            k: d[k]
            for k in (
                "gpu",
                "replicas",
                "gpus",
                "gpus_per_replica",
                "tensor_parallel",
                "pipeline_parallel",
                "max_concurrency",
                "kv_cache_tokens",
                "kv_cache_blocks",
                "block_size",
                "kv_profile_per_gpu",
            )
        }
        out["plan"]["nodes_per_replica"] = -(-r.gpus // r.cluster.gpus_per_node)
        out["plan"]["engine"] = r.eff.engine
        out["throughput"] = {
            "requests_per_second": rate,
            "output_tokens_per_second": rate * g,
            "input_tokens_per_second": rate * pm,
            "prefill_seconds_per_prompt": r.prefill_seconds(pm),
            "decode_step_seconds_batch_1": r.decode_step_seconds(1, pm + g / 2),
        }
        lat = d["latency"]
        out["latency"] = {
            k: lat.get(k)
            for k in (
                "ttft_ms",
                "tpot_ms",
                "ttft_ms_p50",
                "tpot_ms_p50",
                "concurrency",
                "concurrency_p99",
            )
        }
        out["latency"]["slo_ttft_ms"] = w.slo.ttft_ms if w.slo else None
        out["latency"]["slo_tpot_ms"] = w.slo.tpot_ms if w.slo else None
        out["cost"] = {
            "usd_per_hour": hour,
            "usd_per_month": None if hour is None else hour * HOURS_PER_MONTH,
            "gpu_hours_per_month": shown.gpus * HOURS_PER_MONTH,
            "usd_per_million_output_tokens": shown.usd_per_million(g),
            "usd_per_million_input_tokens": shown.usd_per_million(pm),
            "usd_per_million_input_and_output_tokens": shown.usd_per_million(pm + g),
            "price_per_gpu_hour": r.cluster.price_per_gpu_hour,
            "price_source": r.cluster.price_source,
            "max_budget_usd_per_month": p.spec.constraints.max_budget_usd,
        }
    if shown is not None:
        e = shown.replica.eff
        out["engine_profile"] = {
            "engine": e.engine,
            "prefill_mfu": e.prefill_mfu,
            "decode_bandwidth": e.decode_bandwidth,
            "runtime_bytes": e.runtime_bytes,
            "max_num_batched_tokens": e.max_num_batched_tokens,
            "max_num_seqs": e.max_num_seqs,
            "block_size": e.block_size,
            "source": e.source,
        }
    out["why_not_fewer_gpus"] = why_not_fewer(p, shown) if shown is not None else []
    out["candidates"] = [candidate_dict(c) for c in p.candidates]
    out["closest"] = [] if p.feasible else [candidate_dict(c) for c in p.closest]
    out["load_curve"] = [
        {"requests_per_second": pt.rate * (shown.replicas if shown else 1), **_point(pt)}
        for pt in p.load_curve
    ]
    out["by_gpu"] = _by_gpu(p)
    return out


def why_not_fewer(p: CapacityPlan, shown: Candidate) -> list[str]:
    """Why no configuration of the plan's GPU type with fewer GPUs serves
    the traffic: for each replica shape, what the largest replica count
    under the plan's GPU count misses (the search's own evidence: a shape
    that does not fit, or one replica fewer than it needs)."""
    out = []
    key = shown.replica.cluster.gpu.key
    for c in p.candidates:
        r = c.replica
        if r.cluster.gpu.key != key or r.gpus >= shown.gpus:
            continue
        shape = f"t={r.tp}, p={r.pp}"
        if c.replicas == 0 or not c.meets:
            out.append(f"{shape}: {'; '.join(c.misses)}")
        elif c.fewer and (c.replicas - 1) * r.gpus < shown.gpus:
            n = c.replicas - 1
            out.append(f"{n} x {plural(r.gpus, 'GPU')} ({shape}): {'; '.join(c.fewer)}")
    return out


def _by_gpu(p: CapacityPlan) -> list[dict[str, Any]]:
    """The cheapest meeting candidate of each GPU type (cost per 1M tokens by GPU)."""
    w = p.spec.inference
    assert w is not None
    out = []
    for key in dict.fromkeys(c.replica.cluster.gpu.key for c in p.candidates):
        mine = [c for c in p.candidates if c.replica.cluster.gpu.key == key and c.meets]
        if not mine:
            out.append({"gpu": key, "meets": False})
            continue
        c = min(mine, key=order_key)
        out.append(
            {
                "gpu": key,
                "meets": True,
                "gpus": c.gpus,
                "replicas": c.replicas,
                "gpus_per_replica": c.replica.gpus,
                "usd_per_hour": c.usd_per_hour,
                "usd_per_million_output_tokens": c.usd_per_million(w.generated_tokens),
            }
        )
    return out


def _line(c: Candidate, unit: str) -> str:
    r = c.replica
    head = f"{c.replicas} x {r.gpus} {r.cluster.gpu.name} (t={r.tp}, p={r.pp}), {c.gpus} GPUs"
    if c.replicas == 0:
        return f"{r.gpus} x {r.cluster.gpu.name} (t={r.tp}, p={r.pp}): {'; '.join(c.misses)}"
    pt = c.point
    lat = ""
    if pt is not None and pt.stable:
        lat = (
            f"; p99 TTFT {pt.ttft_p99 * 1e3:,.0f} ms, p99 TPOT {pt.tpot_p99 * 1e3:,.1f} ms,"
            f" {pt.concurrency:,.1f} running sequences per replica"
        )
    cost = "" if c.usd_per_hour is None else f"; {fmt_usd(c.usd_per_hour)}/h"
    tail = "" if c.meets else f"  -- misses: {'; '.join(c.misses)}"
    per_gpu = fmt_bytes(max(r.memory.kv_cache, 0), unit)
    kv = f"; KV cache {r.memory.kv_tokens:,} tokens ({per_gpu}/GPU)"
    return head + lat + cost + kv + tail


def render_capacity(p: CapacityPlan, unit: str = "GiB") -> list[str]:
    w = p.spec.inference
    assert w is not None and w.traffic is not None
    rps = w.traffic.requests_per_second
    slo = w.slo
    target = "max" if rps == "max" else f"{rps:g} requests/s"
    slos = (
        ", ".join(
            x
            for x in (
                f"p99 TTFT <= {slo.ttft_ms:g} ms" if slo and slo.ttft_ms else "",
                f"p99 TPOT <= {slo.tpot_ms:g} ms" if slo and slo.tpot_ms else "",
            )
            if x
        )
        or "no SLO"
    )
    out = [
        "",
        f"Capacity plan ({w.engine} profile, gpu_memory_utilization {w.gpu_memory_utilization:g}):"
        f" {target}, prompts {w.prompt_mean:,} tokens (p99 {w.prompt_p99:,}),"
        f" {w.generated_tokens:,} generated; {slos}",
    ]
    b = p.best
    if b is not None:
        g = w.generated_tokens
        out.append(f"  plan: {_line(b, unit)}")
        out.append(
            f"  {b.rate:,.2f} requests/s, {b.rate * g:,.0f} output tokens/s"
            + (
                ""
                if b.usd_per_hour is None
                else f"; {fmt_usd(b.usd_per_hour * HOURS_PER_MONTH)} per 30-day month,"
                f" {fmt_usd(b.usd_per_million(g) or 0)} per million output tokens,"
                f" {fmt_usd(b.usd_per_million(w.prompt_mean + g) or 0)} per million tokens in+out"
            )
        )
    else:
        out.append("  no configuration meets the targets; the closest:")
        out += [f"    {_line(c, unit)}" for c in p.closest]
    others = [c for c in p.candidates if c.meets and c is not b]
    if others:
        out.append("  also meet the targets:")
        out += [f"    {_line(c, unit)}" for c in others]
    rejected = [c for c in p.candidates if not c.meets]
    if rejected and b is not None:
        out.append("  rejected:")
        out += [f"    {_line(c, unit)}" for c in rejected]
    out.append(
        "  Latencies: queueing approximation (M/G/inf concurrency, M/D/1 prefill queue;"
        " docs/plan.md 'Serving capacity'); confirm with a load test."
    )
    return out
