"""Section 7: every assumed figure with where it comes from, and the appendix
of the rules that fired (id, what it computes and its source: the rule's
docstring, as ``planner rules ID`` prints it)."""

from __future__ import annotations

import inspect
from typing import Any

from planner.catalog import spec_sources
from planner.report.budget import cluster_for
from planner.report.procurement import assumption_rows
from planner.report.records import Note, Table
from planner.spec.model import ClusterChoice, Spec
from planner.units import fmt_pct, fmt_usd


def _source(spec: Spec, key: str, default: str) -> str:
    return "spec (assumptions)" if key in spec.assumptions.model_fields_set else default


def assumptions_table(e: dict[str, Any], plan: dict[str, Any] | None, spec: Spec) -> Table:
    a = spec.assumptions
    c = cluster_for(spec, plan["plan"]["gpu"]) if plan and plan.get("plan") else spec.cluster
    g, m = c.gpu, c.mfu
    rows: list[tuple[str, str, str]] = [
        ("GPU memory", f"{g.memory_bytes:,} bytes ({g.name})",
         "GPU catalog (planner/data/gpus.yaml): " + ("; ".join(spec_sources(g)) or "spec")),
        ("MFU low / expected / high",
         f"{fmt_pct(m.low, 0)} / {fmt_pct(m.expected, 0)} / {fmt_pct(m.high, 0)}", c.mfu_source),
    ]  # fmt: skip
    if spec.training is not None:
        rows += _training_rows(e, spec)
    price = "-" if c.price_per_gpu_hour is None else fmt_usd(c.price_per_gpu_hour) + " per GPU-hour"
    rows.append(("GPU price", price, c.price_source))
    ctx_src = _source(spec, "cuda_context_gib", "default; public calculators: 650 MB-1 GiB")
    rows.append(("CUDA context per GPU", f"{a.cuda_context_gib:g} GiB", ctx_src))
    frag = _source(spec, "allocator_fragmentation", "default (PyTorch caching allocator)")
    rows.append(("Allocator fragmentation", fmt_pct(a.allocator_fragmentation, 0), frag))
    if plan is not None and spec.training is not None:
        rows += _plan_rows(spec)
        rows += assumption_rows(plan)
    if spec.inference is not None:
        rows += _serving_rows(spec, c)
        if plan is not None and "capacity" in plan:
            rows += _engine_rows(spec, plan["capacity"].get("engine_profile"))
    rows.append(("Budget contingency", fmt_pct(spec.report.contingency, 0),
                 "spec (report.contingency)" if "contingency" in spec.report.model_fields_set
                 else "default 10% (report.contingency)"))  # fmt: skip
    return Table(("figure", "value", "source"), tuple(rows), ("l", "l", "l"))


def _training_rows(e: dict[str, Any], spec: Spec) -> list[tuple[str, str, str]]:
    t, a = spec.training, spec.assumptions
    assert t is not None
    conv = e["precision_strategies"]
    src = next((r["source"] for r in conv if r["precision"] == t.precision), "")
    flops = f"{e['compute']['flops_per_token']:.4g}"
    return [
        ("Precision convention", t.precision, src or "planner/estimate"),
        ("Activation model", f"{t.implementation}, saved-tensor inventory",
         "Korthikanti et al. 2022, 'Reducing Activation Recomputation'"),
        ("Model FLOPs per token", flops,
         "PaLM convention (Chowdhery et al. 2022, App. B), 6N + attention"),
        ("Goodput", fmt_pct(a.goodput, 0),
         _source(spec, "goodput", "default (restarts, evaluation, stalls)")),
    ]  # fmt: skip


def _plan_rows(spec: Spec) -> list[tuple[str, str, str]]:
    a = spec.assumptions
    return [
        ("Collective bandwidth efficiency", fmt_pct(a.bandwidth_efficiency, 0),
         _source(spec, "bandwidth_efficiency", "default; docs/plan.md (NCCL bus bandwidth)")),
        ("Gradient reduction overlap", fmt_pct(a.dp_overlap, 0),
         _source(spec, "dp_overlap", "default, calibrated: Narayanan et al. 2021 Table 2")),
        ("CPU Adam throughput", f"{a.cpu_adam_params_per_second:.3g} params/s per GPU",
         _source(spec, "cpu_adam_params_per_second", "default; docs/plan.md (ZeRO-Offload)")),
        ("NCCL buffers per GPU", f"{a.nccl_buffer_gib:g} GiB",
         _source(spec, "nccl_buffer_gib", "default; docs/plan.md (NCCL_BUFFSIZE)")),
        ("DDP gradient bucket", f"{a.ddp_bucket_mib:g} MiB, double-buffered",
         _source(spec, "ddp_bucket_mib", "default; PyTorch DDP bucket_cap_mb")),
    ]  # fmt: skip


def _serving_rows(spec: Spec, c: ClusterChoice) -> list[tuple[str, str, str]]:
    a, w = spec.assumptions, spec.inference
    assert w is not None
    rows = [
        ("HBM bandwidth", f"{c.gpu.memory_bandwidth_gb_s:,.0f} GB/s ({c.gpu.name})",
         "GPU catalog (planner/data/gpus.yaml)"),
        ("Decode bandwidth efficiency", fmt_pct(a.decode_bandwidth_efficiency, 0),
         _source(spec, "decode_bandwidth_efficiency",
                 "default; docs/plan.md 'Serving' (memory-bound decode, Pope et al. 2022)")),
        ("Tensor-parallel all-reduce latency", f"{a.collective_latency_us:g} us",
         _source(spec, "collective_latency_us", "default; small-message NCCL latency")),
    ]  # fmt: skip
    if w.weight_precision in ("int4", "int8"):
        rows.append(("Quantized weight format", w.weight_precision,
                     "int4: GPTQ/AWQ packing, fp16 scale + 4-bit zero per group of"
                     f" {w.group_size}; int8: LLM.int8 fp32 row scales"))  # fmt: skip
    return rows


def _engine_rows(spec: Spec, e: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """The engine profile of a capacity plan (planner/plan/engines.py)."""
    if e is None:
        return []
    src = f"engine profile {e['engine']} (assumption): {e['source']}"
    w = spec.inference
    assert w is not None
    util = "spec" if "gpu_memory_utilization" in w.model_fields_set else "default (vLLM's 0.9)"
    return [
        ("Prefill MFU (engine, capped at the GPU's expected MFU)",
         fmt_pct(e["prefill_mfu"], 0), src),
        ("Decode bandwidth share (engine)", fmt_pct(e["decode_bandwidth"], 0), src),
        ("Engine runtime memory per GPU", f"{e['runtime_bytes'] / 2**30:g} GiB", src),
        ("Step token budget / max sequences / KV block",
         f"{e['max_num_batched_tokens']:,} / {e['max_num_seqs']} / {e['block_size']} tokens", src),
        ("GPU memory utilization", f"{w.gpu_memory_utilization:g}", util),
        ("Queueing", "Poisson arrivals, M/G/inf running sequences, M/D/1 prefill queue",
         "approximation, docs/plan.md 'Serving capacity'"),
    ]  # fmt: skip


def rules_appendix(plan: dict[str, Any] | None) -> list[Note]:
    """The rules that fired, each with its docstring (formula or reason and
    source), in id order."""
    if plan is None:
        return []
    from planner.plan.rules import all_rules

    RULES = all_rules()

    fired = sorted({f["id"] for f in plan["findings"]})
    out = []
    for rid in fired:
        fn = RULES.get(rid)
        doc = inspect.getdoc(fn) if fn is not None else None
        out.append(Note(rid, " ".join((doc or "no description").split())))
    return out
