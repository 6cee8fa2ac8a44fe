"""The bill of materials' procurement rows (pricing model, billed GPU-hours,
host RAM, checkpoint storage, energy, CO2) and the rent-vs-buy table with
the cost of ownership and the break-even utilisation (issue 12).

Input: the plan JSON's ``cost``, ``energy`` and ``bill_of_materials``
(planner/plan/costout.py); nothing here computes a figure the JSON lacks
beyond products shown in the row's note."""

from __future__ import annotations

from typing import Any

from planner.report.records import Table, gib_gb
from planner.units import fmt_int, fmt_kg, fmt_pct, fmt_usd, plural

Row = tuple[str, str, str]


def _usd_h(x: float) -> str:
    return f"{fmt_usd(x)}" if x >= 100 else f"USD {x:,.3f}"


def pricing_rows(plan: dict[str, Any]) -> tuple[list[Row], list[str]]:
    """Rows after the unit price: the pricing model and, for a reservation,
    the GPU-hours paid for; notes on a term longer than the run."""
    c = plan["cost"]
    rows: list[Row] = []
    notes: list[str] = []
    model = c["pricing_model"]
    if model != "on-demand":
        od = c["on_demand_price_per_gpu_hour"]
        base = "" if od is None else f"on-demand {_usd_h(od)} per GPU-hour"
        rows.append(("Pricing model", model, f"{c['pricing_text']}; {base}".strip("; ")))
    if c["term_months"]:
        rows.append(
            ("Billed GPU-hours", f"{c['billed_gpu_hours']:,.0f}",
             f"whole {c['term_months']}-month terms x GPUs")
        )  # fmt: skip
        unused = c["unused_reserved_gpu_hours"]
        if unused > 0:
            notes.append(
                f"The reservation is paid for whole {c['term_months']}-month terms: the run uses"
                f" {plan['time']['gpu_hours']:,.0f} of the {c['billed_gpu_hours']:,.0f} reserved"
                f" GPU-hours; {unused:,.0f} GPU-hours are paid for and not used by this run."
            )
    return rows, notes


def material_rows(plan: dict[str, Any]) -> list[Row]:
    """Host RAM, checkpoint storage, energy and CO2."""
    b, e = plan["bill_of_materials"], plan["energy"]
    rows: list[Row] = [
        ("Host RAM", gib_gb(b["host_memory_total"]),
         f"{plural(b['nodes'], 'node')} x {gib_gb(b['host_memory_per_node'])}"
         f" ({b['host_memory_source']})"),
        ("Checkpoint storage", gib_gb(b["checkpoint_storage_bytes"]),
         f"{b['checkpoints_kept']} full checkpoints x {gib_gb(b['checkpoint_bytes'])}"
         " (weights + fp32 master weights + optimizer states; under LoRA / QLoRA the"
         " adapters' weights only, not the frozen base)"),
    ]  # fmt: skip
    if e["kwh"] is not None:
        rows.append(
            ("Energy (upper bound)", f"{e['kwh']:,.0f} kWh",
             f"GPU-hours x {e['kw_per_gpu']:,.3f} kW per GPU (with its share of the node,"
             f" at maximum power) x PUE {e['pue']:g}")
        )  # fmt: skip
    else:
        rows.append(("Energy", "unknown", e["source"]))
    if e["co2_kg"] is not None:
        rows.append(
            ("CO2 (upper bound)", fmt_kg(e["co2_kg"]),
             f"kWh x {e['carbon_kg_per_kwh']:g} kg CO2e per kWh (cluster.carbon_kg_per_kwh)")
        )  # fmt: skip
    return rows


def rent_vs_buy(plan: dict[str, Any]) -> Table | None:
    """Cost of ownership per GPU-hour beside the rental price, what this run
    costs each way, the capital to buy the GPUs, and the break-even
    utilisation (planner/pricing.py)."""
    own = plan["cost"]["ownership"]
    if own is None:
        return None
    hours = plan["time"]["gpu_hours"]
    gpus = plan["plan"]["gpus"]
    rent = own["rent_usd_per_gpu_hour"]
    rows: list[Row] = [
        ("Own: capital per GPU-hour", _usd_h(own["capital_usd_per_gpu_hour"]),
         f"{fmt_usd(own['purchase_price_per_gpu'])} x (1 + {own['infrastructure_overhead']:g})"
         f" / ({own['depreciation_years']:g} years x 8,760 h x utilisation"
         f" {fmt_pct(own['utilization'], 0)})"),
        ("Own: electricity per GPU-hour", _usd_h(own["energy_usd_per_gpu_hour"]),
         f"{own['kw_per_gpu']:,.3f} kW x PUE {own['pue']:g} x"
         f" USD {own['electricity_usd_per_kwh']:g} per kWh"),
        ("Own: hosting per GPU-hour", _usd_h(own["hosting_usd_per_gpu_hour"]),
         f"USD {own['hosting_usd_per_kw_month']:g} per kW-month x {own['kw_per_gpu']:,.3f} kW"
         f" x PUE {own['pue']:g} x 12 / 8,760 h"),
        ("Own: total per GPU-hour", _usd_h(own["usd_per_gpu_hour"]), "sum of the three above"),
    ]  # fmt: skip
    c = plan["cost"]
    if rent is not None:
        model = c["pricing_model"]
        rows.append(("Rent per GPU-hour", _usd_h(rent), "on-demand" if model == "owned"
                     else c["pricing_text"]))  # fmt: skip
        if model == "owned" or c["usd"] is None:
            rows.append(("This run, renting", fmt_usd(hours * rent), f"{hours:,.0f} GPU-hours"))
        else:  # the plan's own rental cost (whole terms for a reservation)
            rows.append(("This run, renting", fmt_usd(c["usd"]),
                         f"{c['billed_gpu_hours']:,.0f} GPU-hours billed"))  # fmt: skip
    rows.append(
        ("This run, owned", fmt_usd(hours * own["usd_per_gpu_hour"]),
         f"{hours:,.0f} GPU-hours x the owned cost per GPU-hour")
    )  # fmt: skip
    rows.append(
        ("Buying the GPUs (capital)", fmt_usd(own["capital_usd"]),
         f"{fmt_int(gpus)} x {fmt_usd(own['capital_usd_per_gpu'])} (purchase + infrastructure)")
    )  # fmt: skip
    if rent is not None:
        u = own["breakeven_utilization"]
        rows.append(
            ("Break-even utilisation", "never" if u is None else fmt_pct(u, 1),
             "owning costs less per GPU-hour above this share of the hours"
             if u is not None else "renting costs less even at 100% utilisation")
        )  # fmt: skip
    return Table(("item", "value", "basis"), tuple(rows), ("l", "r", "l"))


def assumption_rows(plan: dict[str, Any]) -> list[Row]:
    """The procurement figures for the assumptions table, each with its
    source (the spec, or the catalog's labelled assumption)."""
    c, e, b = plan["cost"], plan["energy"], plan["bill_of_materials"]
    rows: list[Row] = []
    if c["pricing_model"] != "on-demand":
        rows.append(("Pricing model", c["pricing_text"], "spec (cluster.pricing)"))
    if c["price_date"]:
        rows.append(("GPU price date and source", c["price_date"], c["price_citation"]))
    if e["kw_per_gpu"] is not None:
        rows.append(
            ("Power per GPU (with its share of the node) and PUE",
             f"{e['kw_per_gpu']:,.3f} kW, PUE {e['pue']:g}", e["source"])
        )  # fmt: skip
    if e["carbon_kg_per_kwh"] is not None:
        rows.append(("Carbon intensity", f"{e['carbon_kg_per_kwh']:g} kg CO2e per kWh",
                     "spec (cluster.carbon_kg_per_kwh)"))  # fmt: skip
    own = c["ownership"]
    if own is not None:
        spec = "spec (cluster.ownership)"
        rows += [
            ("Purchase price per GPU", fmt_usd(own["purchase_price_per_gpu"]),
             own["purchase_source"]),
            ("Infrastructure overhead", fmt_pct(own["infrastructure_overhead"], 0), spec),
            ("Electricity", f"USD {own['electricity_usd_per_kwh']:g} per kWh", spec),
            ("Hosting", f"USD {own['hosting_usd_per_kw_month']:g} per kW-month", spec),
            ("Depreciation", f"{own['depreciation_years']:g} years", spec),
            ("Utilisation of owned GPUs", fmt_pct(own["utilization"], 0), spec),
        ]  # fmt: skip
    rows += [
        ("Host RAM per node", gib_gb(b["host_memory_per_node"]), b["host_memory_source"]),
        ("Checkpoints kept", str(b["checkpoints_kept"]),
         "planner convention: the previous full checkpoint stays while the next is written"),
    ]  # fmt: skip
    return rows
