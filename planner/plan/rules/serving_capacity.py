"""Rules on capacity plans (inference.traffic) and serving budgets:
SRV-005 ... (registered into the serving registry)."""

from __future__ import annotations

from planner.findings import Finding, ev
from planner.plan.capacity import HOURS_PER_MONTH
from planner.plan.rules.serving import register_serving
from planner.plan.serving import ServingPlan
from planner.units import fmt_pct, fmt_usd


@register_serving("SRV-005", "planner.plan.capacity (search) and planner.plan.queueing")
def slo_missed(p: ServingPlan) -> list[Finding]:
    """Say when no configuration serves the traffic within the SLOs.

    The search tries every GPU type, replica shape and replica count up to
    the cap; when none meets the p99 TTFT and TPOT targets (or is stable at
    the load), this names the closest candidate and what it misses. Fires
    (error) when the capacity plan is infeasible; ``planner plan`` exits 1."""
    cap = p.capacity
    if cap is None or cap.feasible:
        return []
    near = cap.closest
    if not near:
        msg = "no replica shape fits on any candidate GPU (see the candidates' reasons)"
        return [Finding("SRV-005", "error", msg, ())]
    c = near[0]
    msg = (
        f"no configuration meets the targets; closest: {c.replicas} x {c.replica.gpus}"
        f" {c.replica.cluster.gpu.name} misses: {'; '.join(c.misses)}"
    )
    return [Finding("SRV-005", "error", msg, (ev("gpus", c.gpus, "GPUs"),))]


PREFILL_SHARE = 0.5


@register_serving("SRV-006", "Agrawal et al. 2024 (Sarathi-Serve): prefill is compute-bound")
def prefill_dominates_load(p: ServingPlan) -> list[Finding]:
    """Say when prompt prefill takes most of each replica's time at the load.

    rho_p = arrival rate per replica x prefill seconds per prompt
    (planner.plan.queueing). Above one half, compute (FLOP/s), not memory
    bandwidth, sizes the fleet: a GPU with more FLOP/s or shorter prompts
    (prefix caching) helps most. Fires (info) when rho_p > 0.5."""
    cap = p.capacity
    b = cap.best if cap is not None else None
    if b is None or b.point is None or b.point.prefill_share <= PREFILL_SHARE:
        return []
    share = b.point.prefill_share
    msg = f"prefill dominates: {fmt_pct(share)} of each replica's time is prompt prefill"
    return [Finding("SRV-006", "info", msg, (ev("prefill_share", share),))]


@register_serving("SRV-007", "Kwon et al. 2023 (PagedAttention) s4; vllm/worker/worker.py")
def kv_bound_concurrency(p: ServingPlan) -> list[Finding]:
    """Say when the KV cache, not the scheduler, caps concurrency.

    Max concurrency = KV blocks / blocks per sequence (p99 prompt +
    generated). Fires (info) when that is below the engine's max_num_seqs
    and the p99 running sequences reach 80% of it: a larger
    gpu_memory_utilization, an 8-bit KV cache or more tensor parallelism
    raises it."""
    cap = p.capacity
    b = cap.best if cap is not None else None
    if b is None or b.point is None:
        return []
    if b.max_concurrency >= b.replica.eff.max_num_seqs:
        return []
    if b.point.concurrency_p99 < 0.8 * b.max_concurrency:
        return []
    msg = (
        f"KV-bound: the KV cache holds {b.max_concurrency} sequences per replica and p99"
        f" concurrency is {b.point.concurrency_p99:.1f}"
    )
    evidence = (
        ev("max_concurrency", b.max_concurrency, "sequences"),
        ev("kv_cache_tokens", b.replica.memory.kv_tokens, "tokens"),
    )
    return [Finding("SRV-007", "info", msg, evidence)]


@register_serving("SRV-008", "constraints.max_budget_usd (USD per 30-day month on inference)")
def over_budget(p: ServingPlan) -> list[Finding]:
    """Say when serving costs more per 30-day month than the budget.

    On an inference spec constraints.max_budget_usd is USD per 30-day month
    of serving: replicas x GPUs x price x 720 h. With traffic the search
    rejects candidates over it (SRV-005 then fires when all are); without,
    the one-replica plan is judged. Fires (error) when the chosen plan is
    over budget; ``planner plan`` exits 1."""
    budget = p.spec.constraints.max_budget_usd
    if budget is None:
        return []
    if p.capacity is not None:
        over = [c for c in p.capacity.candidates if any("budget" in m for m in c.misses)]
        if p.capacity.feasible or not over:
            return []
        month = min(c.usd_per_month or 0.0 for c in over)
    else:
        h = p.best.usd_per_hour
        if h is None or h * HOURS_PER_MONTH <= budget:
            return []
        month = h * HOURS_PER_MONTH
    msg = f"over budget: {fmt_usd(month)} per 30-day month > {fmt_usd(budget)}"
    return [Finding("SRV-008", "error", msg, (ev("usd_per_month", month, "USD"),))]


@register_serving("SRV-009", "Shoeybi et al. 2019 s3; Narayanan et al. 2021 (PTD-P)")
def replica_spans_nodes(p: ServingPlan) -> list[Finding]:
    """Say when one replica spans nodes.

    Tensor parallelism stays inside a node (its all-reduces run every
    layer); a replica too large for one node adds pipeline stages across
    nodes, whose hand-offs cross the inter-node network each step and which
    add memory, not decode speed. Fires (warning) when the plan's replica
    has more than one node's GPUs."""
    cap = p.capacity
    b = cap.best if cap is not None else None
    if b is None or b.replica.gpus <= b.replica.cluster.gpus_per_node:
        return []
    r = b.replica
    msg = (
        f"one replica spans {-(-r.gpus // r.cluster.gpus_per_node)} nodes"
        f" ({r.pp} pipeline stages of t={r.tp}); stage hand-offs use the inter-node network"
    )
    return [Finding("SRV-009", "warning", msg, (ev("gpus_per_replica", r.gpus, "GPUs"),))]
