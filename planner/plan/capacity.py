"""Serving capacity from traffic and latency targets (inference.traffic).

Search: GPU type x replica shape (tensor parallel t within a node, pipeline
stages p across nodes; planner.plan.roofline.shapes) x replicas. For each
shape the max concurrency is the fixed ``inference.batch_size`` when given,
else the sequences of p99 prompt + generated tokens the KV cache holds
(vLLM's "maximum concurrency" figure), capped at the engine's
``max_num_seqs``. Load splits evenly over the replicas; latencies come from
planner.plan.queueing. A candidate meets the targets when its replica is
stable, its p99 concurrency stays within the max concurrency, p99 TTFT and
TPOT are within the SLOs and its monthly cost within
``constraints.max_budget_usd`` (USD per 30-day month on an inference spec).
Feasibility only improves with more replicas, so the fewest replicas is
found by bisection, up to ``cluster.max_gpus`` (default 1,024 GPUs for a
numeric rate; one node, the given cluster, for "max").

The plan is the cheapest candidate per hour that meets the targets (fewest
GPUs when none is priced). With ``requests_per_second: max`` the replicas
are those that fit the cluster and the rate is the largest, found by
bisection, at which each replica still meets the targets; the plan is the
cheapest per million output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.estimate.params import ParameterCounts
from planner.plan.queueing import LoadPoint, load_point
from planner.plan.roofline import Replica, make_replica, shapes
from planner.spec.model import Spec

SEARCH_MAX_GPUS = 1024  # default cap of a numeric-rate search (cluster.max_gpus overrides)
HOURS_PER_MONTH = 30 * 24
BISECTIONS = 40


@dataclass(frozen=True)
class Candidate:
    replica: Replica
    max_concurrency: int
    replicas: int  # 0: none fits
    rate: float  # requests per second over all replicas
    point: LoadPoint | None  # per replica at rate / replicas
    meets: bool
    misses: tuple[str, ...]  # why it fails (empty when it meets)
    fewer: tuple[str, ...] = ()  # why one replica fewer fails (meeting, more than one replica)

    @property
    def gpus(self) -> int:
        return self.replicas * self.replica.gpus

    @property
    def usd_per_hour(self) -> float | None:
        p = self.replica.cluster.price_per_gpu_hour
        return None if p is None else p * self.gpus

    @property
    def usd_per_month(self) -> float | None:
        h = self.usd_per_hour
        return None if h is None else h * HOURS_PER_MONTH

    def usd_per_million(self, tokens_per_request: int) -> float | None:
        h = self.usd_per_hour
        if h is None or self.rate <= 0:
            return None
        return h / (self.rate * tokens_per_request * 3600) * 1e6

    @property
    def slo_ratio(self) -> float:
        """Worst of p99 TTFT / SLO and p99 TPOT / SLO (closest plans first)."""
        w = self.replica.spec.inference
        assert w is not None
        pt = self.point
        if pt is None or not pt.stable:
            return float("inf")
        r = [0.0]
        if w.slo and w.slo.ttft_ms:
            r.append(pt.ttft_p99 * 1e3 / w.slo.ttft_ms)
        if w.slo and w.slo.tpot_ms:
            r.append(pt.tpot_p99 * 1e3 / w.slo.tpot_ms)
        return max(r)


@dataclass(frozen=True)
class CapacityPlan:
    spec: Spec
    candidates: tuple[Candidate, ...]
    best: Candidate | None  # None: no candidate meets the targets
    load_curve: tuple[LoadPoint, ...]  # the best (or closest) replica at rising load

    @property
    def feasible(self) -> bool:
        return self.best is not None

    @property
    def closest(self) -> tuple[Candidate, ...]:
        """The candidates nearest to the targets when none meets them."""
        fit = [c for c in self.candidates if c.replicas > 0]
        return tuple(sorted(fit, key=lambda c: (c.slo_ratio, c.gpus))[:3])


def _misses(
    spec: Spec, r: Replica, mc: int, pt: LoadPoint, replicas: int, budget_check: bool = True
) -> tuple[str, ...]:
    w = spec.inference
    assert w is not None
    out = []
    if not pt.stable:
        return (f"overloaded at {pt.rate:.3g} requests/s per replica: {pt.reason}",)
    if pt.concurrency_p99 > mc:
        out.append(f"p99 concurrency {pt.concurrency_p99:.1f} > max concurrency {mc}")
    if w.slo and w.slo.ttft_ms and pt.ttft_p99 * 1e3 > w.slo.ttft_ms:
        out.append(f"p99 TTFT {pt.ttft_p99 * 1e3:,.0f} ms > SLO {w.slo.ttft_ms:g} ms")
    if w.slo and w.slo.tpot_ms and pt.tpot_p99 * 1e3 > w.slo.tpot_ms:
        out.append(f"p99 TPOT {pt.tpot_p99 * 1e3:,.1f} ms > SLO {w.slo.tpot_ms:g} ms")
    budget = spec.constraints.max_budget_usd
    price = r.cluster.price_per_gpu_hour
    if budget_check and budget is not None and price is not None:
        month = price * r.gpus * replicas * HOURS_PER_MONTH
        if month > budget:
            out.append(f"USD {month:,.0f} per month > budget USD {budget:,.0f}")
    return tuple(out)


def _max_concurrency(r: Replica) -> int:
    w = r.spec.inference
    assert w is not None
    fits = r.max_sequences(w.prompt_p99 + w.generated_tokens)
    if w.fixed_concurrency is not None:
        return w.fixed_concurrency if fits >= w.fixed_concurrency else 0
    return min(fits, r.eff.max_num_seqs)


def _no_fit(r: Replica, mc: int) -> Candidate:
    w = r.spec.inference
    assert w is not None
    need = w.prompt_p99 + w.generated_tokens
    m = r.memory
    why = (
        f"does not fit: {m.weights / 1e9:,.1f} GB weights + {m.workspace / 1e9:,.1f} GB"
        f" workspace + {m.runtime / 1e9:,.1f} GB runtime per GPU leave"
        f" {max(m.kv_cache, 0) / 1e9:,.2f} GB of the {m.budget / 1e9:,.1f} GB budget"
        f" (gpu_memory_utilization) for the KV cache: {m.kv_tokens:,} tokens,"
        f" {mc} sequences of {need:,} tokens"
    )
    if w.fixed_concurrency is not None:
        why += f" (batch_size {w.fixed_concurrency})"
    return Candidate(r, mc, 0, 0.0, None, False, (why,))


def _for_rate(spec: Spec, r: Replica, mc: int, rate: float, cap: int) -> Candidate:
    def at(n: int, budget_check: bool = False) -> Candidate:
        pt = load_point(r, rate / n, mc)
        miss = _misses(spec, r, mc, pt, n, budget_check)
        return Candidate(r, mc, n, rate, pt, not miss, miss)

    hi = max(cap // r.gpus, 1)
    top = at(hi)
    if not top.meets:  # more replicas would not help within the cap
        c = at(hi, True)
        cap_note = f"even at {hi} replicas ({hi * r.gpus} GPUs, the search cap)"
        return Candidate(r, mc, hi, rate, c.point, False, (*c.misses, cap_note))
    lo = 1
    while lo < hi:  # smallest n that meets the targets
        mid = (lo + hi) // 2
        if at(mid).meets:
            hi = mid
        else:
            lo = mid + 1
    best = at(lo, True)  # the budget rises with replicas: checked on the fewest that serve
    if lo > 1 and best.meets:  # the evidence for not fewer: one replica less misses
        best = replace(best, fewer=at(lo - 1).misses)
    return best


def _for_max(spec: Spec, r: Replica, mc: int, cap: int) -> Candidate:
    n = cap // r.gpus
    if n < 1:
        return Candidate(r, mc, 0, 0.0, None, False, (f"needs {r.gpus} GPUs > cluster {cap}",))
    w = spec.inference
    assert w is not None
    hi = 1.0 / r.prefill_seconds(w.prompt_mean)  # prefill alone saturates here
    lo = 0.0
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        pt = load_point(r, mid, mc)
        lo, hi = (mid, hi) if not _misses(spec, r, mc, pt, n) else (lo, mid)
    if lo <= 0:
        pt = load_point(r, hi, mc)
        return Candidate(r, mc, n, 0.0, pt, False, _misses(spec, r, mc, pt, n))
    pt = load_point(r, lo, mc)
    return Candidate(r, mc, n, lo * n, pt, True, ())


def _curve(c: Candidate) -> tuple[LoadPoint, ...]:
    """p99 latency of the candidate's replica from 10% to 150% of its load."""
    if c.replicas == 0 or c.point is None:
        return ()
    base = c.rate / c.replicas if c.rate > 0 else c.point.rate
    return tuple(load_point(c.replica, base * f / 10, c.max_concurrency) for f in range(1, 16))


def order_key(c: Candidate) -> tuple[float, int, float]:
    """Cheapest per hour, then fewest GPUs, then lowest p99 TTFT."""
    hour = c.usd_per_hour if c.usd_per_hour is not None else float("inf")
    return (hour, c.gpus, c.point.ttft_p99 if c.point else 0.0)


def make_capacity_plan(spec: Spec, counts: ParameterCounts) -> CapacityPlan:
    w = spec.inference
    assert w is not None and w.traffic is not None
    rps = w.traffic.requests_per_second
    out: list[Candidate] = []
    for c in spec.clusters:
        given = rps == "max" or c.max_gpus_given  # "max": the given cluster
        cap = c.max_gpus if given else SEARCH_MAX_GPUS
        fits_a_node = False
        for tp, pp in shapes(spec, c, cap):
            if pp > 1 and fits_a_node:
                break  # pipeline stages only for replicas too large for one node
            r = make_replica(spec, counts, c, tp, pp)
            mc = _max_concurrency(r)
            fits_a_node = fits_a_node or (mc >= 1 and pp == 1)
            if mc < 1:
                out.append(_no_fit(r, mc))
            elif rps == "max":
                out.append(_for_max(spec, r, mc, cap))
            else:
                out.append(_for_rate(spec, r, mc, float(rps), cap))
    meeting = [c for c in out if c.meets]
    best: Candidate | None = None
    tokens = w.generated_tokens
    if meeting:
        if rps == "max":
            best = min(meeting, key=lambda c: (c.usd_per_million(tokens) or float("inf"), -c.rate))
        else:
            best = min(meeting, key=order_key)
    plan = CapacityPlan(spec, tuple(out), best, ())
    shown = best or (plan.closest[0] if plan.closest else None)
    return CapacityPlan(spec, tuple(out), best, _curve(shown) if shown else ())
