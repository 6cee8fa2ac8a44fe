"""Sections 2 and 6: the bill of materials for a procurement request, rental
vs purchase, time and cost with the sensitivity to the MFU and price
assumptions.

Input: the JSON of ``planner plan`` (planner.plan.plan_to_dict) and the spec
(for the contingency, the purchase price and the cluster facts)."""

from __future__ import annotations

import math
from typing import Any

from planner.plan.search import NO_PRICE
from planner.pricing import Pricing
from planner.report import procurement as pr
from planner.report.records import Table
from planner.spec.model import ClusterChoice, Spec
from planner.units import fmt_duration, fmt_int, fmt_pct, fmt_usd, money_lines

SENSITIVITY = 0.20  # +/-20% on MFU and on the price (the example)


def cluster_for(spec: Spec, gpu: str) -> ClusterChoice:
    """The spec's candidate GPU the plan chose (matched by catalog key or name)."""
    for c in spec.clusters:
        if gpu in (c.gpu.key, c.gpu.name):
            return c
    return spec.cluster


def price_text(c: ClusterChoice) -> str:
    if c.price_per_gpu_hour is None:
        return NO_PRICE
    src = c.price_source
    if c.pricing.model != "on-demand":
        src = f"{c.pricing.describe()}; {src}"
    return f"{fmt_usd(c.price_per_gpu_hour)} per GPU-hour ({src})"


def budget_table(plan: dict[str, Any], spec: Spec) -> tuple[Table, list[str]]:
    """GPUs, nodes, hours, unit price, subtotal, contingency and total."""
    p, tm, cost = plan["plan"], plan["time"], plan["cost"]
    c = cluster_for(spec, p["gpu"])
    rate = spec.report.contingency
    hours = tm["days"] * 24
    rows = [
        ("GPU type", c.gpu.name, ""),
        ("GPUs", fmt_int(p["gpus"]), f"{c.gpus_per_node} per node"),
        ("Nodes", fmt_int(p["nodes"]), ""),
        ("Wall-clock hours", f"{hours:,.1f}", fmt_duration(tm["days"] * 86400)),
        ("GPU-hours", f"{tm['gpu_hours']:,.0f}", "GPUs x wall-clock hours"),
        ("Unit price", price_text(c), ""),
    ]
    extra, notes = pr.pricing_rows(plan)
    rows += extra + pr.material_rows(plan)
    if not plan["feasible"]:
        notes.append(
            "No money is requested: no plan meets the constraints (INFEASIBLE; the summary"
            " says what would meet them)."
        )
    elif cost["usd"] is not None:
        subtotal, contingency, total = money_lines(cost["usd"], rate)
        rows += [
            (
                "Subtotal (expected)",
                subtotal,
                ("billed " if cost["term_months"] else "") + "GPU-hours x unit price",
            ),
            (f"Contingency ({fmt_pct(rate, 0)})", contingency, _rate_source(spec)),
            ("Total to request", total, "subtotal + contingency, each rounded as shown"),
        ]
        notes.append(
            f"Expected range without contingency: {fmt_usd(cost['usd_low'])} to"
            f" {fmt_usd(cost['usd_high'])} (MFU {_mfu_range(c)}; goodput"
            f" {fmt_pct(spec.assumptions.goodput_high, 0)} at the low end,"
            f" {fmt_pct(spec.assumptions.goodput_low, 0)} at the high end)."
        )
    else:
        notes.append(
            f"{NO_PRICE}: no price is known for this GPU (set cluster.price_per_gpu_hour)."
        )
    if c.price_is_indicative and c.price_per_gpu_hour is not None:
        notes.append(
            "The unit price is the catalog's indicative figure, not a quote; set"
            " cluster.price_per_gpu_hour to your negotiated rate."
        )
    return Table(("item", "value", "note"), tuple(rows), ("l", "r", "l")), notes


def _rate_source(spec: Spec) -> str:
    return (
        "report.contingency in the spec"
        if "contingency" in spec.report.model_fields_set
        else "default 10% (report.contingency)"
    )


def _mfu_range(c: ClusterChoice) -> str:
    m = c.mfu
    return f"{fmt_pct(m.low, 0)} / {fmt_pct(m.expected, 0)} / {fmt_pct(m.high, 0)}"


def purchase_table(gpus: int, gpu_hours: float, spec: Spec, c: ClusterChoice) -> Table | None:
    """Rental of this run vs buying the GPUs (only when the spec gives a
    purchase price). Break-even = purchase price / hourly price, in hours of
    use per GPU; power, hosting and staff are not included."""
    buy = spec.report.purchase_price_per_gpu
    if buy is None or c.price_per_gpu_hour is None:
        return None
    rent = gpu_hours * c.price_per_gpu_hour
    breakeven_h = buy / c.price_per_gpu_hour if c.price_per_gpu_hour else math.inf
    rows = (
        ("Rent for this run", fmt_usd(rent), f"{gpu_hours:,.0f} GPU-hours"),
        ("Buy the GPUs", fmt_usd(buy * gpus), f"{fmt_int(gpus)} x {fmt_usd(buy)}"),
        (
            "Break-even use per GPU",
            f"{breakeven_h:,.0f} h",
            f"{breakeven_h / 24 / 365:,.1f} years of continuous use",
        ),
    )
    return Table(("option", "cost", "basis"), rows, ("l", "r", "l"))


def time_table(plan: dict[str, Any]) -> Table:
    tm, cost = plan["time"], plan["cost"]

    def usd(x: float | None) -> str:
        return "-" if x is None else fmt_usd(x)

    rows = (
        # throughput is highest at the fast end: its `_high` key goes first
        ("Tokens per second", *(f"{tm[k]:,.0f}" for k in _keys("tokens_per_second")[::-1])),
        ("Step time", *(fmt_duration(tm[k]) for k in _keys("step_seconds"))),
        ("Duration", *(f"{tm[k]:,.2f} days" for k in _keys("days"))),
        ("GPU-hours", *(f"{tm[k]:,.0f}" for k in _keys("gpu_hours"))),
        ("Cost", usd(cost["usd_low"]), usd(cost["usd"]), usd(cost["usd_high"])),
    )
    return Table(("", "fast end", "expected", "slow end"), rows)


def _keys(name: str) -> tuple[str, str, str]:
    return (f"{name}_low", name, f"{name}_high")


def sensitivity_table(days: dict[float, float], pricing: Pricing, gpus: int) -> Table:
    """Duration and cost when the MFU or the price is 20% lower or higher.
    ``days`` maps an MFU factor (0.8, 1.0, 1.2) to the plan's duration at
    that MFU (computed by the plan's time model, where only compute and
    the pipeline bubble scale with MFU); cost = the GPU-hours billed for
    that duration (whole terms for a reservation) x the price."""
    rows = []
    for f in sorted(days):
        cost = pricing.cost_usd(gpus, days[f] * 24)
        rows.append(
            (f"MFU x {f:.1f}", f"{days[f]:,.2f} days", "-" if cost is None else fmt_usd(cost))
        )
    base = pricing.cost_usd(gpus, days[1.0] * 24)
    if base is not None:
        for f in (1 - SENSITIVITY, 1 + SENSITIVITY):
            rows.append((f"price x {f:.1f}", f"{days[1.0]:,.2f} days", fmt_usd(base * f)))
    header = ("assumption", "duration", "cost (before contingency)")
    return Table(header, tuple(rows))
