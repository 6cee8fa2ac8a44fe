"""Full fine-tuning vs LoRA vs QLoRA for a fine-tuning spec: each method
planned with the same model, workload, precision, cluster and objective
(the plan's own search, memory and time model), for REC-016 and the
report's fine-tuning section.

A fine-tuning spec is one with ``training.finetuning`` or
``training.freeze_layers`` (planner cannot tell a full fine-tuning run from
pre-training otherwise). The variants:

* full: every parameter trains (``finetuning`` and ``freeze_layers`` off);
* lora: the spec's adapters (rank, targets, dropout, extras) on a 16-bit
  base (fp16 under ``fp16-mixed``, else bf16); PEFT's defaults (r = 8 on
  q_proj, v_proj) when the spec has none;
* qlora: the same adapters on an NF4 base, with the spec's double
  quantization or, when the spec is not QLoRA, with it (the QLoRA paper's
  recipe, Dettmers et al. 2023 s3); not with ``fp16-mixed``.

A method the model does not allow (planner/spec/crosscheck.py) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.errors import PlannerError
from planner.spec.model import Spec
from planner.spec.schema import FinetuningSection


@dataclass(frozen=True)
class MethodRow:
    method: str  # "full" | "lora" | "qlora"
    is_spec: bool  # the spec's own method
    trainable: int  # parameters that train
    fits: bool  # a layout fits within cluster.max_gpus
    gpus: int  # the plan's GPUs (or the nearest miss's)
    layout: str  # the plan's layout (Layout.describe: ZeRO, offload, recompute, ...)
    min_gpus: int | None  # when nothing fits: smallest GPU count that fits, if any
    memory_per_gpu: int  # bytes, the plan's worst stage
    usable: int  # bytes per GPU
    days: float | None  # expected duration (None when nothing fits)
    usd: float | None  # expected cost (None without a price or a fit)


def is_finetuning(spec: Spec) -> bool:
    t = spec.training
    return t is not None and (t.finetuning is not None or t.freeze_layers > 0)


def spec_method(spec: Spec) -> str:
    t = spec.training
    assert t is not None
    return t.finetuning.method if t.finetuning is not None else "full"


def _variant(spec: Spec, method: str) -> Spec | None:
    from planner.spec.crosscheck import finetuning_problems

    t = spec.training
    assert t is not None
    if method == "full":
        return replace(spec, training=t.model_copy(update={"finetuning": None, "freeze_layers": 0}))
    own = t.finetuning or FinetuningSection(method="lora")
    fp16 = t.precision == "fp16-mixed"
    if method == "qlora" and fp16:
        return None
    if own.method == method:
        ft = own
    elif method == "lora":
        ft = own.model_copy(
            update={
                "method": "lora",
                "base_precision": "fp16" if fp16 else "bf16",
                "double_quant": False,
            }
        )
    else:
        ft = own.model_copy(
            update={"method": "qlora", "base_precision": "nf4", "double_quant": True}
        )
    training = t.model_copy(update={"finetuning": ft, "freeze_layers": 0})
    out = replace(spec, training=training)
    return None if finetuning_problems(out) else out


def compare_methods(spec: Spec, own: object) -> tuple[MethodRow, ...]:
    """One row per method (module docstring); ``own`` is the spec's plan
    (planner.plan.result.Plan), reused for its own method."""
    from planner.plan.make import make_plan
    from planner.plan.result import Plan

    assert isinstance(own, Plan)
    t = spec.training
    assert t is not None
    mine = spec_method(spec)
    label = f"full, first {t.freeze_layers} blocks frozen" if t.freeze_layers else mine
    rows = [_row(own, label, True)]
    for method in ("full", "lora", "qlora"):
        if method == mine and not t.freeze_layers:
            continue
        v = _variant(spec, method)
        if v is None:
            continue
        try:
            rows.append(_row(make_plan(v, compare=False), method, False))
        except PlannerError:
            continue  # no valid layout at all (batch / parallelism keys)
    order = ("full", "lora", "qlora")
    return tuple(sorted(rows, key=lambda r: (order.index(r.method.split(",")[0]), not r.is_spec)))


def _row(plan: object, method: str, is_spec: bool) -> MethodRow:
    from planner.plan.result import Plan

    assert isinstance(plan, Plan)
    need = plan.min_gpus.get(plan.cluster.gpu.key)
    e = plan.expected
    return MethodRow(
        method=method,
        is_spec=is_spec,
        trainable=plan.model.trainable.trainable,
        fits=plan.fits,
        gpus=plan.layout.gpus,
        layout=plan.layout.describe(),
        min_gpus=need.gpus if need is not None else None,
        memory_per_gpu=plan.memory.total,
        usable=plan.memory.usable,
        days=e.days if plan.fits else None,
        usd=e.usd if plan.fits else None,
    )
