"""Section 7: every assumed figure with where it comes from, and the appendix
of the rules that fired (id, what it computes and its source: the rule's
docstring, as ``planner rules ID`` prints it)."""

from __future__ import annotations

import inspect
from typing import Any

from planner.report.records import Note, Table
from planner.spec.model import Spec
from planner.units import fmt_pct, fmt_usd


def _source(spec: Spec, key: str, default: str) -> str:
    return "spec (assumptions)" if key in spec.assumptions.model_fields_set else default


def assumptions_table(e: dict[str, Any], plan: dict[str, Any] | None, spec: Spec) -> Table:
    a, c = spec.assumptions, spec.cluster
    rows: list[tuple[str, str, str]] = []
    g = c.gpu
    rows.append(("GPU memory", f"{g.memory_bytes:,} bytes ({g.name})",
                 "GPU catalog (planner/data/gpus.yaml): " + ", ".join(g.sources)))  # fmt: skip
    if spec.training is not None:
        m = c.mfu
        rows.append(("MFU low / expected / high",
                     f"{fmt_pct(m.low, 0)} / {fmt_pct(m.expected, 0)} / {fmt_pct(m.high, 0)}",
                     c.mfu_source))  # fmt: skip
        conv = e["precision_strategies"]
        src = next((r["source"] for r in conv if r["precision"] == spec.training.precision), "")
        rows.append(("Precision convention", spec.training.precision, src or "planner/estimate"))
        rows.append(("Activation model", f"{spec.training.implementation}, saved-tensor inventory",
                     "Korthikanti et al. 2022, 'Reducing Activation Recomputation'"))  # fmt: skip
        flops = f"{e['compute']['flops_per_token']:.4g}"
        palm = "PaLM convention (Chowdhery et al. 2022, App. B), 6N + attention"
        rows.append(("Model FLOPs per token", flops, palm))
        good = _source(spec, "goodput", "default (restarts, evaluation, stalls)")
        rows.append(("Goodput", fmt_pct(a.goodput, 0), good))
    price = "-" if c.price_per_gpu_hour is None else fmt_usd(c.price_per_gpu_hour) + " per GPU-hour"
    rows.append(("GPU price", price, c.price_source))
    ctx_src = _source(spec, "cuda_context_gib", "default; public calculators: 650 MB-1 GiB")
    rows.append(("CUDA context per GPU", f"{a.cuda_context_gib:g} GiB", ctx_src))
    frag = _source(spec, "allocator_fragmentation", "default (PyTorch caching allocator)")
    rows.append(("Allocator fragmentation", fmt_pct(a.allocator_fragmentation, 0), frag))
    if plan is not None:
        rows += [
            ("Collective bandwidth efficiency", fmt_pct(a.bandwidth_efficiency, 0),
             _source(spec, "bandwidth_efficiency", "default; docs/plan.md (NCCL bus bandwidth)")),
            ("Gradient reduction overlap", fmt_pct(a.dp_overlap, 0),
             _source(spec, "dp_overlap", "default; docs/plan.md (DDP buckets, Li et al. 2020)")),
            ("CPU Adam throughput", f"{a.cpu_adam_params_per_second:.3g} params/s per GPU",
             _source(spec, "cpu_adam_params_per_second", "default; docs/plan.md (ZeRO-Offload)")),
            ("NCCL buffers per GPU", f"{a.nccl_buffer_gib:g} GiB",
             _source(spec, "nccl_buffer_gib", "default; docs/plan.md (NCCL_BUFFSIZE)")),
            ("DDP gradient bucket", f"{a.ddp_bucket_mib:g} MiB, double-buffered",
             _source(spec, "ddp_bucket_mib", "default; PyTorch DDP bucket_cap_mb")),
        ]  # fmt: skip
    rows.append(("Budget contingency", fmt_pct(spec.report.contingency, 0),
                 "spec (report.contingency)" if "contingency" in spec.report.model_fields_set
                 else "default 10% (report.contingency)"))  # fmt: skip
    return Table(("figure", "value", "source"), tuple(rows), ("l", "l", "l"))


def rules_appendix(plan: dict[str, Any] | None) -> list[Note]:
    """The rules that fired, each with its docstring (formula or reason and
    source), in id order."""
    if plan is None:
        return []
    from planner.plan.rules import RULES

    fired = sorted({f["id"] for f in plan["findings"]})
    out = []
    for rid in fired:
        fn = RULES.get(rid)
        doc = inspect.getdoc(fn) if fn is not None else None
        out.append(Note(rid, " ".join((doc or "no description").split())))
    return out
