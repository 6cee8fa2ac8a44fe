"""Recommendation rules: small functions with stable ids (REC-001 ...).

Each rule reads a finished ``Plan`` and returns the findings it fires on,
with the decisive numbers in the message. Ids are never reused. The
docstring of each rule says what it recommends, why, the formula and the
source; ``planner rules ID`` prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from planner.plan.memory import gpu_memory, states_lower_bound
from planner.plan.result import Finding, Plan
from planner.units import fmt_bytes, fmt_bytes_both, fmt_pct

Rule = Callable[[Plan], list[Finding]]
RULES: dict[str, Rule] = {}


def register(rule_id: str) -> Callable[[Rule], Rule]:
    """Add a rule to the registry under a stable id (pycodestyle's register_check)."""

    def deco(fn: Rule) -> Rule:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = fn
        return fn

    return deco


def run_rules(plan: Plan) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for fn in RULES.values():
        out += fn(plan)
    return tuple(out)


def _gpu(plan: Plan) -> str:
    return f"{plan.layout.gpus} x {plan.cluster.gpu.name}"


@register("REC-001")
def bf16_mixed(plan: Plan) -> list[Finding]:
    """Use bf16-mixed precision on GPUs that support bf16.

    bf16 has fp32's exponent range, so it needs no loss scaling; fp16-mixed
    needs dynamic loss scaling to keep small gradients from underflowing
    (Micikevicius et al. 2018, "Mixed Precision Training", s3.2). Both keep
    16 bytes/param with Adam (ZeRO s3.1), so the switch costs no memory.
    GPUs without bf16 (V100) must use fp16-mixed. Fires when fp16-mixed or
    fp32 is asked for on a bf16 GPU (warning), or a bf16 mode on a GPU
    without bf16 (error)."""
    prec, g = plan.model.training.precision, plan.cluster.gpu
    if prec.startswith("bf16") and not g.supports_bf16:
        return [
            Finding(
                "REC-001",
                "error",
                f"{g.name} has no bf16 tensor cores; {prec} falls back"
                " to fp16/fp32 throughput: use fp16-mixed with dynamic loss scaling",
            )
        ]
    if prec in ("fp16-mixed", "fp32") and g.supports_bf16:
        peak = g.peak_flops("bf16") or 0.0
        return [
            Finding(
                "REC-001",
                "warning",
                f"{g.name} supports bf16 ({peak / 1e12:,.0f} dense"
                f" TFLOP/s): use bf16-mixed instead of {prec}; no loss scaling needed",
            )
        ]
    return []


@register("REC-002")
def fp8_only_where_supported(plan: Plan) -> list[Finding]:
    """Use fp8-mixed only on GPUs with FP8 tensor cores (Hopper, Ada,
    Blackwell, MI300). Elsewhere Transformer Engine's FP8 recipe has no
    hardware path (NVIDIA Transformer Engine docs, "Using FP8"); the plan
    then times compute at the bf16/fp16 peak. Fires (error) when fp8-mixed
    is asked for on a GPU whose catalog entry has no fp8 TFLOP/s."""
    g = plan.cluster.gpu
    if plan.model.training.precision == "fp8-mixed" and not g.supports_fp8:
        return [
            Finding(
                "REC-002",
                "error",
                f"{g.name} has no FP8 tensor cores: fp8-mixed is not"
                " available; use bf16-mixed (timed here at the bf16 peak)",
            )
        ]
    return []


@register("REC-003")
def recompute(plan: Plan) -> list[Finding]:
    """Recompute activations only when they do not fit: selective first,
    full when needed, and say what it costs.

    Selective recompute drops the attention core (the s x s scores; 5as^2b
    bytes per layer) and repeats its forward; full recompute keeps only each
    layer's input (2sbh) and repeats the whole forward (Korthikanti et al.
    2022 s5; Narayanan et al. 2021 eq. 3). Cost = hardware FLOPs / model
    FLOPs - 1 (planner.estimate.compute). Fires when the chosen layout
    recomputes."""
    lay = plan.layout
    if lay.recompute == "none":
        return []
    usable = plan.memory.usable
    without = gpu_memory(plan.model, replace(lay, recompute="none"), usable).total
    f = plan.flops[lay.recompute]
    cost = f.hardware_per_token / f.model_per_token - 1
    msg = (
        f"{lay.recompute} recompute: without it this layout needs {fmt_bytes(without)} per GPU"
        f" > usable {fmt_bytes(usable)}; with it {fmt_bytes(plan.memory.total)};"
        f" costs {fmt_pct(cost)} more compute"
    )
    if lay.recompute == "full":
        sel = gpu_memory(plan.model, replace(lay, recompute="selective"), usable).total
        msg += f" (selective would need {fmt_bytes(sel)}, still too much)"
    return [Finding("REC-003", "info", msg)]


def _zero3_gpus(states: int, usable: int) -> int:
    """Smallest N_d >= 2 with (2+2+K)Ψ/N_d <= usable (ZeRO s5)."""
    if usable <= 0:  # refused at validation (planner/spec/crosscheck.py); never loop
        raise ValueError("no usable memory per GPU")
    n = 2
    while -(-states // n) > usable and n < 1 << 62:  # at most 61 doublings
        n *= 2
    return n


@register("REC-004")
def zero_stage(plan: Plan) -> list[Finding]:
    """Shard model states with ZeRO when one replica's states do not fit, or
    explain the stage chosen.

    Per GPU (Rajbhandari et al. 2020, ZeRO s5, Figure 1): baseline
    (2+2+K)Ψ, P_os 2Ψ+2Ψ+KΨ/N_d, P_os+g 2Ψ+(2+K)Ψ/N_d, P_os+g+p
    (2+2+K)Ψ/N_d, with K = 12 for mixed-precision Adam. Stages 1-2 cost no
    extra communication over data parallelism; stage 3 adds 50% (ZeRO s7).
    Fires when the replica's states exceed usable memory, or when the chosen
    layout uses ZeRO."""
    lay, usable = plan.layout, plan.memory.usable
    replica = replace(lay, zero_stage=0, offload="none")
    states = states_lower_bound(plan.model, replica)
    if states > usable:
        n = _zero3_gpus(states, usable)
        off = plan.model.gpu_states(
            max(plan.model.stage_params(replica)), replace(replica, offload="optimizer")
        )
        msg = (
            f"model states {fmt_bytes_both(states, 1)} per model replica (t={lay.t}, p={lay.p})"
            f" > usable {fmt_bytes(usable, 'GiB', 1)} on one {plan.cluster.gpu.name};"
            f" ZeRO-3 over {n} GPUs brings them to {fmt_bytes(-(-states // n), 'GiB', 1)},"
            f" tensor parallel t={2 * lay.t} to about {fmt_bytes(states // 2, 'GiB', 1)},"
            f" optimizer offload to {fmt_bytes(off.total, 'GiB', 1)} (16-bit weights only);"
            f" this plan: {lay.describe()},"
            f" model states {fmt_bytes(plan.memory.model_states, 'GiB', 1)}"
        )
        return [Finding("REC-004", "info" if plan.fits else "error", msg)]
    if lay.zero_stage > 0:
        return [
            Finding(
                "REC-004",
                "info",
                f"ZeRO-{lay.zero_stage} over {lay.z} data-parallel ranks"
                f"{' (hybrid: ' + str(lay.d // lay.z) + ' replicas)' if lay.hybrid else ''}:"
                " model states"
                f" {fmt_bytes(states, 'GiB', 1)} -> {fmt_bytes(plan.memory.model_states, 'GiB', 1)}"
                " per GPU",
            )
        ]
    return []


@register("REC-005")
def cpu_offload(plan: Plan) -> list[Finding]:
    """Offload optimizer states (and parameters) to CPU memory only when the
    GPU count is capped.

    ZeRO-Offload (Ren et al. 2021, s4) moves fp32 master weights, Adam
    states and gradients to the host (12-14 bytes/param off the GPU) at the
    price of PCIe transfers and a CPU optimizer step every iteration;
    ZeRO-Infinity also moves the 16-bit weights. More GPUs with ZeRO-3 are
    faster when they are available. Fires when the plan offloads."""
    lay = plan.layout
    if lay.offload == "none":
        return []
    st = plan.expected.step
    share = st.offload / st.total if st.total else 0.0
    return [
        Finding(
            "REC-005",
            "warning",
            f"CPU offload ({lay.offload}) because max_gpus ="
            f" {plan.cluster.max_gpus} caps the GPU count: adds {st.offload:,.2f} s per"
            f" step ({fmt_pct(share)} of the step); more GPUs with ZeRO-3 avoid it",
        )
    ]


@register("REC-006")
def tp_in_node_pp_across(plan: Plan) -> list[Finding]:
    """Keep tensor parallelism inside a node's NVLink domain; split across
    nodes with pipeline (and data) parallelism.

    TP all-reduces activations twice per layer in forward and backward, so
    it needs the fast intra-node links; pipeline parallelism sends only
    activations at stage boundaries (Narayanan et al. 2021 s3.2, Takeaway
    #1). Fires (warning) when t exceeds the NVLink domain, (info) when a
    model-parallel group spans nodes."""
    lay, cl = plan.layout, plan.cluster
    g = cl.gpu
    if lay.t > g.nvlink_domain_gpus:
        return [
            Finding(
                "REC-006",
                "warning",
                f"tensor parallel t={lay.t} exceeds the"
                f" {g.nvlink_domain_gpus}-GPU NVLink domain: all-reduces run at"
                f" {g.inter_node_gb_s:g} GB/s instead of {g.intra_node_gb_s:g} GB/s; use"
                " pipeline parallelism across nodes",
            )
        ]
    if lay.t * lay.p > cl.gpus_per_node:
        return [
            Finding(
                "REC-006",
                "info",
                f"tensor parallel t={lay.t} stays within a node"
                f" ({g.intra_node_gb_s:g} GB/s NVLink); pipeline p={lay.p} spans"
                f" {-(-lay.t * lay.p // cl.gpus_per_node)} nodes ({g.inter_node_gb_s:g}"
                " GB/s per GPU)",
            )
        ]
    return []


@register("REC-007")
def flash_attention(plan: Plan) -> list[Finding]:
    """Use fused (flash) attention.

    Eager attention stores the softmax output, dropout mask and output, 5as^2b
    bytes per layer (Korthikanti et al. 2022 eq. 1); FlashAttention keeps only
    O(s) row statistics and is faster (Dao et al. 2022, s3). Fires when the
    spec asks for eager attention."""
    if plan.model.training.attention != "eager":
        return []
    lay = plan.layout
    ab = plan.model.act_bytes(lay.micro_batch_size, "none")
    sel = plan.model.act_bytes(lay.micro_batch_size, "selective")
    per_layer = (ab.layer_tp - sel.layer_tp) / lay.t
    return [
        Finding(
            "REC-007",
            "warning",
            "eager attention stores the s x s scores:"
            f" {fmt_bytes(per_layer, 'GiB', 2)} per layer per GPU at micro-batch"
            f" {lay.micro_batch_size}; use flash attention (no recompute of them needed)",
        )
    ]


@register("REC-008")
def cannot_fit(plan: Plan) -> list[Finding]:
    """Say when no layout fits within max_gpus, and give the minimum GPU count.

    The minimum is found by the same memory model over t x p x d with
    ZeRO 1-3, full recompute and micro-batch 1 (planner.plan.search
    .min_gpus_to_fit). Fires when the plan does not fit."""
    if plan.fits:
        return []
    m = plan.memory
    msg = (
        f"does not fit on {_gpu(plan)} (max_gpus {plan.cluster.max_gpus}): the nearest layout"
        f" needs {fmt_bytes(m.total, 'GiB', 1)} per GPU, {fmt_bytes(-m.margin, 'GiB', 1)} over"
        f" usable {fmt_bytes(m.usable, 'GiB', 1)}"
    )
    best = plan.min_gpus.get(plan.cluster.gpu.key)
    if best is not None:
        msg += f"; the minimum is {best.gpus} GPUs ({best.describe()})"
    else:
        msg += "; no layout fits at this global batch size"
    return [Finding("REC-008", "error", msg)]


@register("REC-009")
def deadline(plan: Plan) -> list[Finding]:
    """Say when the run cannot meet ``constraints.max_days``, and by how much.

    Days = budgeted time (steady / goodput) at the expected MFU. The GPU
    count that would meet it is estimated by linear scaling, a lower bound
    (communication grows with scale). Fires when days > max_days."""
    limit, t = plan.spec.constraints.max_days, plan.expected
    if limit is None or t.days <= limit:
        return []
    need = -(-round(plan.layout.gpus * t.days / limit * 1000) // 1000)
    return [
        Finding(
            "REC-009",
            "error",
            f"takes {t.days:,.1f} days > max_days {limit:g}"
            f" ({t.days - limit:,.1f} days, {fmt_pct(t.days / limit - 1)} over);"
            f" meeting it needs at least about {need} GPUs",
        )
    ]


@register("REC-010")
def budget(plan: Plan) -> list[Finding]:
    """Say when the expected cost exceeds ``constraints.max_budget_usd``.

    Cost = budgeted GPU-hours x price per GPU-hour (the spec's, or the
    catalog's indicative price). Fires when cost > max_budget_usd."""
    limit, usd = plan.spec.constraints.max_budget_usd, plan.expected.usd
    if limit is None or usd is None or usd <= limit:
        return []
    return [
        Finding(
            "REC-010",
            "error",
            f"expected cost USD {usd:,.0f} > max_budget_usd"
            f" {limit:,.0f} (USD {usd - limit:,.0f}, {fmt_pct(usd / limit - 1)} over)",
        )
    ]


LONG_RUN_DAYS = 30.0


@register("REC-011")
def no_deadline(plan: Plan) -> list[Finding]:
    """Ask for a deadline when the cheapest plan runs long without one.

    Without ``constraints.max_days`` the objective ``cheapest`` favours few
    GPUs: cost barely depends on the GPU count while the run gets longer in
    proportion (cost ~ GPU-hours; days ~ GPU-hours / GPUs). Fires, as a
    warning, when no max_days is set and the plan takes more than 30 days
    (a planning horizon past which the choice should be deliberate), and
    names the fastest fitting plan found with its cost, so the reader can
    set max_days between the two."""
    if plan.spec.constraints.max_days is not None or not plan.fits:
        return []
    days = plan.expected.days
    if days <= LONG_RUN_DAYS or plan.spec.objective != "cheapest":
        return []
    timed = [(c, c.time) for c in plan.search.ranked if c.time is not None]
    fastest, t = min(timed, key=lambda ct: ct[1].days)
    cost = "" if t.usd is None or plan.expected.usd is None else (
        f" at USD {t.usd:,.0f} ({fmt_pct(t.usd / plan.expected.usd - 1)} more)"
    )  # fmt: skip
    return [
        Finding(
            "REC-011",
            "warning",
            f"no constraints.max_days: the cheapest plan takes {days:,.1f} days on"
            f" {plan.layout.gpus} GPUs; the fastest found takes {t.days:,.1f} days on"
            f" {fastest.layout.gpus} x {fastest.cluster.gpu.name}{cost}; set max_days to choose",
        )
    ]
