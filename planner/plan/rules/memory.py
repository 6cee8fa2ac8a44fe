"""Rules on precision and memory: REC-001 (bf16), REC-002 (fp8), REC-003
(recompute), REC-004 (ZeRO), REC-005 (CPU offload), REC-007 (flash
attention)."""

from __future__ import annotations

from dataclasses import replace

from planner.findings import Evidence, Finding, ev
from planner.plan.memory import gpu_memory, states_lower_bound
from planner.plan.result import Plan
from planner.plan.rules.registry import register
from planner.units import fmt_bytes, fmt_bytes_both, fmt_pct


@register("REC-001", "Micikevicius et al. 2018, Mixed Precision Training, s3.2; ZeRO s3.1")
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
        msg = (
            f"{g.name} has no bf16 tensor cores; {prec} falls back"
            " to fp16/fp32 throughput: use fp16-mixed with dynamic loss scaling"
        )
        return [Finding("REC-001", "error", msg, (ev("precision", prec), ev("gpu", g.key)))]
    if prec in ("fp16-mixed", "fp32") and g.supports_bf16:
        peak = g.peak_flops("bf16") or 0.0
        msg = (
            f"{g.name} supports bf16 ({peak / 1e12:,.0f} dense"
            f" TFLOP/s): use bf16-mixed instead of {prec}; no loss scaling needed"
        )
        evidence = (ev("precision", prec), ev("bf16_dense_peak", peak / 1e12, "TFLOP/s"))
        return [Finding("REC-001", "warning", msg, evidence)]
    return []


@register("REC-002", "NVIDIA Transformer Engine docs, Using FP8 with Transformer Engine")
def fp8_only_where_supported(plan: Plan) -> list[Finding]:
    """Use fp8-mixed only on GPUs with FP8 tensor cores (Hopper, Ada,
    Blackwell, MI300). Elsewhere Transformer Engine's FP8 recipe has no
    hardware path (NVIDIA Transformer Engine docs, "Using FP8"); the plan
    then times compute at the bf16/fp16 peak. Fires (error) when fp8-mixed
    is asked for on a GPU whose catalog entry has no fp8 TFLOP/s."""
    g = plan.cluster.gpu
    if plan.model.training.precision == "fp8-mixed" and not g.supports_fp8:
        msg = (
            f"{g.name} has no FP8 tensor cores: fp8-mixed is not"
            " available; use bf16-mixed (timed here at the bf16 peak)"
        )
        return [Finding("REC-002", "error", msg, (ev("gpu", g.key),))]
    return []


def _recompute_reason(plan: Plan) -> str:
    fixed = plan.spec.parallelism
    if fixed is not None and getattr(fixed, "recompute", None) is not None:
        return "parallelism.recompute fixes it"
    return f"the search ranked it first at micro-batch {plan.layout.micro_batch_size}"


@register("REC-003", "Korthikanti et al. 2022 s5; Narayanan et al. 2021 eq. 3")
def recompute(plan: Plan) -> list[Finding]:
    """Recompute activations only when they do not fit: selective first,
    full when needed, and say what it costs.

    Selective recompute drops the attention core (the s x s scores; 5as^2b
    bytes per layer) and repeats its forward; full recompute keeps only each
    layer's input (2sbh) and repeats the whole forward (Korthikanti et al.
    2022 s5; Narayanan et al. 2021 eq. 3). Cost = hardware FLOPs / model
    FLOPs - 1 (planner.estimate.compute). Fires when the chosen layout
    recomputes: as info when the layout needs it to fit, as a warning when
    it would fit without it (every comparison printed holds)."""
    lay = plan.layout
    if lay.recompute == "none":
        return []
    usable = plan.memory.usable
    without = gpu_memory(plan.model, replace(lay, recompute="none"), usable).total
    f = plan.flops[lay.recompute]
    cost = f.hardware_per_token / f.model_per_token - 1
    evidence = [
        ev("memory_per_gpu", plan.memory.total, "bytes"),
        ev("memory_per_gpu_without_recompute", without, "bytes"),
        ev("usable_memory_per_gpu", usable, "bytes"),
        ev("extra_compute", cost, "fraction"),
    ]
    with_it = f"with it {fmt_bytes(plan.memory.total)}; costs {fmt_pct(cost)} more compute"
    if without <= usable:
        msg = (
            f"{lay.recompute} recompute although this layout fits without it"
            f" ({fmt_bytes(without)} per GPU <= usable {fmt_bytes(usable)}):"
            f" {_recompute_reason(plan)}; {with_it}"
        )
        return [Finding("REC-003", "warning", msg, tuple(evidence))]
    msg = (
        f"{lay.recompute} recompute: without it this layout needs {fmt_bytes(without)} per GPU"
        f" > usable {fmt_bytes(usable)}; {with_it}"
    )
    if lay.recompute == "full":
        sel = gpu_memory(plan.model, replace(lay, recompute="selective"), usable).total
        evidence.append(ev("memory_per_gpu_selective", sel, "bytes"))
        verdict = "still too much" if sel > usable else "which fits but ranked lower"
        msg += f" (selective would need {fmt_bytes(sel)}, {verdict})"
    return [Finding("REC-003", "info", msg, tuple(evidence))]


def _zero3_gpus(states: int, usable: int) -> int:
    """Smallest N_d in 2, 4, 8, ... with (2+2+K)Ψ/N_d <= usable (ZeRO s5);
    bounded: usable is positive (validated), so at most log2(states) steps."""
    n = 2
    while -(-states // n) > usable and n < states:
        n *= 2
    return n


@register("REC-004", "Rajbhandari et al. 2020, ZeRO, s5 and Figure 1; s7")
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
    evidence: tuple[Evidence, ...] = (
        ev("model_states_per_replica_gpu", states, "bytes"),
        ev("model_states_per_gpu", plan.memory.model_states, "bytes"),
        ev("usable_memory_per_gpu", usable, "bytes"),
    )
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
        evidence += (ev("zero3_gpus_to_fit", n, "GPUs"),)
        return [Finding("REC-004", "info" if plan.fits else "error", msg, evidence)]
    if lay.zero_stage > 0:
        hybrid = f" (hybrid: {lay.d // lay.z} replicas)" if lay.hybrid else ""
        msg = (
            f"ZeRO-{lay.zero_stage} over {lay.z} data-parallel ranks{hybrid}: model states"
            f" {fmt_bytes(states, 'GiB', 1)} -> {fmt_bytes(plan.memory.model_states, 'GiB', 1)}"
            " per GPU"
        )
        return [Finding("REC-004", "info", msg, (*evidence, ev("zero_shard_group", lay.z, "")))]
    return []


@register("REC-005", "Ren et al. 2021, ZeRO-Offload, s4; Rajbhandari et al. 2021, ZeRO-Infinity")
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
    msg = (
        f"CPU offload ({lay.offload}) because max_gpus ="
        f" {plan.cluster.max_gpus} caps the GPU count: adds {st.offload:,.2f} s per"
        f" step ({fmt_pct(share)} of the step); more GPUs with ZeRO-3 avoid it"
    )
    evidence = (
        ev("offload_seconds_per_step", st.offload, "seconds"),
        ev("step_seconds", st.total, "seconds"),
        ev("max_gpus", plan.cluster.max_gpus, "GPUs"),
    )
    return [Finding("REC-005", "warning", msg, evidence)]


@register("REC-007", "Korthikanti et al. 2022 eq. 1; Dao et al. 2022, FlashAttention, s3")
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
    msg = (
        "eager attention stores the s x s scores:"
        f" {fmt_bytes(per_layer, 'GiB', 2)} per layer per GPU at micro-batch"
        f" {lay.micro_batch_size}; use flash attention (no recompute of them needed)"
    )
    return [
        Finding("REC-007", "warning", msg, (ev("scores_per_layer", round(per_layer), "bytes"),))
    ]
