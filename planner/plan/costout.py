"""The plan JSON's procurement figures (issue 12): the pricing model and the
GPU-hours billed, the cost of ownership, the run's energy and CO2, and the
bill of materials (GPUs, nodes, host RAM, checkpoint storage).

Keys are stable (docs/plan.md, "Pricing, ownership, energy"); figures in
USD, kWh, kg and bytes (integers). planner/pricing.py holds the formulas.
"""

from __future__ import annotations

from typing import Any

from planner.plan.result import Plan
from planner.pricing import Ownership, Pricing

# Full checkpoints kept on storage while a new one is written: a crash
# mid-write must leave the previous one intact (DeepSpeed and Megatron-LM
# keep the last checkpoint until the new one is complete).
CHECKPOINTS_KEPT = 2


def rent_usd_per_gpu_hour(p: Pricing) -> float | None:
    """The rental price buying is compared with: the discounted price under
    reserved and spot, the on-demand price otherwise."""
    if p.on_demand_usd is None:
        return None
    if p.model in ("reserved", "spot"):
        return p.on_demand_usd * (1 - p.discount)
    return p.on_demand_usd


def ownership_dict(o: Ownership, gpus: int, rent: float | None) -> dict[str, Any]:
    return {
        "purchase_price_per_gpu": o.purchase_usd,
        "purchase_source": o.purchase_source,
        "infrastructure_overhead": o.infrastructure_overhead,
        "capital_usd_per_gpu": o.capital_usd_per_gpu,
        "capital_usd": o.capital_usd_per_gpu * gpus,
        "power_watts_per_gpu": o.gpu_watts,
        "node_power_watts": o.node_watts,
        "power_source": o.power_source,
        "kw_per_gpu": o.kw_per_gpu,
        "pue": o.pue,
        "pue_source": o.pue_source,
        "electricity_usd_per_kwh": o.electricity_usd_per_kwh,
        "hosting_usd_per_kw_month": o.hosting_usd_per_kw_month,
        "depreciation_years": o.depreciation_years,
        "utilization": o.utilization,
        "capital_usd_per_gpu_hour": o.capital_usd_per_gpu_hour,
        "energy_usd_per_gpu_hour": o.energy_usd_per_gpu_hour,
        "hosting_usd_per_gpu_hour": o.hosting_usd_per_gpu_hour,
        "usd_per_gpu_hour": o.usd_per_gpu_hour,
        "rent_usd_per_gpu_hour": rent,
        "breakeven_utilization": None if rent is None else o.breakeven_utilization(rent),
    }


def pricing_fields(plan: Plan) -> dict[str, Any]:
    """Keys added to the plan JSON's ``cost``."""
    cl, e = plan.cluster, plan.expected
    p, g = cl.pricing, cl.gpu
    catalog = cl.price_is_indicative and p.on_demand_usd is not None
    own = p.ownership
    rent = rent_usd_per_gpu_hour(p)
    return {
        "pricing_model": p.model,
        "pricing_text": p.describe(),
        "on_demand_price_per_gpu_hour": p.on_demand_usd,
        "discount": p.discount,
        "interruption_overhead": p.interruption_overhead,
        "term_months": p.term_months,
        "billed_gpu_hours": e.billed_gpu_hours,
        "unused_reserved_gpu_hours": e.billed_gpu_hours - e.gpu_hours,
        "price_date": g.price_date if catalog else None,
        "price_citation": g.price_citation if catalog else None,
        "owned_usd_per_gpu_hour": None if own is None else own.usd_per_gpu_hour,
        "ownership": None if own is None else ownership_dict(own, plan.layout.gpus, rent),
    }


def energy_dict(plan: Plan) -> dict[str, Any]:
    """kWh = GPU-hours x kW per GPU (its maximum power plus its share of the
    node's) x PUE; CO2 = kWh x cluster.carbon_kg_per_kwh. An upper bound:
    GPUs rarely draw their maximum power throughout."""
    cl = plan.cluster
    kw = cl.kw_per_gpu
    out: dict[str, Any] = {"kw_per_gpu": kw, "pue": cl.pue, "source": cl.energy_source}
    for suffix, key in (("", "expected"), ("_low", "low"), ("_high", "high")):
        kwh = None if kw is None else plan.times[key].gpu_hours * kw * cl.pue
        out[f"kwh{suffix}"] = kwh
        c = cl.carbon_kg_per_kwh
        out[f"co2_kg{suffix}"] = None if kwh is None or c is None else kwh * c
    out["carbon_kg_per_kwh"] = cl.carbon_kg_per_kwh
    return out


def bill_of_materials(plan: Plan) -> dict[str, Any]:
    """What to procure besides GPU time: nodes and their host RAM, and the
    storage for checkpoints (one = weights + fp32 master weights + optimizer
    states of the whole model; gradients are not saved; under LoRA / QLoRA
    only the trainable weights: trainable.py ``checkpoint_weight_bytes``)."""
    cl, lay, st = plan.cluster, plan.layout, plan.model.states
    nodes = lay.nodes(cl.gpus_per_node)
    saved = plan.model.trainable.checkpoint_weight_bytes(st.weights)
    one = saved + st.master_weights + st.optimizer_states
    return {
        "gpus": lay.gpus,
        "nodes": nodes,
        "host_memory_per_node": cl.host_memory_bytes,
        "host_memory_total": cl.host_memory_bytes * nodes,
        "host_memory_source": cl.host_memory_source,
        "checkpoint_bytes": one,
        "checkpoints_kept": CHECKPOINTS_KEPT,
        "checkpoint_storage_bytes": one * CHECKPOINTS_KEPT,
    }
