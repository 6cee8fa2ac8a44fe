"""The ``planner`` command line. Commands are thin: parse, call the library,
print. Errors a user can fix print one clean message and exit 2."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from planner.errors import PlannerError

CONTEXT = {"help_option_names": ["-h", "--help"]}


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PlannerError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="planner")
def main() -> None:
    """Plan GPU resources for training or serving a large language model.

    Example: planner estimate specs/seed-7b.yaml
    """


def _emit(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


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


@main.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(dir_okay=False))
@FORMAT
@UNIT
def estimate(spec: str, fmt: str, unit: str) -> None:
    """Parameters, memory (simplified vs precise), FLOPs, time and cost for
    one model replica.

    Example: planner estimate specs/seed-7b.yaml --format json
    """
    from planner.engine import estimate as run
    from planner.engine import to_dict
    from planner.spec import load_spec

    result = run(load_spec(spec))
    if fmt == "json":
        _emit(to_dict(result))
    else:
        from planner.textout import render_estimate

        click.echo(render_estimate(result, unit))


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
            click.echo(f"{path}: ok")
        except SpecError as exc:
            failed = True
            click.echo(str(exc), err=True)
    if failed:
        sys.exit(2)


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
        click.echo(f"  {k:16} {v.get('title', '')}  ({float(n) / 1e9:.2f} B parameters)")
    click.echo("\nGPUs (memory as the device reports it; dense bf16 TFLOP/s):")
    for k, g in gpus.items():
        bf16 = g.dense_tflops.get("bf16") or g.dense_tflops.get("fp16")
        price = f"USD {g.price_per_gpu_hour:.2f}/h (indicative)" if g.price_per_gpu_hour else ""
        click.echo(
            f"  {k:16} {g.name:30} {fmt_bytes(g.memory_bytes, 'GiB', 1):>10}  {bf16!s:>6}  {price}"
        )
