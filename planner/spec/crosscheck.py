"""Cross-field checks on a resolved spec: what no single field can say.

* The model's shape (from the spec, a preset or a config.json) within
  ``MODEL_LIMITS``.
* Every candidate GPU has usable memory (device memory minus
  ``assumptions.cuda_context_gib`` is > 0) and a dense TFLOP/s figure for
  the workload's compute format (or fp16 / fp32, its fallbacks).
* Fine-tuning fits the model: ``freeze_layers`` at most its layers; LoRA
  targets and ``trainable_extra`` name modules it has (PEFT raises on a
  target it does not find), for a family whose module names are checked,
  a model with a shape (not only a count) and no routed experts.
* A fixed layout (``parallelism:``) that the model allows: tensor parallel
  divides the query and key/value heads, pipeline stages x virtual stages
  <= layers, context parallel divides the sequence length, expert parallel
  divides the experts, data parallel x micro-batch divides the global batch.

All problems are returned together.
"""

from __future__ import annotations

from typing import Any

from planner.catalog import gib_to_bytes
from planner.errors import Problem
from planner.spec.limits import MODEL_LIMITS, check_range
from planner.spec.model import Spec
from planner.spec.schema import SpecFile


def spec_problems(spec: Spec, raw: SpecFile) -> list[Problem]:
    out: list[Problem] = []
    _model(spec, raw, out)
    _gpus(spec, raw, out)
    _finetuning(spec, out)
    _layout(spec, out)
    return out


def finetuning_problems(spec: Spec) -> list[Problem]:
    """The fine-tuning checks alone (planner/plan/methods.py asks them of
    the LoRA / QLoRA variants it plans)."""
    out: list[Problem] = []
    _finetuning(spec, out)
    return out


def _finetuning(spec: Spec, out: list[Problem]) -> None:
    from planner.estimate.lora import module_names

    t, a = spec.training, spec.model
    if t is None:
        return
    if t.freeze_layers > a.num_layers:
        out.append(
            Problem(
                "training.freeze_layers",
                f"must be at most the model's layers ({a.num_layers}); got {t.freeze_layers}",
            )
        )
    ft = t.finetuning
    if ft is None:
        return
    why = ""
    if a.by_count_only:
        why = "LoRA needs the model's layer shapes, not only its parameter count"
    elif a.is_moe:
        why = "LoRA on models with routed experts is not modelled yet"
    elif not a.family_impl.lora_profile or a.qk_norm:
        why = (
            f"LoRA is modelled for the llama block (without qk-norm) only; the {a.family!r}"
            " family's adapter activations are not derived yet"
        )
    elif t.attention != "flash":
        why = "LoRA's saved tensors are derived with attention: flash (SDPA) only"
    if why:
        out.append(Problem("training.finetuning", why))
        return
    names = module_names(a)
    linears = [n for n in names if n not in ("embed_tokens", "lm_head")]
    targets = [] if ft.target_modules == "all-linear" else ft.target_modules
    for i, name in enumerate(targets):
        if name not in linears:
            out.append(
                Problem(
                    f"training.finetuning.target_modules[{i}]",
                    f"no linear module {name!r} in this model (it has {', '.join(linears)})",
                )
            )
    for i, name in enumerate(ft.trainable_extra):
        if name not in names:
            out.append(
                Problem(
                    f"training.finetuning.trainable_extra[{i}]",
                    f"no module {name!r} in this model (it has {', '.join(names)})",
                )
            )


def _model(spec: Spec, raw: SpecFile, out: list[Problem]) -> None:
    a = spec.model
    for key, (lo, hi) in MODEL_LIMITS.items():
        if getattr(raw.model, key, None) is not None:
            continue  # the spec's own value: range_problems checked it
        value = getattr(a, key, None)
        if value is None or key.startswith("published"):
            continue
        why = check_range(value, lo, hi)
        if why:
            src = "config.json" if raw.model.hf_config else "the preset"
            out.append(Problem(f"model.{key}", f"{why} (from {src})"))


def _gpus(spec: Spec, raw: SpecFile, out: list[Problem]) -> None:
    context = gib_to_bytes(spec.assumptions.cuda_context_gib)
    many = len(raw.cluster.gpu) > 1
    for i, (cl, g) in enumerate(zip(spec.clusters, raw.cluster.gpu, strict=False)):
        where = f"cluster.gpu[{i}]" if many else "cluster.gpu"
        if cl.gpu.memory_bytes - context <= 0:
            field = (
                f"{where}.memory_gib"
                if g.memory_gib is not None
                else "assumptions.cuda_context_gib"
            )
            out.append(
                Problem(
                    field,
                    f"leaves no usable memory on {cl.gpu.key}: device memory"
                    f" {cl.gpu.memory_bytes / 2**30:g} GiB minus cuda_context_gib"
                    f" {spec.assumptions.cuda_context_gib:g} GiB must be > 0",
                )
            )
        first = next(j for j, c in enumerate(spec.clusters) if c.gpu.key == cl.gpu.key)
        if first < i and spec.clusters[first] != cl:
            out.append(
                Problem(
                    where,
                    f"{cl.gpu.key} is already cluster.gpu[{first}] with other figures; list"
                    " each GPU type once (a copy with the same figures is merged)",
                )
            )
        dtype = _compute_dtype(spec)
        try:
            cl.gpu.compute_peak(dtype)
        except ValueError:
            out.append(
                Problem(
                    f"{where}.dense_tflops",
                    f"must give {dtype}, fp16 or fp32 (TFLOP/s) for this workload",
                )
            )


def _compute_dtype(spec: Spec) -> str:
    """The format whose peak TFLOP/s the time model uses (engine, serving)."""
    if spec.training is not None:
        from planner.estimate.states import convention

        t = spec.training
        return convention(t.precision, t.gradient_precision).compute_dtype
    assert spec.inference is not None
    w = spec.inference.weight_precision
    return "bf16" if w in ("int4", "int8", "fp8", "bf16") else w


def _layout(spec: Spec, out: list[Problem]) -> None:
    par, t = spec.parallelism, spec.training
    if par is None or t is None:
        return
    a = spec.model
    if par.tensor_parallel is not None:
        tp = par.tensor_parallel
        if a.num_attention_heads % tp or a.num_key_value_heads % tp:
            out.append(
                Problem(
                    "parallelism.tensor_parallel",
                    f"must divide the attention heads ({a.num_attention_heads}) and the"
                    f" key/value heads ({a.num_key_value_heads}); got {tp}",
                )
            )
    p = par.pipeline_parallel or 1
    v = par.virtual_pipeline_stages or 1
    if p * v > a.num_layers:
        field = "virtual_pipeline_stages" if par.virtual_pipeline_stages else "pipeline_parallel"
        out.append(
            Problem(
                f"parallelism.{field}",
                f"pipeline_parallel x virtual_pipeline_stages = {p * v} must be <= the"
                f" model's {a.num_layers} layers (each stage holds at least one)",
            )
        )
    if par.context_parallel is not None and t.sequence_length % par.context_parallel:
        out.append(
            Problem(
                "parallelism.context_parallel",
                f"must divide training.sequence_length ({t.sequence_length});"
                f" got {par.context_parallel}",
            )
        )
    if par.expert_parallel is not None and a.num_local_experts % par.expert_parallel:
        out.append(
            Problem(
                "parallelism.expert_parallel",
                f"must divide the model's experts ({a.num_local_experts});"
                f" got {par.expert_parallel}",
            )
        )
    B = spec.global_batch_size
    d, b = par.data_parallel or 1, par.micro_batch_size or 1
    if B % (d * b):
        out.append(
            Problem(
                "parallelism.data_parallel"
                if par.data_parallel
                else "parallelism.micro_batch_size",
                f"data_parallel ({d}) x micro_batch_size ({b}) must divide the global batch"
                f" ({B} sequences)",
            )
        )


def clean_spec(spec: Spec) -> Spec:
    """The spec with its free text (title, description, names) made safe to
    print: control and bidi characters become visible escapes."""
    from dataclasses import replace

    from planner.textsafe import clean

    model = replace(spec.model, name=clean(spec.model.name, keep_newlines=False))
    clusters = tuple(
        replace(c, gpu=replace(c.gpu, name=clean(c.gpu.name, keep_newlines=False)))
        for c in spec.clusters
    )
    return replace(
        spec,
        title=clean(spec.title, keep_newlines=False),
        description=clean(spec.description),
        model=model,
        clusters=clusters,
    )


def _count(section: Any, key: str, default: int | None = None) -> int | None:
    """A positive integer from the raw YAML mapping, or ``default``; None when
    it is missing or malformed (the schema reports that one)."""
    v = section.get(key, default) if isinstance(section, dict) else None
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def divisibility_checks(data: dict[str, Any]) -> list[Problem]:
    """Cross-field checks that need only two integers of the raw YAML, so they
    run even when other fields fail the schema: every problem is reported at
    once, these included (mkdocs' ``config/base.py::validate`` habit)."""
    problems = []
    t = data.get("training")
    mbs = _count(t, "micro_batch_size", 1)
    gbs = _count(t, "global_batch_size", mbs)
    if mbs and gbs and gbs % mbs:
        problems.append(
            Problem(
                "training.global_batch_size",
                f"must be a multiple of micro_batch_size ({mbs}); got {gbs}",
            )
        )
    par = data.get("parallelism")
    dp, group = _count(par, "data_parallel"), _count(par, "zero_shard_group")
    if dp and group and dp % group:
        problems.append(
            Problem(
                "parallelism.zero_shard_group",
                f"must divide data_parallel ({dp}); got {group}",
            )
        )
    return problems
