"""``compare(results) -> Comparison``: procurement options side by side.

Each option is one training spec's Result (planner.pipeline.evaluate). Every
figure is read from the option's plan JSON (planner.plan.plan_to_dict: the
``plan``, ``time`` and ``cost`` keys), never recomputed here, so whatever
pricing the plan applies flows into the comparison as it is. The only
arithmetic is the report's own contingency (``report.contingency``, as the
bill of materials applies it) and comparisons between options.

Feasible = the plan fits in memory and no finding is an error (the report's
summary uses the same test): the error findings say which constraint fails
(REC-008 memory within cluster.max_gpus, REC-009 constraints.max_days,
REC-010 constraints.max_budget_usd, ...).

Ranking (``rank``): feasible options with a price first, ordered by the
objective; then feasible options without a price (they never win on cost:
"no price: set price_per_gpu_hour"), by GPU-hours; then infeasible ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from planner.pipeline import Result
from planner.plan.search import cost_band
from planner.report import budget as bud
from planner.report.plan_sections import layout_text

NO_PRICE = "no price: set price_per_gpu_hour"
COST_OBJECTIVES = ("cheapest", "balanced")


@dataclass(frozen=True)
class Failure:
    id: str  # the rule id of an error finding (REC-009 ...)
    message: str


@dataclass(frozen=True)
class Option:
    """One spec's plan, in the figures a procurement table needs."""

    name: str
    title: str
    source: str  # the spec file
    gpu: str  # catalog key
    gpu_name: str
    gpus: int
    nodes: int
    gpus_per_node: int
    layout: str
    days: float
    days_low: float
    days_high: float
    gpu_hours: float
    gpu_hours_low: float
    gpu_hours_high: float
    usd: float | None
    usd_low: float | None
    usd_high: float | None
    price_per_gpu_hour: float | None
    price_source: str
    contingency: float  # report.contingency
    objective: str
    objective_text: str
    cost_band: float
    failures: tuple[Failure, ...]
    fits: bool
    cost: dict[str, Any]  # the plan JSON's ``cost`` object, as it is
    rank: int = 0  # 1 = the best by the comparison's objective
    pareto: bool = False  # on the cost-duration Pareto front (feasible, priced)

    @property
    def priced(self) -> bool:
        return self.usd is not None

    @property
    def feasible(self) -> bool:
        return self.fits and not self.failures

    @property
    def hours(self) -> float:
        """Wall-clock hours of the run (the plan's days x 24)."""
        return self.days * 24

    @property
    def contingency_usd(self) -> float | None:
        return None if self.usd is None else self.usd * self.contingency

    @property
    def cost_is_hours_x_price(self) -> bool:
        """The plan's cost is GPU-hours x the listed price (to 1e-9): then a
        spreadsheet may derive it; a pricing model that is not (a reserved
        term paid whole, say) keeps the plan's figure as a value."""
        u, p = self.usd, self.price_per_gpu_hour
        return u is not None and p is not None and math.isclose(u, self.gpu_hours * p, rel_tol=1e-9)

    @property
    def total_usd(self) -> float | None:
        """Subtotal plus contingency, as the bill of materials adds them."""
        c = self.contingency_usd
        return None if self.usd is None or c is None else self.usd + c

    @property
    def status(self) -> str:
        if not self.feasible:
            return "infeasible: " + "; ".join(f"{f.id} {f.message}" for f in self.failures)
        return "feasible" if self.priced else f"feasible; {NO_PRICE}"


def option_from(result: Result) -> Option:
    """An option from a training Result's plan JSON."""
    plan, spec = result.plan_json, result.spec
    p, tm, cost = plan["plan"], plan["time"], plan["cost"]
    cl = bud.cluster_for(spec, p["gpu"])
    errors = tuple(
        Failure(f["id"], f["message"]) for f in plan["findings"] if f["severity"] == "error"
    )
    if not p["fits"] and not errors:  # REC-008 says it; never an infeasible option without why
        errors = (Failure("memory", "the plan does not fit in GPU or host memory"),)
    return Option(
        name=plan["spec"]["name"],
        title=plan["spec"]["title"],
        source=plan["spec"]["source"],
        gpu=p["gpu"],
        gpu_name=cl.gpu.name,
        gpus=p["gpus"],
        nodes=p["nodes"],
        gpus_per_node=cl.gpus_per_node,
        layout=layout_text(p),
        days=tm["days"],
        days_low=tm["days_low"],
        days_high=tm["days_high"],
        gpu_hours=tm["gpu_hours"],
        gpu_hours_low=tm["gpu_hours_low"],
        gpu_hours_high=tm["gpu_hours_high"],
        usd=cost["usd"],
        usd_low=cost["usd_low"],
        usd_high=cost["usd_high"],
        price_per_gpu_hour=cost["price_per_gpu_hour"],
        price_source=cost["price_source"],
        contingency=spec.report.contingency,
        objective=plan["objective"],
        objective_text=plan["objective_text"],
        cost_band=cost_band(spec),
        failures=errors,
        fits=p["fits"],
        cost=dict(cost),
    )


@dataclass(frozen=True)
class Comparison:
    options: tuple[Option, ...]  # in the order the specs were given
    objective: str
    objective_text: str
    objective_note: str  # why this objective ("" when every spec names it)
    recommended: Option | None
    why: str

    @property
    def ranked(self) -> tuple[Option, ...]:
        return tuple(sorted(self.options, key=lambda o: o.rank))


def _objective(options: list[Option]) -> tuple[str, float, str, str]:
    """The specs' common objective and cost band, else cheapest."""
    pairs = {(o.objective, o.cost_band) for o in options}
    if len(pairs) == 1:
        first = options[0]
        return first.objective, first.cost_band, first.objective_text, ""
    named = ", ".join(f"{o.name}: {o.objective}" for o in options)
    note = f"the specs name different objectives ({named}); options are ranked by cost"
    return "cheapest", 0.0, "cheapest", note


def _key(objective: str, o: Option) -> tuple[float, ...]:
    cost = o.usd if o.usd is not None else o.gpu_hours
    if objective == "fastest":
        return (o.days, cost, o.gpus)
    if objective == "fewest-gpus":
        return (o.gpus, cost, o.days)
    return (cost, o.days, o.gpus)


def rank(options: list[Option], objective: str, band: float) -> list[Option]:
    """Best first: priced feasible options by the objective (with a cost
    band, the fastest within ``band`` of the cheapest comes first, as the
    plan's search does), then unpriced feasible ones, then infeasible ones."""
    priced = sorted((o for o in options if o.feasible and o.priced),
                    key=lambda o: _key(objective, o))  # fmt: skip
    if priced and band > 0 and objective in COST_OBJECTIVES:
        cheapest = priced[0].usd
        assert cheapest is not None
        tied = [o for o in priced if o.usd is not None and o.usd <= cheapest * (1 + band)]
        tied.sort(key=lambda o: (o.days, o.usd or 0.0))
        priced = tied + [o for o in priced if o not in tied]
    unpriced = sorted((o for o in options if o.feasible and not o.priced),
                      key=lambda o: _key(objective, o))  # fmt: skip
    infeasible = sorted((o for o in options if not o.feasible), key=lambda o: _key(objective, o))
    return priced + unpriced + infeasible


def pareto_names(options: list[Option]) -> set[str]:
    """Feasible priced options that no other one beats on both duration and
    cost (no other is at most as long and as costly, and better in one)."""
    pts = [o for o in options if o.feasible and o.usd is not None]

    def dominates(a: Option, b: Option) -> bool:
        assert a.usd is not None and b.usd is not None
        return a.days <= b.days and a.usd <= b.usd and (a.days < b.days or a.usd < b.usd)

    return {b.name for b in pts if not any(dominates(a, b) for a in pts if a is not b)}


def _why(best: Option, ranked: list[Option], text: str) -> str:
    from planner.units import fmt_duration, fmt_usd

    if not best.priced:
        return (
            f"no feasible option has a price ({NO_PRICE} in each spec's cluster section);"
            f" {best.name} ranks first by the objective ({text}) with GPU-hours in place of"
            f" cost ({best.gpu_hours:,.0f} GPU-hours)"
        )
    others = [o for o in ranked if o.feasible and o.priced and o is not best]
    head = f"{best.name} is the best feasible option by the objective ({text})"
    if not others:
        return head + "; it is the only feasible option with a price"
    nxt = others[0]
    assert best.usd is not None and nxt.usd is not None
    d_usd, d_days = nxt.usd - best.usd, nxt.days - best.days
    cost = f"{fmt_usd(abs(d_usd))} {'less' if d_usd >= 0 else 'more'}"
    time = f"{fmt_duration(abs(d_days) * 86400)} {'sooner' if d_days >= 0 else 'later'}"
    return f"{head}: {cost} and {time} than the runner-up, {nxt.name}"


def compare(results: list[Result]) -> Comparison:
    options = [option_from(r) for r in results]
    objective, band, text, note = _objective(options)
    order = rank(options, objective, band)
    front = pareto_names(options)
    ranks = {o.name: i for i, o in enumerate(order, start=1)}
    final = tuple(replace(o, rank=ranks[o.name], pareto=o.name in front) for o in options)
    by_name = {o.name: o for o in final}
    ranked = [by_name[o.name] for o in order]
    best = ranked[0] if ranked and ranked[0].feasible else None
    why = _why(best, ranked, text) if best else "no option meets its constraints"
    return Comparison(final, objective, text, note, best, why)
