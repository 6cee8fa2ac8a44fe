"""Plain text of a serving plan (``planner plan`` on an inference spec)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.plan.capacity_out import render_capacity

if TYPE_CHECKING:
    from planner.plan.serving import ServingPlan


def render_serving(p: ServingPlan, unit: str = "GiB") -> str:
    """Plain-text summary of a serving plan (``planner plan`` on an inference spec)."""
    from planner.units import fmt_bytes, fmt_duration, fmt_usd

    w = p.spec.inference
    assert w is not None
    if p.capacity is not None:  # traffic: the capacity plan replaces the one-replica view
        out = [f"{p.spec.title}  ({p.spec.source})", *render_capacity(p.capacity, unit)]
        if p.findings:
            out += ["", "Findings:"] + [f"  {f.id} [{f.severity}] {f.message}" for f in p.findings]
        out += ["", "Sizes: GiB = 2^30 bytes, GB = 1e9 bytes."]
        return "\n".join(out)
    out = [
        f"{p.spec.title}  ({p.spec.source})",
        "",
        f"Serving one replica: batch {w.batch_size}, {w.prompt_mean} prompt +"
        f" {w.generated_tokens} generated tokens, {w.weight_precision} weights,"
        f" {w.kv_cache_precision} KV cache; replica memory {fmt_bytes(p.memory.total_before_overhead, unit)}"  # noqa: E501
        " before per-GPU overheads",
    ]
    for o in sorted(p.options, key=lambda o: o is not p.best):
        mark = "best" if o is p.best else "alternative"
        if not o.fits:
            out.append(
                f"  [{mark}] {o.cluster.gpu.name}: does not fit in one node of"
                f" {o.cluster.gpus_per_node} GPUs ({fmt_bytes(o.memory.total, unit)} per GPU at"
                f" t={o.degree_checked} > usable {fmt_bytes(o.usable, unit)})"
            )
            continue
        m = o.memory
        cost = (
            "no price" if o.usd_per_hour is None
            else f"{fmt_usd(o.usd_per_hour)}/h, {fmt_usd(o.usd_per_million_tokens or 0)} per"
            " million generated tokens"
        )  # fmt: skip
        out += [
            f"  [{mark}] {o.degree_checked} x {o.cluster.gpu.name} (tensor parallel"
            f" {o.degree_checked}): {fmt_bytes(m.total, unit)} of usable"
            f" {fmt_bytes(o.usable, unit)} per GPU (weights {fmt_bytes(m.weights, unit)}, KV cache"
            f" {fmt_bytes(m.kv_cache, unit)}, activations {fmt_bytes(m.activations, unit)},"
            f" fragmentation {fmt_bytes(m.other, unit)})",
            f"      prefill {fmt_duration(o.prefill_seconds)}, decode step"
            f" {o.decode_step_seconds * 1e3:,.1f} ms, {o.tokens_per_second:,.0f} generated"
            f" tokens/s per replica; {cost}",
        ]
    one = p.one_replica
    if one is not None and p.best.fits:
        out.append(
            f"  One replica of the best option, KV cache as vLLM profiles it at"
            f" gpu_memory_utilization {w.gpu_memory_utilization:g}: {one['kv_cache_tokens']:,}"
            f" tokens, i.e. up to {one['max_concurrency']:,} sequences of"
            f" {w.prompt_p99 + w.generated_tokens:,} tokens, or one context of"
            f" {one['max_context_tokens']:,} tokens (the longest that fits, within the model's"
            " positions)"
        )
    if p.findings:
        out += ["", "Findings:"] + [f"  {f.id} [{f.severity}] {f.message}" for f in p.findings]
    out.append("")
    out.append(
        "Throughput is a static-batching, bandwidth-bound estimate (docs/plan.md, 'Serving');"
        " confirm with a load test. Sizes: GiB = 2^30 bytes, GB = 1e9 bytes."
    )
    return "\n".join(out)
