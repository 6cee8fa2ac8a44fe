"""The ``planner`` command line. Commands are thin: parse, call the library,
print. Errors a user can fix print one clean message and exit 2."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from planner.errors import PlannerError
from planner.textsafe import clean

CONTEXT = {"help_option_names": ["-h", "--help"]}


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PlannerError as exc:
            click.echo(clean(str(exc)), err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("planner: interrupted; nothing was written", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug, most likely met through unusual input
            if os.environ.get("PLANNER_DEBUG"):
                raise
            click.echo(
                clean(
                    f"planner: internal error ({type(exc).__name__}: {exc}); the input may be"
                    " outside what planner handles. Set PLANNER_DEBUG=1 for the traceback and"
                    " please report it with the spec."
                ),
                err=True,
            )
            ctx.exit(2)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="planner")
def main() -> None:
    """Plan GPU resources for training or serving a large language model.

    Example: planner estimate specs/seed-7b.yaml
    """


def _emit(data: dict[str, Any]) -> None:
    """The one place JSON is written: never NaN or Infinity (not JSON)."""
    try:
        text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False)
    except ValueError:
        raise PlannerError(
            "planner: the result holds a number that is not finite (NaN or Infinity), which"
            " JSON cannot carry; the spec's values are outside what planner can compute"
        ) from None
    click.echo(text)


FORMAT = click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
UNIT = click.option(
    "--unit",
    type=click.Choice(["GiB", "GB"]),
    default="GiB",
    show_default=True,
    help="Unit for printed sizes (GiB = 2^30 bytes, GB = 1e9 bytes).",
)


def _evaluate(spec: str) -> Any:
    """Load and evaluate one spec (planner.pipeline.Result); a run still
    going after 2 s shows its stage on stderr (planner.progress)."""
    from planner.pipeline import evaluate
    from planner.progress import QUIET_SECONDS, Progress
    from planner.spec import load_spec

    with Progress(1, 1, clean(spec), delay=QUIET_SECONDS) as p:
        p.stage("validating the spec")
        loaded = load_spec(spec)
        p.stage("planning (memory, layout search, time)")
        return evaluate(loaded)


@main.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@FORMAT
@UNIT
def estimate(spec: str, fmt: str, unit: str) -> None:
    """Parameters, memory (simplified vs precise), FLOPs, time and cost for
    one model replica.

    Example: planner estimate specs/seed-7b.yaml --format json
    """
    result = _evaluate(spec)
    if fmt == "json":
        _emit(result.estimate_json)
    else:
        from planner.textout import render_estimate

        click.echo(clean(render_estimate(result, unit)))


@main.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@FORMAT
@UNIT
def plan(spec: str, fmt: str, unit: str) -> None:
    """Choose GPUs and a parallel layout (t, p, d, ZeRO, recompute), with
    per-GPU memory, time, cost and the recommendations behind them. A
    `parallelism:` section in the spec fixes a layout to check instead. For
    an inference spec: GPUs per serving replica, throughput and cost.

    Example: planner plan specs/seed-7b.yaml --format json
    """
    result = _evaluate(spec)
    if fmt == "json":
        _emit(result.plan_json)
    elif result.serving is not None:
        from planner.plan.serving import render_serving

        click.echo(clean(render_serving(result.serving, unit)))
    else:
        from planner.plan.text import render_plan

        assert result.plan is not None
        click.echo(clean(render_plan(result.plan, unit)))
    if not result.feasible:
        sys.exit(1)  # no plan fits and meets the constraints (traffic, SLOs, days, budget)


@main.command(context_settings=CONTEXT)
@click.argument("rule_id", required=False)
def rules(rule_id: str | None) -> None:
    """List the recommendation rules, or explain one (id and docstring).

    Example: planner rules REC-004
    """
    import inspect

    from planner.plan.rules import all_rules

    RULES = all_rules()
    if rule_id is None:
        for key, fn in RULES.items():
            doc = inspect.getdoc(fn) or ""
            first = " ".join(doc.split("\n\n")[0].split()) if doc else fn.__name__
            click.echo(f"{key}  {first}")
        return
    rule = RULES.get(rule_id.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id!r}; run `planner rules` for the list")
    click.echo(f"{rule_id.upper()} ({rule.__name__})\n\n{inspect.getdoc(rule)}")


@main.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", default="reports", show_default=True,
              help="Output folder, or - to write one format to stdout.")  # fmt: skip
@click.option("-f", "--format", "formats", default="md,html,pdf", show_default=True,
              help="Comma-separated formats: md, html, pdf, xlsx.")  # fmt: skip
@click.option("--paper", type=click.Choice(["a4", "letter"]), default=None,
              help="PDF paper size (default: the spec's report.paper, else a4).")  # fmt: skip
def report(specs: tuple[str, ...], out_dir: str, formats: str, paper: str | None) -> None:
    """Write DIR/<name>.md (charts in DIR/<name>_charts/), .html and .pdf
    (and with -f xlsx the bill of materials as a spreadsheet with formulas)
    for each spec. Files are written atomically.

    Example: planner report specs/seed-7b.yaml -o out -f md,html,pdf
    """
    from planner.report import pdfworker

    # Forked first, so that WeasyPrint loads while the planner plans.
    printer = pdfworker.printer("pdf" in [f.strip() for f in formats.split(",")])
    try:
        _report(specs, out_dir, formats, paper, printer)
    finally:
        printer.close()


def _report(
    specs: tuple[str, ...], out_dir: str, formats: str, paper: str | None, printer: Any
) -> None:
    from contextlib import contextmanager

    from planner.progress import Progress
    from planner.report.writer import OnStage, parse_formats, write_reports

    fmts = parse_formats(formats)
    if out_dir == "-" and len(specs) != 1:
        raise click.UsageError("`-o -` writes one spec's report to stdout")

    @contextmanager
    def progress(i: int, path: str) -> Iterator[OnStage]:
        # On a terminal: one status line with the stage; otherwise one line per spec.
        with Progress(i, len(specs), clean(path)) as line:
            if not line.live:
                click.echo(line.head, err=True)
            yield line.stage

    infeasible: list[str] = []
    for written in write_reports(
        specs, out_dir, fmts, paper, progress, printer=printer, infeasible=infeasible
    ):
        if len(specs) <= 3 and not written.name.endswith(".svg"):
            click.echo(clean(f"  {written}"), err=True)
    for path in infeasible:
        click.echo(clean(f"{path}: INFEASIBLE: no plan meets the constraints"), err=True)
    if infeasible:
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", default=None,
              help="Write the comparison report into this folder (with -f: reports).")  # fmt: skip
@click.option("-f", "formats", default=None,
              help="Report formats: md, html, pdf, xlsx (with -o: md,html,pdf).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="What stdout prints.")  # fmt: skip
@click.option("--name", default=None, help="Report file name (default compare-<common prefix>).")
def compare(
    specs: tuple[str, ...], out_dir: str | None, formats: str | None, fmt: str, name: str | None
) -> None:
    """Compare options (specs that differ in GPU, cloud, pricing, layout...)
    side by side and recommend one: the best feasible option by the specs'
    objective. Exits 1 when no option is feasible.

    Example: planner compare specs/compare/llama-3-70b-*.yaml -o reports -f md,html,pdf,xlsx
    """
    from planner.compare.cli import run_compare

    if not run_compare(specs, out_dir, formats, fmt, name, _emit):
        sys.exit(1)  # no option meets its constraints


@main.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(specs: tuple[str, ...]) -> None:
    """Check spec files; print every problem with its field and line.

    Example: planner validate specs/*.yaml
    """
    from planner.errors import SpecError
    from planner.spec import load_spec

    failed = False
    for path in specs:
        try:
            load_spec(path)
            click.echo(clean(f"{path}: ok"))
        except SpecError as exc:
            failed = True
            click.echo(clean(str(exc)), err=True)
    if failed:
        sys.exit(2)


@main.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--step", is_flag=True,
              help="Run real training steps (forward, backward, optimizer) and measure peak"
              " memory and step time.")  # fmt: skip
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="With --step: where the steps run.")  # fmt: skip
@click.option("--layers", type=int, default=None,
              help="With --step: truncate the model to N layers (default 2; a second run"
              " at min(2N, all) layers gives the per-layer figure).")  # fmt: skip
@FORMAT
@UNIT
def measure(spec: str, step: bool, device: str, layers: int | None, fmt: str, unit: str) -> None:
    """Trace the real Hugging Face model under fake tensors (no GPU, no real
    memory) and print the activation bytes one training forward pass saves
    for backward, per layer and outside the layers, next to the estimate.
    With --step: run real training steps of the model truncated to a few
    layers on the CPU or a CUDA GPU and compare the peak memory and step
    time with planner's prediction (docs/accuracy.md).
    Needs the extra: pip install 'planner[measure]'.

    Example: planner measure specs/llama-2-7b-finetune.yaml --step --device cuda --layers 2
    """
    from planner.measure import case_from_spec
    from planner.measure import measure as run
    from planner.progress import QUIET_SECONDS, Progress
    from planner.spec import load_spec

    if not step and (layers is not None or device != "cpu"):
        raise click.UsageError("--layers and --device go with --step")
    loaded = load_spec(spec)
    if step:
        from planner.measure import measure_step
        from planner.measure.stepcompare import DEFAULT_LAYERS

        n = DEFAULT_LAYERS if layers is None else layers
        with Progress(1, 1, clean(spec), delay=QUIET_SECONDS) as p:
            p.stage(f"running training steps on {device} ({n} layers, then up to {2 * n})")
            data = measure_step(loaded, n, device).to_dict()
        if fmt == "json":
            _emit(data)
        else:
            from planner.measure.text import render_step

            click.echo(clean(render_step(data, unit)))
        return
    case = case_from_spec(loaded)
    assert loaded.training is not None
    with Progress(1, 1, clean(spec), delay=QUIET_SECONDS) as p:
        p.stage("tracing the Hugging Face model under fake tensors")
        result = run(case, loaded.training.implementation)
    if fmt == "json":
        _emit(result.to_dict())
    else:
        from planner.measure.text import render

        click.echo(clean(render(result, unit)))


@main.command(context_settings=CONTEXT)
def schema() -> None:
    """Print the spec's JSON Schema (for editor validation).

    Example: planner schema > spec.schema.json
    """
    from planner.spec.schema import SpecFile

    _emit(SpecFile.model_json_schema())


@main.command(context_settings=CONTEXT)
@FORMAT
def presets(fmt: str) -> None:
    """List the model presets and the GPU catalog.

    Example: planner presets --format json
    """
    from planner.catalog import gpu_catalog, model_presets
    from planner.units import fmt_bytes

    models = model_presets()
    gpus = gpu_catalog()
    if fmt == "json":
        _emit(
            {
                "models": {k: dict(v) for k, v in models.items()},
                "gpus": {
                    k: {
                        "name": g.name,
                        "memory_bytes": g.memory_bytes,
                        "dense_tflops": g.dense_tflops,
                        "price_per_gpu_hour": g.price_per_gpu_hour,
                        "price_date": g.price_date or None,
                        "price_citation": g.price_citation or None,
                    }
                    for k, g in gpus.items()
                },
            }
        )
        return
    click.echo("Model presets:")
    for k, v in models.items():
        n = (
            v.get("published_parameters")
            or v.get("parameters")
            or v.get("published_parameters_rounded")
        )
        assert n is not None, f"preset {k} gives no parameter count"
        click.echo(f"  {k:16} {v.get('title', '')}  ({float(n) / 1e9:.2f} B parameters)")
    click.echo("\nGPUs (memory as the device reports it; dense bf16 TFLOP/s):")
    for k, g in gpus.items():
        bf16 = g.dense_tflops.get("bf16") or g.dense_tflops.get("fp16")
        price = ""
        if g.price_per_gpu_hour:
            price = f"USD {g.price_per_gpu_hour:.2f}/h (indicative, {g.price_date})"
        click.echo(
            f"  {k:16} {g.name:30} {fmt_bytes(g.memory_bytes, 'GiB', 1):>10}  {bf16!s:>6}  {price}"
        )
    cited = {g.price_citation for g in gpus.values() if g.price_per_gpu_hour and g.price_citation}
    if cited:
        click.echo("\nPrice sources (indicative on-demand prices; set cluster.price_per_gpu_hour):")
        for c in sorted(cited):
            click.echo(f"  {c}")
