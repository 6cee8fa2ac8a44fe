"""The spec's `inference` section: request shape, traffic, SLOs and the
serving engine (re-exported by planner/spec/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from planner.spec.schema_types import Count, Fraction, Strict, _to_number

WeightPrecision = Literal["fp32", "fp16", "bf16", "fp8", "int8", "int4"]


class PromptTokens(Strict):
    """Prompt length per request: the mean, and optionally the 99th percentile."""

    mean: Count
    p99: Count | None = Field(None, description="99th-percentile prompt tokens (>= mean).")

    @model_validator(mode="after")
    def _ordered(self) -> PromptTokens:
        if self.p99 is not None and self.p99 < self.mean:
            raise ValueError("p99 must be >= mean")
        return self


def _rate(v: object) -> object:
    return v if v == "max" else _to_number(v)


class TrafficSection(Strict):
    """Offered load: requests per second over all replicas, or "max" for the
    throughput the cluster (cluster.max_gpus) sustains within the SLOs."""

    requests_per_second: Annotated[
        Annotated[float, Field(gt=0, allow_inf_nan=False)] | Literal["max"],
        BeforeValidator(_rate),
    ] = Field(description='Mean arrival rate (Poisson), or "max".')


class SloSection(Strict):
    """Latency targets, both at the 99th percentile (vLLM benchmark_serving
    definitions: TTFT = arrival to first token; TPOT = (end - first token) /
    (generated - 1))."""

    ttft_ms: Annotated[float, Field(gt=0)] | None = Field(
        None, description="p99 time to first token."
    )
    tpot_ms: Annotated[float, Field(gt=0)] | None = Field(
        None, description="p99 time per output token."
    )


class EngineEfficiency(Strict):
    """Overrides of the engine profile's ASSUMPTIONS (planner/plan/engines.py)."""

    prefill_mfu: Fraction | None = Field(None, description="Share of dense peak FLOP/s in prefill.")
    decode_bandwidth: Fraction | None = Field(
        None, description="Share of peak HBM bandwidth a decode step streams at."
    )
    runtime_gib: Annotated[float, Field(ge=0)] | None = Field(
        None,
        description="Engine memory per GPU outside weights and KV (CUDA graphs, buffers), GiB.",
    )
    max_num_batched_tokens: Count | None = Field(None, description="Token budget of one step.")
    max_num_seqs: Count | None = Field(None, description="Most sequences running at once.")
    block_size: Count | None = Field(None, description="KV cache block, tokens.")


Engine = Literal["vllm", "tensorrt-llm", "sglang", "generic"]


class InferenceSection(Strict):
    batch_size: Count = Field(
        1,
        description="Sequences decoded together. With `traffic`: optional fixed concurrency"
        " (most running sequences per replica) instead of the KV cache's limit.",
    )
    prompt_tokens: Count | PromptTokens = Field(
        description="Prompt tokens per request: the mean, or {mean, p99}."
    )
    generated_tokens: Count
    weight_precision: WeightPrecision = "bf16"
    group_size: Count = Field(128, description="Quantization group size (int4).")
    kv_cache_precision: Literal["fp32", "fp16", "bf16", "fp8", "int8"] = "bf16"
    traffic: TrafficSection | None = Field(
        None, description="Offered load; with it `plan` sizes replicas for the SLOs."
    )
    slo: SloSection | None = None
    engine: Engine = Field(
        "generic", description="Serving engine whose efficiency profile applies (docs/spec.md)."
    )
    efficiency: EngineEfficiency | None = Field(
        None, description="Overrides of the engine profile's assumed figures."
    )
    gpu_memory_utilization: Fraction = Field(
        0.9, description="As in vLLM: share of each GPU's memory the engine may use."
    )

    @property
    def prompt_mean(self) -> int:
        p = self.prompt_tokens
        return p if isinstance(p, int) else p.mean

    @property
    def prompt_p99(self) -> int:
        p = self.prompt_tokens
        return p if isinstance(p, int) else (p.p99 or p.mean)

    @property
    def fixed_concurrency(self) -> int | None:
        """batch_size when the spec gives it, else None."""
        return self.batch_size if "batch_size" in self.model_fields_set else None
