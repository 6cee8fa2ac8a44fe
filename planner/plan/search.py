"""Enumerate parallel layouts, keep those that fit, rank by the objective.

A pure function of the spec (``search``). Valid layouts (Narayanan et al.
2021 s3; Megatron-LM argument checks): t divides the attention heads and
the key/value heads and t <= GPUs per node; p divides the layers (Megatron
allows uneven splits; only divisors are searched); the global batch B is a
multiple of b * d; GPUs = t * p * d * c <= max_gpus. For each (t, p, d,
ZeRO stage, micro-batch) recompute modes are tried in the order none,
selective, full and the first that fits is kept (a heavier recompute of the
same layout is only slower). CPU offload is searched only when nothing fits
without it (it is for a capped GPU count). Keys fixed in the spec's
``parallelism:`` section are not searched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from planner.errors import PlannerError
from planner.estimate.compute import Flops
from planner.plan.layout import RECOMPUTE_MODES, Layout
from planner.plan.memory import GpuMemory, PlanModel, gpu_memory, states_lower_bound
from planner.plan.offload import HostMemory, host_memory
from planner.plan.timing import RunTime, run_time
from planner.spec.model import ClusterChoice
from planner.units import fmt_beyond, fmt_bytes

MAX_MICRO_BATCH = 8


@dataclass(frozen=True)
class Candidate:
    cluster: ClusterChoice
    layout: Layout
    memory: GpuMemory | None  # None when model states alone do not fit
    states_bytes: int
    time: RunTime | None  # expected MFU; None when it does not fit
    usable: int
    reason: str = ""  # why it fails (memory or constraints); "" when it passes
    host: HostMemory | None = None  # set when CPU offload's host RAM does not fit

    @property
    def fits(self) -> bool:
        host_ok = self.host is None or self.host.fits
        return self.memory is not None and self.memory.fits and host_ok

    @property
    def over_bytes(self) -> int:
        need = self.memory.total if self.memory else self.states_bytes
        host_over = self.host.total - self.host.usable if self.host else 0
        return max(need - self.usable, host_over)


@dataclass(frozen=True)
class SearchResult:
    ranked: tuple[Candidate, ...]  # fitting candidates, best first
    near_misses: tuple[Candidate, ...]
    evaluated: int


def divisors(n: int) -> list[int]:
    """Divisors of n in ascending order, in O(sqrt n)."""
    small, large = [], []
    k = 1
    while k * k <= n:
        if n % k == 0:
            small.append(k)
            if k * k != n:
                large.append(n // k)
        k += 1
    return small + large[::-1]


def _options(fixed: Any, key: str, default: list[Any]) -> list[Any]:
    value = getattr(fixed, key, None) if fixed is not None else None
    return [value] if value is not None else default


def _zero_options(fixed: Any, stages: list[int], d: int, per_node: int) -> list[tuple[int, int]]:
    """(ZeRO stage, shard group) pairs: sharding over all d ranks, and, for
    ZeRO >= 1 when d spans nodes, hybrid sharding within a node's
    data-parallel ranks (FSDP HYBRID_SHARD / MiCS)."""
    given = getattr(fixed, "zero_shard_group", None) if fixed is not None else None
    if given is not None:  # fixed in the spec: only that (when it divides d)
        return [(z, given) for z in stages if given == 0 or d % given == 0]
    out = []
    for z in stages:
        out.append((z, 0))
        if z > 0 and 1 < per_node < d and d % per_node == 0:
            out.append((z, per_node))
    return out


def _model_parallel(pm: PlanModel, cl: ClusterChoice) -> list[tuple[int, int, int, int]]:
    """(t, p, c, e) combinations allowed by the model and the spec."""
    a, f = pm.arch, pm.spec.parallelism
    ts = [
        t
        for t in divisors(a.num_attention_heads)
        if a.num_key_value_heads % t == 0 and t <= cl.gpus_per_node
    ]
    es = divisors(a.experts)
    return [
        (t, p, c, e)
        for t in _options(f, "tensor_parallel", ts)
        for p in _options(f, "pipeline_parallel", divisors(a.num_layers))
        for c in _options(f, "context_parallel", [1])
        for e in _options(f, "expert_parallel", es)
    ]


class _Search:
    def __init__(self, pm: PlanModel, flops: dict[str, Flops], usable: dict[str, int]) -> None:
        self.pm, self.flops, self.usable = pm, flops, usable
        self.fits: list[Candidate] = []
        self.misses: list[Candidate] = []
        self.evaluated = 0

    def run(self, cl: ClusterChoice, offloads: list[str]) -> None:
        pm, f = self.pm, self.pm.spec.parallelism
        B = pm.spec.global_batch_size
        usable = self.usable[cl.gpu.key]
        mbs = _options(f, "micro_batch_size", [b for b in divisors(B) if b <= MAX_MICRO_BATCH])
        recs = _options(f, "recompute", list(RECOMPUTE_MODES))
        for t, p, c, e in _model_parallel(pm, cl):
            for d in _options(f, "data_parallel", divisors(B)):
                if t * p * c * d > cl.max_gpus or d % e:
                    continue
                zeros = _options(f, "zero_stage", [0, 1, 2, 3] if d > 1 else [0])
                for z, group in _zero_options(f, zeros, d, cl.gpus_per_node // (t * c)):
                    for off in offloads:
                        if off == "optimizer+params" and z < 3 and d > 1:
                            continue
                        base = Layout(
                            t, p, d, c, e,
                            sequence_parallel=_options(f, "sequence_parallel", [t > 1])[0],
                            virtual_pipeline_stages=_options(f, "virtual_pipeline_stages", [1])[0],
                            zero_stage=z, zero_shard_group=group, offload=off,
                            global_batch_size=B,
                        )  # fmt: skip
                        self._layouts(cl, base, usable, mbs, recs)

    def _layouts(
        self, cl: ClusterChoice, base: Layout, usable: int, mbs: list[int], recs: list[str]
    ) -> None:
        bound = states_lower_bound(self.pm, base)
        self.evaluated += 1
        if bound > usable:
            why = f"model states alone {fmt_bytes(bound)} > usable {fmt_bytes(usable)}"
            self.misses.append(Candidate(cl, base, None, bound, None, usable, why))
            return
        host = host_memory(self.pm, base, cl)
        if not host.fits:  # CPU offload: the node's host RAM is a limit too
            why = (
                f"host RAM per node {fmt_bytes(host.total, 'TB')} >"
                f" {fmt_bytes(host.usable, 'TiB')} usable ({host.ranks} ranks' offloaded states)"
            )
            self.misses.append(Candidate(cl, base, None, bound, None, usable, why, host))
            return
        for b in mbs:
            if base.global_batch_size % (b * base.d):
                continue
            for r in recs:
                lay = replace(base, micro_batch_size=b, recompute=r)
                self.evaluated += 1
                mem = gpu_memory(self.pm, lay, usable)
                if mem.fits:
                    rt = run_time(
                        self.pm,
                        cl,
                        lay,
                        self.flops[r],
                        cl.mfu.expected,
                        self.pm.spec.assumptions.goodput,
                    )
                    self.fits.append(Candidate(cl, lay, mem, bound, rt, usable))
                    break
                over = mem.total - usable
                why = (
                    f"needs {fmt_bytes(mem.total, 'GiB', 1)} per GPU,"
                    f" {fmt_bytes(over, 'GiB', 1)} over"
                )
                self.misses.append(Candidate(cl, lay, mem, bound, None, usable, why))


def constraint_failure(c: Candidate, max_days: float | None, max_usd: float | None) -> str:
    t = c.time
    if t is None:
        return c.reason
    if max_days is not None and t.days > max_days:
        return f"takes {fmt_beyond(t.days, max_days)} days > max_days {max_days:g}"
    if max_usd is not None and t.usd is None:
        return f"{NO_PRICE}: max_budget_usd cannot be checked"
    if max_usd is not None and t.usd is not None and t.usd > max_usd:
        return f"costs USD {t.usd:,.0f} > max_budget_usd {max_usd:,.0f}"
    return ""


# How a candidate without a price is listed: it never wins a cost objective.
NO_PRICE = "no price: set price_per_gpu_hour"


def _rank_key(objective: str, max_days: float | None, max_usd: float | None) -> Any:
    def key(c: Candidate) -> tuple[float, ...]:
        t = c.time
        assert t is not None
        misses = 1.0 if constraint_failure(c, max_days, max_usd) else 0.0
        # USD and GPU-hours never compare: an unpriced candidate ranks after
        # every priced one, and unpriced ones among themselves by GPU-hours.
        unpriced = 0.0 if t.usd is not None else 1.0
        cost = t.usd if t.usd is not None else t.gpu_hours
        if misses and max_days is not None:
            return (misses, t.days, unpriced, cost, t.gpus)  # none meets the deadline
        if objective == "fastest":
            return (misses, t.days, unpriced, cost, t.gpus)
        if objective == "fewest-gpus":
            return (misses, t.gpus, unpriced, cost, t.days)
        return (misses, unpriced, cost, t.days, t.gpus)

    return key


def _days(c: Candidate) -> float:
    assert c.time is not None, "only a candidate that fits has a run time"
    return c.time.days


def _fastest_within_band(ranked: list[Candidate], c: Any, band: float) -> list[Candidate]:
    """Cheapest, but costs within ``band`` of the cheapest feasible plan count
    as equal and the fastest of them comes first: without it, a run with no
    deadline lands on a handful of GPUs for years to save a fraction of a
    percent, less than any price's uncertainty (assumptions.cost_tie_band)."""
    ok = [x for x in ranked if not constraint_failure(x, c.max_days, c.max_budget_usd)]
    priced = [x for x in ok if x.time is not None and x.time.usd is not None]
    ok = priced or ok  # a cost band is measured in USD when any candidate has a price
    if not ok:
        return ranked
    cost = lambda x: x.time.usd if x.time.usd is not None else x.time.gpu_hours  # noqa: E731
    limit = cost(ok[0]) * (1 + band)
    tied = sorted((x for x in ok if cost(x) <= limit), key=lambda x: (_days(x), cost(x)))
    chosen = {id(x) for x in tied}
    return tied + [x for x in ranked if id(x) not in chosen]


def cost_band(spec: Any) -> float:
    """The share above the cheapest cost within which the fastest plan wins:
    the default objective ``balanced`` (assumptions.balanced_cost_band), or
    ``cheapest`` with the opt-in tie band (assumptions.cost_tie_band)."""
    a = spec.assumptions
    return {"balanced": a.balanced_cost_band, "cheapest": a.cost_tie_band}.get(spec.objective, 0.0)


def objective_text(spec: Any) -> str:
    """The objective as the plan line names it, with its cost band."""
    band = cost_band(spec)
    if spec.objective == "balanced":
        return f"balanced: the fastest plan costing at most {100 * band:g}% more than the cheapest"
    if spec.objective == "cheapest" and band > 0:
        return f"cheapest; costs within {100 * band:g}% count as equal, the fastest of them wins"
    return str(spec.objective)


def layout_key(c: Candidate) -> tuple[Any, ...]:
    """Candidates that differ only in micro-batch or recompute count as one."""
    lay = c.layout
    return (c.cluster.gpu.key, lay.t, lay.p, lay.d, lay.zero_stage, lay.offload)


def distinct(cands: list[Candidate], n: int) -> tuple[Candidate, ...]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for c in cands:
        k = layout_key(c)
        if k not in seen:
            seen.add(k)
            out.append(c)
        if len(out) == n:
            break
    return tuple(out)


# At most this many layouts (with micro-batch and recompute variants) are
# evaluated in one search (~50 us each: a few seconds); a spec whose search
# space is larger is refused before the search starts (docs/spec.md, Limits).
MAX_LAYOUTS = 100_000
# min_gpus_to_fit tries at most this many (t, p, d) shapes, smallest first.
MAX_FIT_SHAPES = 20_000


def search_size(pm: PlanModel, cl: ClusterChoice, offloads: list[str], cap: int) -> int:
    """Upper bound on the layouts ``_Search.run`` evaluates for one GPU type
    (stops counting past ``cap``)."""
    f, B = pm.spec.parallelism, pm.spec.global_batch_size
    mbs = _options(f, "micro_batch_size", [b for b in divisors(B) if b <= MAX_MICRO_BATCH])
    recs = len(_options(f, "recompute", list(RECOMPUTE_MODES)))
    ds = _options(f, "data_parallel", divisors(B))
    n = 0
    for t, p, c, e in _model_parallel(pm, cl):
        for d in ds:
            if t * p * c * d > cl.max_gpus or d % e:
                continue
            zeros = _options(f, "zero_stage", [0, 1, 2, 3] if d > 1 else [0])
            pairs = len(_zero_options(f, zeros, d, cl.gpus_per_node // (t * c)))
            per_base = 1 + recs * sum(1 for b in mbs if B % (b * d) == 0)
            n += pairs * len(offloads) * per_base
            if n > cap:
                return n
    return n


def _unique(clusters: tuple[ClusterChoice, ...]) -> list[ClusterChoice]:
    """Candidate GPUs listed twice (same GPU, same facts) are searched once."""
    out: list[ClusterChoice] = []
    for cl in clusters:
        if cl not in out:
            out.append(cl)
    return out


def _check_size(pm: PlanModel, cl: ClusterChoice, offloads: list[str], used: int) -> int:
    n = used + search_size(pm, cl, offloads, MAX_LAYOUTS - used)
    if n > MAX_LAYOUTS:
        raise PlannerError(
            f"{pm.spec.source}: the layout search would evaluate more than"
            f" {MAX_LAYOUTS:,} layouts (planner's limit); fix some of parallelism"
            " (tensor_parallel, pipeline_parallel, data_parallel, micro_batch_size,"
            " zero_stage, recompute), lower cluster.max_gpus or give fewer candidate GPUs"
        )
    return n


def search(pm: PlanModel, flops: dict[str, Flops], usable: dict[str, int]) -> SearchResult:
    """All candidate GPU types; offload only where nothing fits without it."""
    s = _Search(pm, flops, usable)
    fixed_off = _options(pm.spec.parallelism, "offload", [None])[0]
    size = 0
    for cl in _unique(pm.spec.clusters):
        before = len(s.fits)
        size = _check_size(pm, cl, [fixed_off or "none"], size)
        s.run(cl, [fixed_off or "none"])
        if len(s.fits) == before and fixed_off is None:
            size = _check_size(pm, cl, ["optimizer", "optimizer+params"], size)
            s.run(cl, ["optimizer", "optimizer+params"])
    c = pm.spec.constraints
    ranked = sorted(s.fits, key=_rank_key(pm.spec.objective, c.max_days, c.max_budget_usd))
    band = cost_band(pm.spec)
    if band > 0:
        ranked = _fastest_within_band(ranked, c, band)
    late = [x for x in ranked if constraint_failure(x, c.max_days, c.max_budget_usd)]
    late = [replace(x, reason=constraint_failure(x, c.max_days, c.max_budget_usd)) for x in late]
    misses = sorted(s.misses, key=lambda x: x.over_bytes)
    near = distinct(late, 3) + distinct(misses, 5)
    return SearchResult(tuple(ranked), near, s.evaluated)


def min_gpus_to_fit(pm: PlanModel, cl: ClusterChoice, usable: int) -> Layout | None:
    """The smallest GPU count at which any layout fits, ignoring max_gpus
    (ZeRO 1-3 over d, full recompute, micro-batch 1, sequence parallel)."""
    a, B = pm.arch, pm.spec.global_batch_size
    ts = [t for t in divisors(a.num_attention_heads) if a.num_key_value_heads % t == 0]
    ts = [t for t in ts if t <= cl.gpus_per_node]
    shapes = sorted(
        ((t * p * d, t, p, d) for t in ts for p in divisors(a.num_layers) for d in divisors(B)),
    )
    for _, t, p, d in shapes[:MAX_FIT_SHAPES]:
        for z in (1, 2, 3) if d > 1 else (0,):
            lay = Layout(t, p, d, sequence_parallel=t > 1, zero_stage=z, recompute="full",
                         micro_batch_size=1, global_batch_size=B)  # fmt: skip
            if states_lower_bound(pm, lay) <= usable and gpu_memory(pm, lay, usable).fits:
                return lay
    return None
