"""``build_context(result) -> ReportContext``: every figure the report
prints, as plain records, built from the Result alone (planner.pipeline):
its JSON documents of ``planner estimate`` and ``planner plan`` (stable
keys) and its what-if sweeps. Nothing here calls the planner. Templates
only lay it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.compare.options import Option, option_from
from planner.pipeline import Result
from planner.plan.sweeps import Sweeps
from planner.report import comparison as cmp
from planner.report import plan_sections as ps
from planner.report import serving
from planner.report.assumptions import assumptions_table, rules_appendix
from planner.report.figures import make_charts
from planner.report.records import Chart, Note, Sections, Table, gib
from planner.report.sections import Section, build_sections
from planner.spec.model import Spec
from planner.units import fmt_count, fmt_int, plural


@dataclass(frozen=True)
class ReportContext:
    name: str
    title: str
    source: str
    description: str
    version: str
    paper: str  # "a4" or "letter"
    generated: str | None  # only with report.timestamp (breaks byte-stability)
    kind: str  # "training" or "inference"
    model_line: str
    workload_line: str
    summary: Any  # plan_sections.Summary or serving.ServingSummary
    sections: Sections
    assumptions: Table
    rules: list[Note]
    charts: dict[str, Chart] = field(default_factory=dict)
    extra: list[Section] = field(default_factory=list)  # planner/report/sections.py
    bill: Option | None = None  # training: the bill of materials' figures (-f xlsx)
    feasible: bool = True  # False: INFEASIBLE at the top, no money requested

    @property
    def chart_dir(self) -> str:
        """Folder of the SVG files beside the Markdown, relative to it."""
        return f"{self.name}_charts"


def _model_line(e: dict[str, Any]) -> str:
    m = e["model"]
    line = f"Model: {m['name']} ({m['architecture']}), {fmt_int(m['parameters'])} parameters"
    line += f" ({fmt_count(m['parameters'])})"
    if m["active_parameters"] != m["parameters"]:
        line += f", {fmt_count(m['active_parameters'])} active per token"
    return line


def _workload_line(spec: Spec) -> str:
    if spec.training is not None:
        t = spec.training
        line = (
            f"Workload: training on {fmt_count(t.tokens)} tokens, sequence length"
            f" {fmt_int(t.sequence_length)}, global batch {fmt_int(spec.global_batch_size)}"
            f" sequences, {t.precision}, {t.optimizer}"
        )
        ft = t.finetuning
        if ft is not None:
            targets = ft.target_modules
            names = targets if isinstance(targets, str) else ", ".join(targets)
            dq = " with double quantization" if ft.double_quant else ""
            line += (
                f"; {'QLoRA' if ft.method == 'qlora' else 'LoRA'} rank {ft.rank} on"
                f" {names}, frozen base in {ft.base}{dq}"
            )
        elif t.freeze_layers:
            line += f"; first {fmt_int(t.freeze_layers)} blocks frozen"
        return line
    w = spec.inference
    assert w is not None
    if w.traffic is not None:
        rps = w.traffic.requests_per_second
        slo = w.slo
        return (
            f"Workload: inference at {'the most' if rps == 'max' else f'{rps:g}'} requests/s,"
            f" {fmt_int(w.prompt_mean)} prompt (p99 {fmt_int(w.prompt_p99)}) +"
            f" {fmt_int(w.generated_tokens)} generated tokens, SLO p99 TTFT"
            f" {f'{slo.ttft_ms:,g}' if slo and slo.ttft_ms else '-'} ms, p99 TPOT"
            f" {f'{slo.tpot_ms:,g}' if slo and slo.tpot_ms else '-'} ms, engine {w.engine},"
            f" {w.weight_precision} weights, {w.kv_cache_precision} KV cache"
        )
    return (
        f"Workload: inference, batch {w.batch_size}, {fmt_int(w.prompt_mean)} prompt +"
        f" {fmt_int(w.generated_tokens)} generated tokens, {w.weight_precision} weights,"
        f" {w.kv_cache_precision} KV cache"
    )


def _training_sections(
    e: dict[str, Any], plan: dict[str, Any] | None, spec: Spec, sw: Sweeps | None
) -> Sections:
    x = Sections(
        comparison=cmp.comparison_table(e),
        differences=cmp.differences(e, spec),
        seed_mistakes=cmp.seed_mistakes(e, spec),
        precision=cmp.precision_table(e),
    )
    if plan is not None and sw is not None:
        ps.fill_plan_sections(x, plan, spec, sw)
    return x


def _inference_sections(e: dict[str, Any], plan: dict[str, Any], spec: Spec) -> Sections:
    i = e["inference"]
    w = spec.inference
    assert w is not None
    rows = (
        (f"weights ({i['weight_precision']})", gib(i["weights"])),
        (
            f"KV cache ({w.kv_cache_precision}, {fmt_int(i['cached_tokens_per_sequence'])}"
            f" tokens x {plural(w.batch_size, 'sequence')})",
            gib(i["kv_cache"]),
        ),
        ("working activations (prefill of one layer)", gib(i["activations"])),
        ("runtime overhead (CUDA context, fragmentation)", gib(i["runtime_overhead"])),
        ("total per replica", gib(i["total"])),
    )
    x = Sections(
        inference=Table(("component", "memory"), rows),
        inference_notes=[
            f"KV cache per token of one sequence: {fmt_int(i['kv_cache_per_token'])} bytes"
            " (2 x layers x kv_heads x head_dim x bytes; Pope et al. 2022, s2).",
        ],
        seed_mistakes=cmp.seed_mistakes(e, spec),
    )
    serving.fill_serving_sections(x, e, plan, spec)
    return x


def build_context(
    result: Result,
    *,
    charts: bool = True,
    paper: str | None = None,
    generated: str | None = None,
) -> ReportContext:
    """All the report's content. ``charts=False`` leaves the charts out
    (the benchmark times them separately)."""
    from planner import __version__

    spec, e, plan_dict, sw = result.spec, result.estimate_json, result.plan_json, result.sweeps
    if spec.training is not None:
        assert sw is not None
        sections = _training_sections(e, plan_dict, spec, sw)
        summary: Any = ps.training_summary(plan_dict, spec, sw)
    else:
        assert plan_dict is not None, "an inference report needs its serving plan (plan_json)"
        sections = _inference_sections(e, plan_dict, spec)
        summary = serving.serving_summary(e, plan_dict, spec)
    return ReportContext(
        name=spec.name,
        title=spec.title,
        source=spec.source,
        description=spec.description,
        version=__version__,
        paper=paper or spec.report.paper,
        generated=generated if spec.report.timestamp else None,
        kind="training" if spec.training is not None else "inference",
        model_line=_model_line(e),
        workload_line=_workload_line(spec),
        summary=summary,
        sections=sections,
        assumptions=assumptions_table(e, plan_dict, spec),
        rules=rules_appendix(plan_dict),
        charts=make_charts(e, plan_dict, spec, sw) if charts else {},
        extra=build_sections(result),
        bill=option_from(result) if spec.training is not None else None,
        feasible=bool(plan_dict["feasible"]),
    )
