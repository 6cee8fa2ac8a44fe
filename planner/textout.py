"""Plain-text rendering of an estimate for the terminal (``planner estimate``)."""

from __future__ import annotations

from collections.abc import Sequence

from planner.pipeline import Result, estimate_time
from planner.plan.search import NO_PRICE
from planner.units import fmt_bytes, fmt_count, fmt_duration, fmt_int, fmt_usd


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    return [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]


def _time_line(r: Result) -> str:
    """The plan's time and cost (one time model), or why there is none."""
    times = estimate_time(r.plan)
    if times is None or r.plan is None:
        return "  time and cost: none (no layout fits; see `planner plan`)"
    ex, lo, hi = times["expected"], times["low"], times["high"]
    cost = NO_PRICE if ex["usd"] is None else fmt_usd(ex["usd"])
    return (
        f"  plan: {ex['gpus']} x {r.plan.cluster.gpu.name} at kernel MFU {ex['mfu']:.0%}"
        f" (assumed): {fmt_duration(ex['seconds'])}, {ex['gpu_hours']:,.0f} GPU-hours, {cost}"
        f" (range {fmt_duration(lo['seconds'])} to {fmt_duration(hi['seconds'])};"
        " layout, step time and goodput from `planner plan`)"
    )


def render_estimate(r: Result, unit: str = "GiB") -> str:
    e = r.estimate
    s, c, a = e.spec, e.counts, e.spec.model
    out = [f"{s.title}  ({s.source})", ""]
    out.append(
        f"Model: {a.name} ({a.family}), {fmt_int(c.total)} parameters ({fmt_count(c.total)})"
    )
    if a.is_moe:
        out.append(f"  active per token: {fmt_int(c.active)} ({fmt_count(c.active)})")
    out += [f"  approximate: {note}" for note in a.family_impl.approximations(a)]
    out.append(
        f"  embedding {fmt_int(c.embedding)}, LM head {fmt_int(c.lm_head)},"
        f" per layer {fmt_int(c.per_layer)} x {a.num_layers} layers"
    )
    if a.by_count_only:
        out.append("  (given by parameter count; the split assumes the stated shape)")
    out += [f"  assumed: {n}" for n in a.notes]
    out.append("")
    if e.training is not None:
        t, p = e.training, e.training.precise
        sm = t.simplified
        rows: list[tuple[str, ...]] = [
            ("master weights (fp32)", "-", fmt_bytes(p.states.master_weights, unit)),
            ("weights", fmt_bytes(sm.weights, unit), fmt_bytes(p.states.weights, unit)),
            ("gradients", fmt_bytes(sm.gradients, unit), fmt_bytes(p.states.gradients, unit)),
            (
                "optimizer states",
                fmt_bytes(sm.optimizer_states, unit),
                fmt_bytes(p.states.optimizer_states, unit),
            ),
            ("activations", fmt_bytes(sm.activations, unit), fmt_bytes(p.activations.total, unit)),
            ("temporary", "-", fmt_bytes(p.temporary, unit)),
            ("runtime overhead", "-", fmt_bytes(p.runtime_overhead, unit)),
            ("total", fmt_bytes(sm.total, unit), fmt_bytes(p.total, unit)),
        ]
        out.append(
            f"Training memory, one replica ({t.conv.name}, {s.training.optimizer},"  # type: ignore[union-attr]
            f" micro-batch {s.training.micro_batch_size} x {s.training.sequence_length} tokens,"  # type: ignore[union-attr]
            f" recompute {s.training.recompute}, {s.training.attention} attention):"  # type: ignore[union-attr]
        )
        out += ["  " + r for r in _table(rows, ("component", "back-of-envelope", "precise"))]
        out.append(
            f"  activations per layer: {fmt_bytes(p.activations.per_layer_bytes, unit)};"
            f" outside the layers: {fmt_bytes(p.activations.non_layer_bytes, unit)}"
        )
        out.append("")
        out.append(
            f"Compute: {t.flops.model_per_token:.3e} FLOPs/token, {t.flops.total(t.tokens):.3e}"
            f" FLOPs for {fmt_count(t.tokens)} tokens"
        )
        out.append(_time_line(r))
    if e.inference is not None:
        m, w = e.inference.memory, s.inference
        assert w is not None
        rows = [
            (f"weights ({w.weight_precision})", fmt_bytes(m.weights, unit)),
            (
                f"KV cache ({w.kv_cache_precision}, {m.cached_tokens} tokens x {w.batch_size})",
                fmt_bytes(m.kv_cache, unit),
            ),
            ("working activations", fmt_bytes(m.activations, unit)),
            ("runtime overhead", fmt_bytes(e.inference.runtime_overhead, unit)),
            ("total", fmt_bytes(e.inference.total, unit)),
        ]
        out.append("Inference memory, one replica:")
        out += ["  " + r for r in _table(rows, ("component", "bytes"))]
        out.append(f"  KV cache per token: {fmt_int(m.kv_cache_per_token)} bytes")
    out.append("")
    out.append("Sizes: GiB = 2^30 bytes, GB = 1e9 bytes. Assumptions: see docs/assumptions.md.")
    return "\n".join(out)
