"""Physically meaningful ranges of every number in a spec or config.json,
and the cross-field checks that need the resolved model.

pydantic already refuses wrong types, non-finite numbers (``allow_inf_nan``
is off) and true/false where a number belongs; this module adds the upper
(and missing lower) bounds, so an absurd value is refused at validation
naming its field instead of hanging or overflowing a later stage. The tables
are the single source of the "Limits" section of docs/spec.md (a test checks
that every entry is documented there).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from planner.errors import Problem

# Model-shape bounds: generous multiples of the largest published models
# (Llama-3.1-405B: hidden 16,384, 126 layers, 128 heads, MLP 53,248;
# Gemma: 256k vocabulary; DeepSeek-V3: 256 experts), so a typo such as
# ``hidden_size: 1e30`` is refused at validation instead of producing a
# report. The one table: planner/spec/schema_types.py builds the model
# fields' pydantic bounds from it (they show in `planner schema`), config.json
# values are checked against it (check_hf_values) and so are the values a
# preset gives (planner/spec/crosscheck.py); docs/spec.md "Limits" lists it.
MODEL_LIMITS: dict[str, tuple[int, int]] = {
    "hidden_size": (1, 2**20),
    "num_layers": (1, 4_096),
    "num_attention_heads": (1, 16_384),
    "num_key_value_heads": (1, 16_384),
    "head_dim": (1, 2**20),
    "intermediate_size": (1, 2**20),
    "vocab_size": (1, 2**24),
    "max_position_embeddings": (1, 2**24),
    "num_local_experts": (1, 65_536),
    "num_experts_per_tok": (1, 65_536),
    "sliding_window": (1, 2**24),
    "parameters": (1, 10**15),
    "published_parameters": (1, 10**15),
    "published_active_parameters": (1, 10**15),
    "published_parameters_rounded": (1, 10**15),
}

# (minimum, maximum, minimum is exclusive). "[]" stands for any list index.
SPEC_LIMITS: dict[str, tuple[float, float, bool]] = {
    **{f"model.{k}": (lo, hi, False) for k, (lo, hi) in MODEL_LIMITS.items()},
    "training.sequence_length": (1, 16_777_216, False),
    "training.micro_batch_size": (1, 65_536, False),
    "training.global_batch_size": (1, 1_048_576, False),
    "training.tokens": (1, 1e16, False),
    "training.freeze_layers": (0, 4_096, False),
    "training.finetuning.rank": (1, 65_536, False),
    "training.finetuning.alpha": (0, 1e6, True),
    "inference.batch_size": (1, 65_536, False),
    "inference.prompt_tokens": (1, 16_777_216, False),
    "inference.generated_tokens": (1, 16_777_216, False),
    "inference.group_size": (1, 65_536, False),
    "inference.prompt_tokens.mean": (1, 16_777_216, False),
    "inference.prompt_tokens.p99": (1, 16_777_216, False),
    "inference.traffic.requests_per_second": (0, 1e7, True),
    "inference.slo.ttft_ms": (0, 3_600_000, True),  # one hour
    "inference.slo.tpot_ms": (0, 3_600_000, True),
    "inference.efficiency.runtime_gib": (0, 16_384, False),
    "inference.efficiency.max_num_batched_tokens": (1, 16_777_216, False),
    "inference.efficiency.max_num_seqs": (1, 65_536, False),
    "inference.efficiency.block_size": (1, 65_536, False),
    "cluster.gpu[].memory_gib": (0, 16_384, True),
    **{
        f"cluster.gpu[].dense_tflops.{d}": (0, 1e6, True)
        for d in ("fp32", "tf32", "fp16", "bf16", "fp8")
    },
    "cluster.gpu[].memory_bandwidth_gb_s": (0, 1e6, True),
    "cluster.gpu[].intra_node_gb_s": (0, 1e6, True),
    "cluster.gpu[].inter_node_gb_s": (0, 1e6, True),
    "cluster.gpu[].pcie_gb_s": (0, 1e6, True),
    "cluster.gpu[].nvlink_domain_gpus": (1, 65_536, False),
    "cluster.gpu[].price_per_gpu_hour": (0, 10_000, True),
    "cluster.gpus_per_node": (1, 1_024, False),
    "cluster.max_gpus": (1, 1_048_576, False),
    "cluster.price_per_gpu_hour": (0, 10_000, True),
    # GiB; DGX H200: 2 TiB. 1 PiB keeps the bytes an exact integer.
    "cluster.host_memory_per_node": (0, 1_048_576, True),
    "constraints.max_days": (0, 36_500, True),
    "constraints.max_budget_usd": (0, 1e13, True),
    "assumptions.cuda_context_gib": (0, 1_024, False),
    "assumptions.cpu_adam_params_per_second": (0, 1e15, True),
    "assumptions.nccl_buffer_gib": (0, 1_024, False),
    "assumptions.collective_latency_us": (0, 1e6, False),
    "assumptions.ddp_bucket_mib": (0, 1e6, False),
    "parallelism.tensor_parallel": (1, 16_384, False),
    "parallelism.pipeline_parallel": (1, 4_096, False),
    "parallelism.data_parallel": (1, 1_048_576, False),
    "parallelism.context_parallel": (1, 65_536, False),
    "parallelism.expert_parallel": (1, 65_536, False),
    "parallelism.virtual_pipeline_stages": (1, 4_096, False),
    "parallelism.micro_batch_size": (1, 65_536, False),
    "parallelism.zero_shard_group": (0, 1_048_576, False),
    "report.purchase_price_per_gpu": (0, 1e8, True),
}
MAX_GPU_CANDIDATES = 16  # entries in cluster.gpu

# config.json keys planner reads as counts (whole numbers) and booleans.
HF_COUNT_KEYS = {
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_attention_heads",
    "num_key_value_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "intermediate_size": "intermediate_size",
    "moe_intermediate_size": "intermediate_size",
    "vocab_size": "vocab_size",
    "max_position_embeddings": "max_position_embeddings",
    "sliding_window": "sliding_window",
    "num_local_experts": "num_local_experts",
    "num_experts": "num_local_experts",
    "num_experts_per_tok": "num_experts_per_tok",
    "decoder_sparse_step": "num_layers",
    "n_embd": "hidden_size",
    "n_layer": "num_layers",
    "n_head": "num_attention_heads",
    "n_inner": "intermediate_size",
    "n_positions": "max_position_embeddings",
}
HF_BOOL_KEYS = ("tie_word_embeddings", "attention_bias", "mlp_bias", "use_sliding_window")
HF_STR_KEYS = ("model_type", "hidden_act", "activation_function", "_name_or_path")


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) and abs(x) < 1e15 else f"{x:g}"


def check_range(value: Any, lo: float, hi: float, lo_exclusive: bool = False) -> str:
    """'' when ``value`` is a finite number in range, else what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {type(value).__name__}"
    if not math.isfinite(value):
        return f"must be a finite number; got {value}"
    if value < lo or (lo_exclusive and value == lo):
        return f"must be {'>' if lo_exclusive else '>='} {_fmt(lo)}; got {_fmt(value)}"
    if value > hi:
        return f"must be at most {_fmt(hi)}; got {_fmt(value)}"
    return ""


def _values(data: Any, pattern: tuple[str, ...], path: str) -> Iterator[tuple[str, Any]]:
    if not pattern:
        yield path, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "[]":
        for i, item in enumerate(data if isinstance(data, list) else []):
            yield from _values(item, rest, f"{path}[{i}]")
    elif isinstance(data, dict) and data.get(head) is not None:
        yield from _values(data[head], rest, f"{path}.{head}" if path else head)


def range_problems(dumped: dict[str, Any]) -> list[Problem]:
    """Values of a validated ``SpecFile.model_dump()`` outside SPEC_LIMITS."""
    out = []
    for key, (lo, hi, excl) in SPEC_LIMITS.items():
        pattern = tuple(key.replace("[]", ".[]").split("."))
        for path, value in _values(dumped, pattern, ""):
            if not isinstance(value, int | float):
                continue  # another form the schema allows ({mean, p99}, "max")
            why = check_range(value, lo, hi, excl)
            if why:
                out.append(Problem(path, why))
    gpus = (dumped.get("cluster") or {}).get("gpu") or []
    if len(gpus) > MAX_GPU_CANDIDATES:
        out.append(
            Problem(
                "cluster.gpu",
                f"at most {MAX_GPU_CANDIDATES} candidate GPUs; got {len(gpus)}",
            )
        )
    return out


def check_hf_values(cfg: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first config.json key whose value is
    not of its kind: counts whole, finite and in MODEL_LIMITS' range,
    booleans true/false, names strings."""
    bad = []
    for key, field in HF_COUNT_KEYS.items():
        v = cfg.get(key)
        if v is None:
            continue
        lo, hi = MODEL_LIMITS[field]
        why = check_range(v, lo, hi)
        if not why and not (isinstance(v, int) or float(v).is_integer()):
            why = f"must be a whole number; got {v}"
        if why:
            bad.append(f"`{key}` {why}")
    for key in HF_BOOL_KEYS:
        if cfg.get(key) is not None and not isinstance(cfg[key], bool):
            bad.append(f"`{key}` must be true or false; got {type(cfg[key]).__name__}")
    for key in HF_STR_KEYS:
        if cfg.get(key) is not None and not isinstance(cfg[key], str):
            bad.append(f"`{key}` must be a string; got {type(cfg[key]).__name__}")
    if bad:
        raise ValueError("; ".join(bad))


def whole(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` with integral float counts (4096.0) made ints."""
    out = dict(cfg)
    for key in HF_COUNT_KEYS:
        v = out.get(key)
        if isinstance(v, float):
            out[key] = int(v)
    return out
