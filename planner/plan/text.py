"""Plain-text summary of a plan for the terminal (``planner plan``)."""

from __future__ import annotations

from planner.plan.costout import bill_of_materials, energy_dict, pricing_fields
from planner.plan.feasibility import feasibility
from planner.plan.jsonout import deepspeed_figure, mfu_end_to_end
from planner.plan.result import Plan
from planner.plan.search import NO_PRICE, Candidate, objective_text
from planner.units import fmt_bytes, fmt_int, fmt_kg, fmt_pct, fmt_usd, plural


def _usd(x: float | None) -> str:
    return NO_PRICE if x is None else fmt_usd(x)


def _cand(c: Candidate, unit: str) -> str:
    lay, mem = c.layout, (c.memory.total if c.memory else c.states_bytes)
    tail = c.reason or (
        f"{c.time.days:,.1f} days, {_usd(c.time.usd)}" if c.time is not None else ""
    )
    size = fmt_bytes(mem, unit, 1)
    gpus = plural(lay.gpus, "GPU")
    return f"  {c.cluster.gpu.key:12} {gpus:>11}  {lay.describe()}  {size}  {tail}"


def render_plan(plan: Plan, unit: str = "GiB") -> str:
    s, lay, m, cl = plan.spec, plan.layout, plan.memory, plan.cluster
    e, lo, hi = plan.times["expected"], plan.times["low"], plan.times["high"]
    verdict = "fits" if m.fits else "DOES NOT FIT"
    out = [
        f"{s.title}  ({s.source})",
        "",
        f"Plan ({objective_text(s)}): {lay.gpus} x {cl.gpu.name}"
        f" on {plural(lay.nodes(cl.gpus_per_node), 'node')}",
        f"  layout: {lay.describe()};"
        f" {plural(lay.num_microbatches, 'micro-batch', 'micro-batches')} per step",
        f"  memory per GPU ({m.stage} stage): {fmt_bytes(m.total, unit)} of usable"
        f" {fmt_bytes(m.usable, unit)} -> {verdict} (margin {fmt_bytes(m.margin, unit)})",
    ]
    ad = plan.model.trainable.adapters
    weights = f"weights ({ad.base} base + adapters)" if ad is not None else "weights (16-bit)"
    for name, val in (
        (weights, m.weights),
        ("master weights (fp32)", m.master_weights),
        ("gradients", m.gradients),
        ("optimizer states", m.optimizer_states),
        ("activations", m.activations),
        ("temporaries", m.temporary),
        ("communication buffers", m.communication),
        ("allocator fragmentation", m.fragmentation),
    ):
        out.append(f"    {name:24} {fmt_bytes(val, unit):>14}")
    if lay.offload != "none":
        h = plan.host
        out.append(
            f"  host RAM per node (CPU offload, {h.ranks} ranks): {fmt_bytes(h.total, 'GB')}"
            f" of {fmt_bytes(h.usable, 'GiB')} ({'fits' if h.fits else 'DOES NOT FIT'};"
            f" master {fmt_bytes(h.master_weights, 'GB')}, optimizer"
            f" {fmt_bytes(h.optimizer_states, 'GB')}, gradients {fmt_bytes(h.gradients, 'GB')},"
            f" weights {fmt_bytes(h.weights, 'GB')}, pinned {fmt_bytes(h.pinned_buffers, 'GB')})"
        )
    ds = deepspeed_figure(plan)
    if ds is not None:
        out.append(
            f"  model states {fmt_bytes(m.model_states, unit)} (ZeRO paper convention);"
            f" DeepSpeed's estimator says {fmt_bytes(ds, unit)} for this layout"
        )
    st = e.step
    out += [
        "",
        f"Time: step {st.total:,.2f} s (compute {st.compute:,.2f}, bubble {st.bubble:,.2f},"
        f" TP {st.tensor_parallel:,.2f}, PP {st.pipeline:,.2f}, DP {st.data_parallel:,.2f},"
        f" ZeRO-3 {st.zero3_gather:,.2f}, offload {st.offload:,.2f}) at kernel MFU"
        f" {fmt_pct(st.mfu)} (end-to-end {fmt_pct(mfu_end_to_end(plan, e))})",
        f"  {fmt_int(e.tokens_per_second)} tokens/s; {e.days:,.1f} days budgeted"
        f" (range {lo.days:,.1f}-{hi.days:,.1f}; goodput {fmt_pct(s.assumptions.goodput, 0)})",
        f"  GPU-hours {fmt_int(e.gpu_hours)} budgeted ({fmt_int(e.gpu_hours_steady)} steady)",
        f"Cost: {_usd(e.usd)} (range {_usd(lo.usd)} to {_usd(hi.usd)}); price: {cl.price_source}"
        if e.usd is not None
        else f"Cost: {NO_PRICE} (cluster.price_per_gpu_hour, USD)",
    ]
    out += _procurement(plan)
    fz = feasibility(plan)
    if not fz.feasible:
        out += ["", "INFEASIBLE: no plan meets the constraints. What would meet them:"]
        out += [f"  - {w}" for w in fz.would_meet] or ["  - (see the findings)"]
    if plan.findings:
        out += ["", "Findings:"]
        out += [f"  {f.id} [{f.severity}] {f.message}" for f in plan.findings]
    if plan.alternatives:
        out += ["", "Runners-up:"] + [_cand(c, unit) for c in plan.alternatives]
    if plan.search.near_misses:
        out += ["", "Near misses:"] + [_cand(c, unit) for c in plan.search.near_misses]
    out.append("")
    out.append(f"Sizes in {unit} ({'2^30' if unit == 'GiB' else '1e9'} bytes).")
    return "\n".join(out)


def _procurement(plan: Plan) -> list[str]:
    """Pricing model, ownership, energy and bill of materials (costout.py)."""
    c, e, b = pricing_fields(plan), energy_dict(plan), bill_of_materials(plan)
    out = []
    if c["pricing_model"] != "on-demand":
        out.append(f"  pricing: {c['pricing_text']}; billed GPU-hours {c['billed_gpu_hours']:,.0f}")
        if c["unused_reserved_gpu_hours"] > 0:
            out.append(
                f"  the reservation is paid for whole terms: {c['unused_reserved_gpu_hours']:,.0f}"
                " reserved GPU-hours are not used by this run"
            )
    own = c["ownership"]
    if own is not None:
        u = own["breakeven_utilization"]
        be = "" if own["rent_usd_per_gpu_hour"] is None else (
            "; renting is cheaper at any utilisation" if u is None
            else f"; break-even utilisation {fmt_pct(u)} vs rent"
            f" USD {own['rent_usd_per_gpu_hour']:,.2f}"
        )  # fmt: skip
        out.append(f"Owned: USD {own['usd_per_gpu_hour']:,.3f} per GPU-hour{be}")
    if e["kwh"] is not None:
        co2 = "" if e["co2_kg"] is None else f"; CO2 {fmt_kg(e['co2_kg'])}"
        out.append(
            f"Energy: {e['kwh']:,.0f} kWh (upper bound: {e['kw_per_gpu']:,.3f} kW per GPU at"
            f" maximum power, PUE {e['pue']:g}){co2}"
        )
    out.append(
        f"Bill of materials: host RAM {fmt_bytes(b['host_memory_total'], 'GiB')} over"
        f" {plural(b['nodes'], 'node')}; checkpoint storage"
        f" {fmt_bytes(b['checkpoint_storage_bytes'], 'GB')} ({b['checkpoints_kept']} x"
        f" {fmt_bytes(b['checkpoint_bytes'], 'GB')})"
    )
    return out
