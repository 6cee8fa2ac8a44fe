"""Resolve ``cluster.pricing`` and ``cluster.ownership`` for one candidate
GPU: the spec's figures, else the catalog's (labelled as assumptions with
their sources). planner/pricing.py holds the arithmetic."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from planner.catalog import Gpu
from planner.errors import Problem
from planner.pricing import Ownership, Pricing
from planner.spec.schema import ClusterSection, OwnershipSection


@cache
def facility() -> dict[str, Any]:
    """Facility assumptions (planner/data/facility.yaml): the default PUE."""
    text = resources.files("planner").joinpath("data", "facility.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def pue_default() -> tuple[float, str]:
    p = facility()["pue"]
    return float(p["value"]), f"assumption: {p['source']} ({p['url']})"


def power_of(gpu: Gpu, own: OwnershipSection | None) -> tuple[float | None, float | None, str]:
    """(GPU watts, node watts besides the GPUs, source): the spec's
    cluster.ownership figures, else the catalog's (datasheet maxima)."""
    gw = own.power_watts_per_gpu if own else None
    nw = own.node_power_watts if own else None
    src, catalog = [], []
    if gw is None:
        gw = gpu.tdp_watts
        catalog.append("GPU maximum board power")
    else:
        src.append("GPU power: spec (cluster.ownership.power_watts_per_gpu)")
    if nw is None:
        nw = gpu.node_watts
        catalog.append("node maximum less its GPUs")
    else:
        src.append("node power: spec (cluster.ownership.node_power_watts)")
    if catalog and gpu.power_citation:
        src.append(f"{' and '.join(catalog)}: catalog, {gpu.power_citation}")
    return gw, nw, "assumption, maximum power; " + "; ".join(src)


def _ownership(
    own: OwnershipSection, gpu: Gpu, per_node: int, problems: list[Problem]
) -> Ownership | None:
    buy, buy_src = own.purchase_price_per_gpu, "spec (cluster.ownership.purchase_price_per_gpu)"
    if buy is None:
        buy = gpu.purchase_price_usd
        buy_src = f"catalog third-party estimate: {gpu.purchase_citation}"
    gw, nw, power_src = power_of(gpu, own)
    missing = [
        k
        for k, v in (("purchase_price_per_gpu", buy), ("power_watts_per_gpu", gw),
                     ("node_power_watts", nw))
        if v is None
    ]  # fmt: skip
    for k in missing:
        problems.append(
            Problem(
                f"cluster.ownership.{k}",
                f"the catalog has no figure for {gpu.key}; give it (one GPU type per spec)",
            )
        )
    if buy is None or gw is None or nw is None:
        return None
    pue, pue_src = (own.pue, "spec (cluster.ownership.pue)") if own.pue else pue_default()
    return Ownership(
        purchase_usd=buy,
        purchase_source=buy_src,
        infrastructure_overhead=own.infrastructure_overhead,
        gpu_watts=gw,
        node_watts=nw,
        gpus_per_node=per_node,
        power_source=power_src,
        pue=pue,
        pue_source=pue_src,
        electricity_usd_per_kwh=own.electricity_usd_per_kwh,
        hosting_usd_per_kw_month=own.hosting_usd_per_kw_month,
        depreciation_years=own.depreciation_years,
        utilization=own.utilization,
    )


def resolve_pricing(
    c: ClusterSection,
    gpu: Gpu,
    per_node: int,
    on_demand: float | None,
    problems: list[Problem],
) -> Pricing:
    """The candidate's Pricing; problems for figures the catalog lacks."""
    p = c.pricing
    owned = None if c.ownership is None else _ownership(c.ownership, gpu, per_node, problems)
    return Pricing(
        model=p.model,
        on_demand_usd=on_demand,
        discount=p.discount or 0.0,
        interruption_overhead=p.interruption_overhead or 0.0,
        term_months=p.term_months,
        ownership=owned,
    )


def energy_facts(
    c: ClusterSection, gpu: Gpu, per_node: int, pricing: Pricing
) -> tuple[float | None, float, str]:
    """(kW per GPU with its share of the node, PUE, source) for the run's
    energy: cluster.ownership's figures where given, else the catalog's
    maximum power and the default PUE (assumptions). kW is None when the
    catalog has no power figure for this GPU or its node."""
    own = pricing.ownership
    if own is not None:
        return own.kw_per_gpu, own.pue, f"{own.power_source}; PUE {own.pue_source}"
    gw, nw, src = power_of(gpu, c.ownership)
    pue, pue_src = pue_default()
    if gw is None or nw is None:
        return None, pue, "no power figure for this GPU or its node: set cluster.ownership"
    return (gw + nw / per_node) / 1000, pue, f"{src}; PUE {pue_src}"
