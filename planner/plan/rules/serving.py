"""Rules on serving plans (SRV-001 ...): the same registry habit as the
training rules, over a ``ServingPlan``. Ids are never reused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from planner.findings import Finding, ev
from planner.plan.rules.registry import add_rule
from planner.plan.serving import ServingPlan
from planner.units import fmt_bytes, fmt_pct

ServingRule = Callable[[ServingPlan], list[Finding]]
SERVING_RULES: dict[str, ServingRule] = {}
SERVING_SOURCES: dict[str, str] = {}


def register_serving(rule_id: str, source: str) -> Callable[[ServingRule], ServingRule]:
    return add_rule(SERVING_RULES, SERVING_SOURCES, rule_id, source)


def run_serving_rules(p: ServingPlan) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for rid in sorted(SERVING_RULES):
        out += [replace(f, source=SERVING_SOURCES[rid]) for f in SERVING_RULES[rid](p)]
    return tuple(out)


@register_serving("SRV-001", "Shoeybi et al. 2019 s3 (tensor-parallel head split within a node)")
def does_not_fit(p: ServingPlan) -> list[Finding]:
    """Say when no candidate GPU holds one replica within one node.

    A replica is split by tensor parallelism over at most one node's GPUs
    (t must divide the attention and key/value heads); past that the
    all-reduces would cross the inter-node network every layer. Fires
    (error) when no candidate fits."""
    if any(o.fits for o in p.options):
        return []
    o = p.best
    msg = (
        f"one replica does not fit on any candidate within one node: on {o.cluster.gpu.name}"
        f" at t={o.degree_checked} it needs {fmt_bytes(o.memory.total)} per GPU > usable"
        f" {fmt_bytes(o.usable)}; lower the batch, the context or the weight precision"
    )
    evidence = (
        ev("memory_per_gpu", o.memory.total, "bytes"),
        ev("usable_memory_per_gpu", o.usable, "bytes"),
        ev("tensor_parallel", o.degree_checked, "GPUs"),
    )
    return [Finding("SRV-001", "error", msg, evidence)]


@register_serving("SRV-002", "Pope et al. 2022, Efficiently Scaling Transformer Inference, s2-3")
def kv_bound(p: ServingPlan) -> list[Finding]:
    """Say when the KV cache, not the weights, sizes the replica.

    Each sequence keeps 2 x layers x kv_heads x head_dim x bytes per token
    (Pope et al. 2022 s2); at large batch or long context it outgrows the
    weights, and decode reads it every step. Fires (info) when the chosen
    option's KV cache per GPU exceeds its weights per GPU."""
    o = p.best
    if not o.fits or o.memory.kv_cache <= o.memory.weights:
        return []
    msg = (
        f"KV-bound: the KV cache ({fmt_bytes(o.memory.kv_cache)} per GPU) exceeds the weights"
        f" ({fmt_bytes(o.memory.weights)}); a smaller batch, a shorter context or an 8-bit KV"
        " cache shrinks the replica"
    )
    evidence = (
        ev("kv_cache_per_gpu", o.memory.kv_cache, "bytes"),
        ev("weights_per_gpu", o.memory.weights, "bytes"),
    )
    return [Finding("SRV-002", "info", msg, evidence)]


PREFILL_SHARE = 0.5


@register_serving("SRV-003", "planner.plan.serving (prefill compute-bound, decode bandwidth-bound)")
def prefill_dominates(p: ServingPlan) -> list[Finding]:
    """Say when prefill takes most of a request's time.

    Prefill is compute-bound (2 x active parameters x prompt tokens plus
    attention), decode bandwidth-bound; long prompts with short answers
    spend most of their time in prefill, where more compute (not
    bandwidth) helps. Fires (info) when prefill is over half the request."""
    o = p.best
    if not o.fits or o.request_seconds <= 0:
        return []
    share = o.prefill_seconds / o.request_seconds
    if share <= PREFILL_SHARE:
        return []
    msg = f"prefill dominates: {fmt_pct(share)} of each request's time is the prompt's prefill"
    evidence = (
        ev("prefill_seconds", o.prefill_seconds, "seconds"),
        ev("request_seconds", o.request_seconds, "seconds"),
    )
    return [Finding("SRV-003", "info", msg, evidence)]


@register_serving("SRV-004", "planner/data/gpus.yaml (prices with date and source)")
def unpriced(p: ServingPlan) -> list[Finding]:
    """Say which fitting candidates have no price, so they cannot be ranked
    by cost. Fires (warning) for each fitting GPU without a price."""
    out = []
    for o in p.options:
        if o.fits and o.cluster.price_per_gpu_hour is None:
            msg = f"{o.cluster.gpu.name} has no price: set price_per_gpu_hour to rank it by cost"
            out.append(Finding("SRV-004", "warning", msg, (ev("gpu", o.cluster.gpu.key),)))
    return out


from planner.plan.rules import serving_capacity  # noqa: E402, F401  (registers SRV-005 ...)
