"""Rules on fine-tuning: REC-016 (LoRA or QLoRA instead of full fine-tuning)."""

from __future__ import annotations

from planner.findings import Finding, ev
from planner.plan.methods import MethodRow
from planner.plan.result import Plan
from planner.plan.rules.registry import register
from planner.units import fmt_bytes, fmt_usd, plural

# ASSUMPTION: "costs much more" = full fine-tuning costs more than twice the
# cheaper adapter method (USD, or GPU-days without a price).
COST_FACTOR = 2.0
NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


def _cost(r: MethodRow) -> float:
    """USD, or GPU-days when no price is known."""
    if r.usd is not None:
        return r.usd
    return r.gpus * (r.days or 0.0)


def _unit(r: MethodRow) -> str:
    return "USD" if r.usd is not None else "GPU-days"


def _money(r: MethodRow) -> str:
    days = f"{r.days:,.1f} days" if r.days is not None else "-"
    return f"{days}, {fmt_usd(r.usd)}" if r.usd is not None else days


@register("REC-016", "Hu et al. 2021 (LoRA) s4; Dettmers et al. 2023 (QLoRA) s3; plan/methods.py")
def finetuning_method(plan: Plan) -> list[Finding]:
    """Recommend LoRA or QLoRA when full fine-tuning does not fit or costs
    much more.

    For a fine-tuning spec (``training.finetuning`` or ``freeze_layers``)
    the plan also plans full fine-tuning, LoRA and QLoRA with the same
    workload, precision and cluster (planner/plan/methods.py: each with the
    plan's own search, memory and time model). Fires when an adapter method
    fits and full fine-tuning does not fit within ``cluster.max_gpus``,
    needs more GPUs, or costs more than twice as much (USD, else GPU-days;
    an assumed threshold). Recommends the adapter method with the fewest
    GPUs, then the lowest cost. Adapters train far fewer parameters (LoRA,
    Hu et al. 2021 s4: no gradients or optimizer states for the frozen
    weights) and QLoRA stores the frozen base in 4 bits (Dettmers et al.
    2023 s3); whether they reach full fine-tuning's quality is the user's
    call (the QLoRA paper reports parity on its benchmarks, s4)."""
    rows = {r.method: r for r in plan.methods}
    full = rows.get("full")
    fitting = [rows[m] for m in ("lora", "qlora") if m in rows and rows[m].fits]
    if full is None or not fitting:
        return []
    best = min(fitting, key=lambda r: (r.gpus, _cost(r)))
    evidence = [
        ev("full_fits", str(full.fits)),
        ev("full_gpus", full.gpus, "GPUs"),
        ev(f"{best.method}_gpus", best.gpus, "GPUs"),
        ev(f"{best.method}_memory_per_gpu", best.memory_per_gpu, "bytes"),
        ev(
            f"{best.method}_cost",
            round(_cost(best), 2),
            "USD" if best.usd is not None else "GPU-days",
        ),
    ]
    if not full.fits:
        why = f"full fine-tuning does not fit on {plural(plan.cluster.max_gpus, 'GPU')} (max_gpus)"
        if full.min_gpus is not None:
            why = f"full fine-tuning needs {plural(full.min_gpus, 'GPU')}"
            evidence.append(ev("full_min_gpus", full.min_gpus, "GPUs"))
    elif full.gpus > best.gpus:
        why = f"full fine-tuning needs {plural(full.gpus, 'GPU')} ({_money(full)})"
    elif _cost(full) > COST_FACTOR * _cost(best):
        why = f"full fine-tuning costs {_cost(full) / _cost(best):.1f}x as much ({_money(full)})"
        evidence.append(ev("full_cost", round(_cost(full), 2), _unit(full)))
    else:
        return []
    msg = (
        f"{why}; {NAMES[best.method]} fits on {plural(best.gpus, 'GPU')}:"
        f" {fmt_bytes(best.memory_per_gpu, 'GiB', 1)} per GPU, {_money(best)}"
    )
    if best.is_spec:
        msg += " (this spec's method)"
    return [Finding("REC-016", "info", msg, tuple(evidence))]
