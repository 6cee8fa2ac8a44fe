"""The report's charts as ``Chart`` records: the numbers each chart plots
(from the estimate and plan JSON and the plan's what-if sweeps, all from
the Result) and a caption that says what to read from it. Drawing is
planner.report.charts."""

from __future__ import annotations

from typing import Any

from planner.plan.sweeps import Sweeps
from planner.report import charts, serving
from planner.report.budget import cluster_for
from planner.report.plan_sections import zero_text
from planner.report.records import Chart, gib
from planner.spec.model import Spec
from planner.units import plural

COMPONENTS = (
    ("master_weights", "fp32 master weights"),
    ("weights", "working weights"),
    ("gradients", "gradients"),
    ("optimizer_states", "optimizer states"),
    ("activations", "activations"),
    ("temporary", "temporary buffers"),
    ("runtime_overhead", "runtime overhead"),
)
PLAN_COMPONENTS = (*COMPONENTS[:5], ("other", "other (temporary, comm., fragmentation)"))


def _comparison(e: dict[str, Any]) -> tuple[str, str, str]:
    s, p = e["memory"]["simplified"], e["memory"]["precise"]
    svg = charts.memory_comparison(
        {label: s.get(k, 0) for k, label in COMPONENTS},
        {label: p[k] for k, label in COMPONENTS},
    )
    ratio = p["total"] / s["total"]
    cap = (
        f"The precise total ({gib(p['total'])}) is {ratio:,.1f}x the back-of-envelope one"
        f" ({gib(s['total'])}); the gap is the fp32 master weights, the fp32 optimizer states and"
        " the activations the back-of-envelope method leaves out."
    )
    return "Back-of-envelope vs precise memory (one replica)", cap, svg


def _precision(e: dict[str, Any]) -> tuple[str, str, str]:
    rows = [
        (r["precision"], {label: r["bytes_per_parameter"][k] for k, label in COMPONENTS[:4]})
        for r in e["precision_strategies"]
    ]
    cap = (
        "Mixed precision saves no model-state memory over fp32 with Adam: the fp32 master copy"
        " replaces the bytes the 16-bit weights and gradients save; the gain is speed and"
        " activation memory. The optimizer states dominate."
    )
    return "Bytes per parameter by precision strategy", cap, charts.precision_strategies(rows)


def _zero_label(p: dict[str, Any]) -> str:
    """Short bar label: "ZeRO-3", or "ZeRO-3 /2" for hybrid shards of 2."""
    z, d, g = p["zero_stage"], p["data_parallel"], p["zero_shard_group"]
    return f"ZeRO-{z} /{g}" if z > 0 and 0 < g < d else f"ZeRO-{z}"


def _plan_bars(plan: dict[str, Any], sw: Sweeps) -> tuple[str, str, str]:
    p = plan["plan"]
    head = f"plan\n{plural(p['gpus'], 'GPU')}\n{_zero_label(p)}"
    bars = [(head, {label: p["memory_per_gpu"][k] for k, label in PLAN_COMPONENTS})]
    for i, r in enumerate(plan["alternatives"][:4], start=2):
        if r["gpu"] != p["gpu"]:
            continue  # other GPU types have another usable line
        comp = r["memory_per_gpu"]
        bars.append((f"#{i}\n{plural(r['gpus'], 'GPU')}\n{_zero_label(r)}", {
            label: comp[k] for k, label in PLAN_COMPONENTS}))  # fmt: skip
    cap = (
        f"Each bar is one GPU of the layout's fullest stage; the dashed line is the usable memory"
        f" ({gib(p['usable_memory_per_gpu'])}). Bars below the line fit; the space above a bar is"
        " headroom. Runners-up are numbered by their rank in the plan section's table."
    )
    if any("/" in label for label, _ in bars):
        cap += (
            ' "ZeRO-3 /2" means hybrid sharding: states sharded over 2 data-parallel ranks and'
            " replicated across the rest."
        )
    return "Memory per GPU: plan and runners-up", cap, charts.plan_memory(bars, sw.usable)


def _zero(plan: dict[str, Any], sw: Sweeps, spec: Spec) -> tuple[str, str, str]:
    series = sw.zero
    p = plan["plan"]
    cap = (
        f"The chosen model-parallel group (t={p['tensor_parallel']}, p={p['pipeline_parallel']})"
        f" replicated d times, at micro-batch {p['micro_batch_size']} and recompute"
        f" {p['recompute']}: ZeRO-1 shards the optimizer"
        " states and fp32 master weights over the d copies, ZeRO-2 also the gradients, ZeRO-3"
        " also the 16-bit weights; activations are not sharded, so every line levels off at"
        " them. Points under the dashed line fit."
    )
    if p["zero_stage"] > 0 and 0 < p["zero_shard_group"] < p["data_parallel"]:
        cap += (
            f" The plan shards hybrid ({zero_text(p)}): its line levels off once the"
            f" {p['zero_shard_group']}-rank shards are full, and more replicas add no saving."
        )
    max_gpus = cluster_for(spec, p["gpu"]).max_gpus
    svg = charts.zero_stages(series, sw.usable, max_gpus)
    return "Memory per GPU vs GPU count by ZeRO stage", cap, svg


def _time_cost(plan: dict[str, Any], sw: Sweeps, spec: Spec) -> tuple[str, str, str] | None:
    pts = sw.gpus
    if len(pts) < 2:
        return None
    cap = (
        "The chosen layout with more or fewer data-parallel replicas (where it fits): more GPUs"
        " shorten the run until communication and the pipeline bubble grow; cost rises with"
        " every GPU that waits. The objective picked the marked point."
    )
    c, max_gpus = spec.constraints, cluster_for(spec, plan["plan"]["gpu"]).max_gpus
    limits = [f"the deadline (max_days {c.max_days:g})"] if c.max_days is not None else []
    budget = c.max_budget_usd
    top = max((p[2] for p in pts if p[2] is not None), default=None)
    if budget is not None and top is not None and budget > 5 * top:
        # Drawn, it would flatten the cost line onto the axis: said instead.
        cap += (
            f" The budget (max_budget_usd {budget:,.0f}) is more than 5x the dearest point"
            f" (USD {top:,.0f}) and is left off the cost axis."
        )
        budget = None
    elif budget is not None:
        limits.append(f"the budget (max_budget_usd {budget:,.0f})")
    if max(p[0] for p in pts) > max_gpus:
        limits.append(f"cluster.max_gpus ({max_gpus}): points right of it need more GPUs")
    if limits:
        cap += " Lines mark " + "; ".join(limits) + "."
    svg = charts.time_cost(pts, plan["plan"]["gpus"], max_gpus, c.max_days, budget)
    return "Time and cost vs GPU count", cap, svg


def _serving(e: dict[str, Any], plan: dict[str, Any], spec: Spec) -> tuple[str, str, str]:
    best = serving.options(plan)[0]
    c = serving.cluster_for(spec, best["gpu"])
    usable = best["usable_memory_per_gpu"]
    i, frag = e["inference"], spec.assumptions.allocator_fragmentation
    a = spec.model
    bars = []
    for t in (1, 2, 4, 8):
        if t > c.gpus_per_node or a.num_key_value_heads % t or a.num_attention_heads % t:
            continue
        comp = {"weights": i["weights"] / t, "KV cache": i["kv_cache"] / t,
                "activations": i["activations"] / t}  # fmt: skip
        comp["fragmentation"] = sum(comp.values()) * frag
        bars.append((f"t={t}", comp))
    cap = (
        f"Memory per GPU of one serving replica split over t GPUs by tensor parallelism; the"
        f" dashed line is the usable memory of one {c.gpu.name} ({gib(usable)})."
        " The smallest t under the line is the replica size."
    )
    return (
        "Serving memory per GPU vs tensor-parallel degree",
        cap,
        charts.plan_memory(bars, usable, "Serving memory per GPU vs tensor-parallel degree"),
    )


def make_charts(
    e: dict[str, Any], plan: dict[str, Any] | None, spec: Spec, sw: Sweeps | None
) -> dict[str, Chart]:
    made: list[tuple[str, tuple[str, str, str] | None]] = []
    if spec.training is not None:
        made += [("memory_comparison", _comparison(e)), ("precision_strategies", _precision(e))]
        if plan is not None and sw is not None:
            made += [("plan_memory", _plan_bars(plan, sw)), ("zero_stages", _zero(plan, sw, spec)),
                     ("time_cost", _time_cost(plan, sw, spec))]  # fmt: skip
    else:
        assert plan is not None, "an inference report needs its serving plan (plan_json)"
        if "capacity" in plan:
            from planner.report.capacity import cost_chart, latency_chart

            made += [("serving_latency", latency_chart(plan, spec)),
                     ("serving_cost", cost_chart(plan, spec))]  # fmt: skip
        else:
            made.append(("serving_memory", _serving(e, plan, spec)))
    out, n = {}, 0
    for key, got in made:
        if got is not None:
            n += 1
            out[key] = Chart(key, n, got[0], got[1], got[2])
    return out
