"""Rules on the layout and the run: REC-006 (TP inside a node), REC-008
(does not fit), REC-009 (deadline), REC-010 (budget), REC-011 (no
deadline)."""

from __future__ import annotations

from planner.findings import Finding, ev
from planner.plan.result import Plan
from planner.plan.rules.registry import gpus_text, register
from planner.plan.search import NO_PRICE
from planner.units import fmt_beyond, fmt_bytes, fmt_pct


@register("REC-006", "Narayanan et al. 2021 s3.2, Takeaway #1")
def tp_in_node_pp_across(plan: Plan) -> list[Finding]:
    """Keep tensor parallelism inside a node's NVLink domain; split across
    nodes with pipeline (and data) parallelism.

    TP all-reduces activations twice per layer in forward and backward, so
    it needs the fast intra-node links; pipeline parallelism sends only
    activations at stage boundaries (Narayanan et al. 2021 s3.2, Takeaway
    #1). Fires (warning) when t exceeds the NVLink domain, (info) when a
    model-parallel group spans nodes."""
    lay, cl = plan.layout, plan.cluster
    g = cl.gpu
    evidence = (
        ev("tensor_parallel", lay.t, "GPUs"),
        ev("nvlink_domain", g.nvlink_domain_gpus, "GPUs"),
        ev("intra_node_bandwidth", g.intra_node_gb_s, "GB/s"),
        ev("inter_node_bandwidth", g.inter_node_gb_s, "GB/s"),
    )
    if lay.t > g.nvlink_domain_gpus:
        msg = (
            f"tensor parallel t={lay.t} exceeds the"
            f" {g.nvlink_domain_gpus}-GPU NVLink domain: all-reduces run at"
            f" {g.inter_node_gb_s:g} GB/s instead of {g.intra_node_gb_s:g} GB/s; use"
            " pipeline parallelism across nodes"
        )
        return [Finding("REC-006", "warning", msg, evidence)]
    if lay.t * lay.p > cl.gpus_per_node:
        nodes = -(-lay.t * lay.p // cl.gpus_per_node)
        msg = (
            f"tensor parallel t={lay.t} stays within a node"
            f" ({g.intra_node_gb_s:g} GB/s NVLink); pipeline p={lay.p} spans"
            f" {nodes} nodes ({g.inter_node_gb_s:g} GB/s per GPU)"
        )
        return [Finding("REC-006", "info", msg, (*evidence, ev("pipeline_parallel", lay.p, "")))]
    return []


@register("REC-008", "planner.plan.search.min_gpus_to_fit (the plan's own memory model)")
def cannot_fit(plan: Plan) -> list[Finding]:
    """Say when no layout fits within max_gpus, and give the minimum GPU count.

    The minimum is found by the same memory model over t x p x d with
    ZeRO 1-3, full recompute and micro-batch 1 (planner.plan.search
    .min_gpus_to_fit). Fires when the plan does not fit."""
    if plan.fits:
        return []
    m = plan.memory
    msg = (
        f"does not fit on {gpus_text(plan)} (max_gpus {plan.cluster.max_gpus}): the nearest"
        f" layout needs {fmt_bytes(m.total, 'GiB', 1)} per GPU, {fmt_bytes(-m.margin, 'GiB', 1)}"
        f" over usable {fmt_bytes(m.usable, 'GiB', 1)}"
    )
    evidence = [
        ev("memory_per_gpu", m.total, "bytes"),
        ev("usable_memory_per_gpu", m.usable, "bytes"),
        ev("max_gpus", plan.cluster.max_gpus, "GPUs"),
    ]
    best = plan.min_gpus.get(plan.cluster.gpu.key)
    if best is not None:
        msg += f"; the minimum is {best.gpus} GPUs ({best.describe()})"
        evidence.append(ev("minimum_gpus", best.gpus, "GPUs"))
    else:
        msg += "; no layout fits at this global batch size"
    return [Finding("REC-008", "error", msg, tuple(evidence))]


@register("REC-009", "the plan's time model (docs/plan.md, Time model); linear scaling bound")
def deadline(plan: Plan) -> list[Finding]:
    """Say when the run cannot meet ``constraints.max_days``, and by how much.

    Days = budgeted time (steady / goodput) at the expected MFU. The GPU
    count that would meet it is estimated by linear scaling, a lower bound
    (communication grows with scale). Fires when days > max_days."""
    limit, t = plan.spec.constraints.max_days, plan.expected
    if limit is None or t.days <= limit:
        return []
    need = -(-round(plan.layout.gpus * t.days / limit * 1000) // 1000)
    msg = (
        f"takes {fmt_beyond(t.days, limit)} days > max_days {limit:g}"
        f" ({fmt_beyond(t.days - limit, 0)} days, {fmt_pct(t.days / limit - 1)} over);"
        f" meeting it needs at least about {need} GPUs"
    )
    if need > plan.cluster.max_gpus:
        msg += f", more than cluster.max_gpus {plan.cluster.max_gpus}"
    evidence = (
        ev("days", t.days, "days"),
        ev("max_days", limit, "days"),
        ev("gpus_needed_linear", need, "GPUs"),
    )
    return [Finding("REC-009", "error", msg, evidence)]


@register("REC-010", "budgeted GPU-hours x price per GPU-hour (docs/plan.md)")
def budget(plan: Plan) -> list[Finding]:
    """Say when the expected cost exceeds ``constraints.max_budget_usd``.

    Cost = budgeted GPU-hours x price per GPU-hour (the spec's, or the
    catalog's indicative price). Fires when cost > max_budget_usd, and
    when the GPU has no price (the budget cannot be checked)."""
    limit, usd = plan.spec.constraints.max_budget_usd, plan.expected.usd
    if limit is not None and usd is None:
        msg = f"{NO_PRICE} (USD): constraints.max_budget_usd {limit:,.0f} cannot be checked"
        return [Finding("REC-010", "error", msg, (ev("max_usd", limit, "USD"),))]
    if limit is None or usd is None or usd <= limit:
        return []
    msg = (
        f"expected cost USD {usd:,.0f} > max_budget_usd"
        f" {limit:,.0f} (USD {usd - limit:,.0f}, {fmt_pct(usd / limit - 1)} over)"
    )
    return [Finding("REC-010", "error", msg, (ev("usd", usd, "USD"), ev("max_usd", limit, "USD")))]


LONG_RUN_DAYS = 30.0


@register("REC-011", "cost ~ GPU-hours while days ~ GPU-hours / GPUs (docs/plan.md)")
def no_deadline(plan: Plan) -> list[Finding]:
    """Ask for a deadline when the chosen plan runs long without one.

    Without ``constraints.max_days`` a cost objective (``cheapest``, and
    ``balanced`` within its cost band) favours few
    GPUs: cost barely depends on the GPU count while the run gets longer in
    proportion (cost ~ GPU-hours; days ~ GPU-hours / GPUs). Fires, as a
    warning, when no max_days is set and the plan takes more than 30 days
    (a planning horizon past which the choice should be deliberate), and
    names the fastest fitting plan found with its cost, so the reader can
    set max_days between the two."""
    if plan.spec.constraints.max_days is not None or not plan.fits:
        return []
    days = plan.expected.days
    if days <= LONG_RUN_DAYS or plan.spec.objective not in ("cheapest", "balanced"):
        return []
    timed = [(c, c.time) for c in plan.search.ranked if c.time is not None]
    fastest, t = min(timed, key=lambda ct: ct[1].days)
    cost = "" if t.usd is None or plan.expected.usd is None else (
        f" at USD {t.usd:,.0f} ({fmt_pct(t.usd / plan.expected.usd - 1)} more)"
    )  # fmt: skip
    msg = (
        f"no constraints.max_days: the {plan.spec.objective} plan takes {days:,.1f} days on"
        f" {plan.layout.gpus} GPUs; the fastest found takes {t.days:,.1f} days on"
        f" {fastest.layout.gpus} x {fastest.cluster.gpu.name}{cost}; set max_days to choose"
    )
    evidence = (
        ev("days", days, "days"),
        ev("gpus", plan.layout.gpus, "GPUs"),
        ev("fastest_days", t.days, "days"),
        ev("fastest_gpus", fastest.layout.gpus, "GPUs"),
    )
    return [Finding("REC-011", "warning", msg, evidence)]
