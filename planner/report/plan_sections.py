"""Sections 1, 4, 5 and 6 for a training plan: the summary, memory per GPU,
the layout with its findings, runners-up and near-misses, time and cost.

Input: the JSON of ``planner plan`` (planner.plan.plan_to_dict) and the
what-if sweeps (planner.plan.sweeps), both from the Result: nothing here
calls the planner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.plan.search import NO_PRICE
from planner.plan.sweeps import Sweeps
from planner.report import budget as bud
from planner.report.finetuning import finetuning_table
from planner.report.procurement import rent_vs_buy
from planner.report.records import Sections, Table, gib
from planner.spec.model import Spec
from planner.units import (
    fmt_beyond,
    fmt_change,
    fmt_duration,
    fmt_duration_range,
    fmt_int,
    fmt_nodes,
    fmt_pct,
    fmt_usd,
    money_lines,
)

MEMORY_ROWS = (
    ("weights", "16-bit working weights"),
    ("master_weights", "fp32 master weights"),
    ("gradients", "gradients"),
    ("optimizer_states", "optimizer states"),
    ("activations", "activations"),
)


def zero_text(p: dict[str, Any]) -> str:
    """ "ZeRO-3", or "ZeRO-3 hybrid (shards of 2, 8 replicas)" when the states
    are sharded over fewer ranks than the data-parallel degree."""
    z, d, g = p["zero_stage"], p["data_parallel"], p["zero_shard_group"]
    if z > 0 and 0 < g < d:
        return f"ZeRO-{z} hybrid (shards of {g}, {d // g} replicas)"
    return f"ZeRO-{z}"


def layout_text(p: dict[str, Any]) -> str:
    parts = [
        f"tensor parallel {p['tensor_parallel']}",
        f"pipeline parallel {p['pipeline_parallel']}",
    ]
    parts.append(f"data parallel {p['data_parallel']}")
    if p.get("context_parallel", 1) > 1:
        parts.append(f"context parallel {p['context_parallel']}")
    if p.get("expert_parallel", 1) > 1:
        parts.append(f"expert parallel {p['expert_parallel']}")
    text = " x ".join(parts) + f", {zero_text(p)}, recompute {p['recompute']}"
    if p["offload"] != "none":
        text += f", CPU offload of {p['offload']}"
    return text + f", micro-batch {p['micro_batch_size']}"


@dataclass(frozen=True)
class Summary:
    kind: str
    feasible: bool
    reason: str
    gpus: int
    gpu_name: str
    nodes: str
    layout: str
    duration: str
    duration_range: str
    gpu_hours: str
    cost: str
    price: str
    contingency_rate: str
    total: str
    constraints: Table | None
    risks: list[str]
    would_meet: list[str]


def _constraints(plan: dict[str, Any], spec: Spec) -> Table:
    c, tm, cost, p = spec.constraints, plan["time"], plan["cost"], plan["plan"]
    cl = bud.cluster_for(spec, p["gpu"])
    rows = [("GPUs (cluster.max_gpus)", fmt_int(cl.max_gpus), fmt_int(p["gpus"]),
             "met" if p["gpus"] <= cl.max_gpus else "not met")]  # fmt: skip
    rows.append(("fits in GPU memory", "-", gib(p["memory_per_gpu"]["total"]) + " per GPU",
                 "met" if p["fits"] else "not met"))  # fmt: skip
    if c.max_days is not None:
        over = tm["days"] - c.max_days
        rows.append(("duration (constraints.max_days)", f"{c.max_days:g} days",
                     f"{fmt_beyond(tm['days'], c.max_days)} days",
                     "met" if over <= 0
                     else f"not met: {fmt_beyond(over, 0)} days over"))  # fmt: skip
    if c.max_budget_usd is not None and cost["usd"] is not None:
        over = cost["usd"] - c.max_budget_usd
        rows.append(("cost (constraints.max_budget_usd)", fmt_usd(c.max_budget_usd),
                     fmt_usd(cost["usd"]),
                     "met" if over <= 0 else f"not met: {fmt_usd(over)} over"))  # fmt: skip
    return Table(("constraint", "limit", "plan", "status"), tuple(rows), ("l", "r", "r", "l"))


def _risks(plan: dict[str, Any], spec: Spec, sw: Sweeps) -> list[str]:
    risks = [f["message"] for f in plan["findings"] if f["severity"] in ("error", "warning")][:3]
    days = sw.mfu_days
    cl = bud.cluster_for(spec, plan["plan"]["gpu"])
    source = cl.mfu_source.replace(" (assumption)", ", an assumption")
    mfu = (
        f"The duration assumes MFU {fmt_pct(cl.mfu.expected, 0)} ({source}); at 20% lower"
        f" MFU the run takes {days[0.8]:,.1f} days instead of {days[1.0]:,.1f}"
    )
    limit, tm = spec.constraints.max_days, plan["time"]
    if limit is not None and days[0.8] > limit >= days[1.0]:
        mfu += f", which misses max_days {limit:g}"
    risks.append(mfu + ".")
    if limit is not None and tm["days_high"] > limit >= tm["days"]:
        risks.append(
            f"The slow end of the duration range ({tm['days_high']:,.1f} days: low MFU and low"
            f" goodput together) is past max_days {limit:g}; the deadline holds at the expected"
            " MFU and goodput, not at every point of the range."
        )
    if cl.price_is_indicative and cl.price_per_gpu_hour is not None:
        risks.append("The GPU price is the catalog's indicative figure, not a quote.")
    p = plan["plan"]
    margin = p["margin_bytes"] / p["usable_memory_per_gpu"]
    if p["fits"] and margin < 0.1:
        risks.append(
            f"Little memory headroom: {gib(p['margin_bytes'])} ({fmt_pct(margin)}) of the usable"
            " memory is left; an allocator spike can run out of memory."
        )
    return risks


def training_summary(plan: dict[str, Any] | None, spec: Spec, sw: Sweeps) -> Summary:
    assert plan is not None
    p, tm, cost = plan["plan"], plan["time"], plan["cost"]
    cl = bud.cluster_for(spec, p["gpu"])
    fz = plan["feasibility"]
    rate = spec.report.contingency
    usd = cost["usd"]
    return Summary(
        kind="training",
        feasible=plan["feasible"],
        reason="; ".join(fz["reasons"]) + ("." if fz["reasons"] else ""),
        gpus=p["gpus"],
        gpu_name=cl.gpu.name,
        nodes=fmt_nodes(p["gpus"], cl.gpus_per_node),
        layout=layout_text(p),
        duration=fmt_duration(tm["days"] * 86400),
        duration_range=fmt_duration_range(
            tm["days_low"] * 86400, tm["days_high"] * 86400, like=tm["days"] * 86400
        ),
        gpu_hours=f"{tm['gpu_hours']:,.0f}",
        cost=NO_PRICE if usd is None else fmt_usd(usd),
        price=bud.price_text(cl),
        contingency_rate=fmt_pct(rate, 0),
        total=NO_PRICE if usd is None else money_lines(usd, rate)[2],
        constraints=_constraints(plan, spec),
        risks=_risks(plan, spec, sw),
        would_meet=list(fz["would_meet"]),
    )


def _memory_table(p: dict[str, Any]) -> Table:
    m, usable = p["memory_per_gpu"], p["usable_memory_per_gpu"]
    rows = [(label, gib(m[k]), fmt_pct(m[k] / usable)) for k, label in MEMORY_ROWS]
    for k, v in m["other_detail"].items():
        rows.append((f"{k} buffers" if k != "fragmentation" else "allocator fragmentation",
                     gib(v), fmt_pct(v / usable)))  # fmt: skip
    rows += [
        ("total", gib(m["total"]), fmt_pct(m["total"] / usable)),
        ("usable (device memory - CUDA context)", gib(usable), "100.0%"),
        ("headroom" if p["margin_bytes"] >= 0 else "shortfall", gib(abs(p["margin_bytes"])), ""),
    ]
    if p["offload"] != "none":  # planner/plan/offload.py: host RAM the offload needs
        host, of = p["host_memory_per_node"], p["usable_host_memory_per_node"]
        rows.append(("host RAM per node (CPU offload)", gib(host), f"{fmt_pct(host / of)} of host"))
    return Table(("component (per GPU)", "memory", "share of usable"), tuple(rows))


def _optimizations(sw: Sweeps, plan: dict[str, Any]) -> Table | None:
    p, days = plan["plan"], plan["time"]["days"]
    rows = []
    for off in sw.switched_off:
        name, mem, rt = off.name, off.memory, off.time
        saved = mem.total - p["memory_per_gpu"]["total"]
        fits = "fits" if mem.fits else "does not fit"
        rows.append((name, gib(mem.total) + f" ({fits})", gib(saved),
                     fmt_change(days / rt.days - 1)))  # fmt: skip
    if not rows:
        return None
    return Table(("optimization", "memory per GPU without it", "saves", "time cost"), tuple(rows))


def _candidates(rows: list[dict[str, Any]], spec: Spec, miss: bool) -> Table | None:
    if not rows:
        return None
    out = []
    for i, r in enumerate(rows, start=2):
        gpu = bud.cluster_for(spec, r["gpu"]).gpu.name
        days = fmt_duration(r["days"] * 86400) if not miss else ""
        tail = (
            (r.get("reason", ""),)
            if miss
            else (days, NO_PRICE if r["usd"] is None else fmt_usd(r["usd"]))
        )
        # Runners-up are numbered from #2 (the plan is #1), as the memory chart labels them.
        rank = () if miss else (f"#{i}",)
        out.append((*rank, f"{fmt_int(r['gpus'])} x {gpu}: " + layout_text(r),
                    gib(r["memory_per_gpu_total"]), *tail))  # fmt: skip
    head = ("layout", "memory per GPU") + (("why not",) if miss else ("duration", "cost"))
    if miss:
        return Table(head, tuple(out), ("l", "r", "l"))
    return Table(("#", *head), tuple(out), ("l", "l", "r", "r", "r"))


def fill_plan_sections(x: Sections, plan: dict[str, Any], spec: Spec, sw: Sweeps) -> None:
    p = plan["plan"]
    cl = bud.cluster_for(spec, p["gpu"])
    x.budget, x.budget_notes = bud.budget_table(plan, spec)
    x.purchase = rent_vs_buy(plan) or bud.purchase_table(
        p["gpus"], plan["time"]["gpu_hours"], spec, cl
    )
    x.purchase_ownership = plan["cost"]["ownership"] is not None
    x.plan_layout = _layout_table(plan, spec)
    x.plan_memory = _memory_table(p)
    x.optimizations = _optimizations(sw, plan)
    x.findings = Table(
        ("rule", "severity", "finding"),
        tuple((f["id"], f["severity"], f["message"]) for f in plan["findings"]),
        ("l", "l", "l"),
    ) if plan["findings"] else None  # fmt: skip
    x.alternatives = _candidates(plan["alternatives"], spec, miss=False)
    x.near_misses = _candidates(plan["near_misses"], spec, miss=True)
    x.finetuning, x.finetuning_notes = finetuning_table(plan)
    x.time_cost = bud.time_table(plan)
    br = plan["time"]["step_breakdown_seconds"]
    parts = ", ".join(f"{k.replace('_', ' ')} {v:,.2f} s" for k, v in br.items() if v)
    x.time_notes = [
        f"One optimizer step ({fmt_int(spec.global_batch_size)} sequences) takes"
        f" {plan['time']['step_seconds']:,.2f} s at the expected MFU: {parts}.",
        f"Duration = {plan['time']['steps']:,.0f} steps x step time / goodput"
        f" {fmt_pct(spec.assumptions.goodput, 0)} (restarts, evaluation, stalls);"
        f" {plan['time']['range_meaning']}",
    ]
    x.sensitivity = bud.sensitivity_table(sw.mfu_days, cl.pricing, p["gpus"])


def _layout_table(plan: dict[str, Any], spec: Spec) -> Table:
    p = plan["plan"]
    cl = bud.cluster_for(spec, p["gpu"])
    rows = [
        ("GPU", cl.gpu.name),
        ("GPUs", f"{p['gpus']} ({fmt_nodes(p['gpus'], cl.gpus_per_node)})"),
        ("tensor parallel (t)", str(p["tensor_parallel"])),
        ("sequence parallel", "yes" if p["sequence_parallel"] else "no"),
        ("pipeline parallel (p)", str(p["pipeline_parallel"])),
        ("data parallel (d)", str(p["data_parallel"])),
        ("ZeRO stage", zero_text(p)),
        ("activation recompute", p["recompute"]),
        ("CPU offload", p["offload"]),
        ("micro-batch x micro-batches per step",
         f"{p['micro_batch_size']} x {p['num_microbatches']}"),
        ("objective", plan["objective_text"]),
    ]  # fmt: skip
    if p["context_parallel"] > 1:
        rows.insert(5, ("context parallel (c)", str(p["context_parallel"])))
    if p["expert_parallel"] > 1:
        rows.insert(5, ("expert parallel (e)", str(p["expert_parallel"])))
    return Table(("setting", "value"), tuple(rows), ("l", "l"))
