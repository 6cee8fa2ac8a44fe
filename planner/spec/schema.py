"""The spec file's schema (pydantic v2, unknown keys forbidden).

Every field is documented here; ``planner schema`` prints the JSON Schema
built from these classes, and docs/spec.md describes them for people.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.architecture import Family
from planner.catalog import calibration
from planner.spec.limits import MODEL_LIMITS

_SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_NUMBER = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([kKMBGT]?)\s*$")


def _to_number(v: object) -> object:
    """Accept 7e9 written as text (YAML 1.1 reads '7e9' as a string) and
    suffixes: '2T' tokens, '300B', '1.5M'. Refuse true/false (pydantic would
    read them as 1 and 0). Anything else passes through to pydantic, which
    then reports what is allowed."""
    if isinstance(v, bool):
        raise ValueError(f"must be a number, not {str(v).lower()}")
    if isinstance(v, str):
        m = _NUMBER.match(v)
        if m:
            x = float(m.group(1).replace("_", "")) * _SUFFIX.get(m.group(2), 1)
            if not math.isfinite(x):
                return v  # too large for a float: let pydantic reject the text
            return int(x) if x == int(x) else x
    return v


def _to_whole(v: object) -> object:
    v = _to_number(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


Count = Annotated[int, BeforeValidator(_to_whole), Field(ge=1)]


def _hi(field: str) -> int:
    return MODEL_LIMITS[field][1]


# Model-shape bounds from the one table (planner/spec/limits.py MODEL_LIMITS;
# docs/spec.md "Limits"): pydantic refuses ``hidden_size: 1e30`` naming the
# field and line, and `planner schema` shows the maxima.
Width = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("hidden_size"))]
HeadDim = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("head_dim"))]
MlpWidth = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("intermediate_size"))]
Layers = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_layers"))]
Heads = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_attention_heads"))]
KvHeads = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_key_value_heads"))]
Vocab = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("vocab_size"))]
Positions = Annotated[
    int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("max_position_embeddings"))
]
Window = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("sliding_window"))]
Experts = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_local_experts"))]
TopK = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("num_experts_per_tok"))]
Params = Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=_hi("parameters"))]
Number = Annotated[float, BeforeValidator(_to_number)]
Fraction = Annotated[float, Field(gt=0, le=1)]


def _admits_bool(ann: object) -> bool:
    return ann is bool or any(_admits_bool(a) for a in getattr(ann, "__args__", ()) or ())


class Strict(BaseModel):
    # Non-finite numbers (.inf, .nan, 1e400) are refused everywhere.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: object, info: ValidationInfo) -> object:
        """true/false where a number belongs is refused (pydantic reads 1, 0)."""
        field = cls.model_fields.get(info.field_name or "")
        ann = field.annotation if field is not None else None
        numeric = "float" in str(ann) or "int" in str(ann)
        if isinstance(v, bool) and numeric and not _admits_bool(ann):
            raise ValueError(f"must be a number, not {str(v).lower()}")
        return v


class ModelSection(Strict):
    """A model: a preset, a preset with overrides, a full architecture, a
    parameter count with the shape activations need, or an HF config.json."""

    preset: str | None = Field(None, description="Catalog name (see `planner presets`).")
    hf_config: str | None = Field(
        None, description="Path to a Hugging Face config.json (relative to the spec file)."
    )
    architecture: Family | None = Field(
        None,
        description="llama (RMSNorm, SwiGLU, rotary, optional GQA), gpt (LayerNorm, GELU"
        " MLP, learned positions, biases) or moe (llama block with experts); with"
        " hf_config or a preset also the HF families (gemma, deepseek, ...).",
    )
    title: str | None = None
    parameters: Params | None = Field(
        None, description="Total parameters, when the model is given by count as the seed does."
    )
    hidden_size: Width | None = None
    num_layers: Layers | None = None
    num_attention_heads: Heads | None = None
    num_key_value_heads: KvHeads | None = Field(None, description="Default: num_attention_heads.")
    head_dim: HeadDim | None = Field(None, description="Default: hidden_size / heads.")
    intermediate_size: MlpWidth | None = Field(
        None, description="MLP width (per expert for moe). Default: 4 x hidden for gpt."
    )
    vocab_size: Vocab | None = None
    tie_word_embeddings: bool | None = None
    max_position_embeddings: Positions | None = None
    hidden_act: str | None = None
    attention_bias: bool | None = Field(None, description="Bias on q, k, v (and o unless set).")
    attention_out_bias: bool | None = Field(None, description="Bias on the output projection.")
    mlp_bias: bool | None = None
    num_local_experts: Experts | None = Field(None, description="Experts per MoE layer.")
    num_experts_per_tok: TopK | None = Field(None, description="Active experts per token.")
    sliding_window: Window | None = None
    qk_norm: bool | None = Field(
        None, description="RMSNorm on each head's queries and keys (Qwen3). Default: false."
    )
    # Catalog-only facts (presets carry them; specs may too).
    hf_id: str | None = None
    published_parameters: Params | None = None
    published_active_parameters: Params | None = None
    published_parameters_rounded: Number | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ModelSection:
        if self.preset and self.hf_config:
            raise ValueError("give either `preset` or `hf_config`, not both")
        return self


Precision = Literal["fp32", "fp16-mixed", "bf16-mixed", "bf16-autocast", "fp8-mixed", "bf16"]
Optimizer = Literal[
    "adamw",
    "adam",
    "sgd-momentum",
    "sgd",
    "adamw-8bit",
    "adafactor",
    "lion",
    "paged-adamw",
    "paged-adamw-8bit",
]


# Base-weight storage per fine-tuning method (planner/estimate/lora.py).
LORA_BASE = ("bf16", "fp16")
QLORA_BASE = ("nf4", "fp4", "int8")


class FinetuningSection(Strict):
    """Parameter-efficient fine-tuning: LoRA (Hu et al. 2021) or QLoRA
    (Dettmers et al. 2023) adapters on a frozen base (planner/estimate/lora.py)."""

    method: Literal["lora", "qlora"] = Field(
        description="lora: frozen 16-bit base; qlora: frozen base quantized by bitsandbytes."
    )
    rank: Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=65_536)] = Field(
        8, description="LoRA rank r: A is r x in, B is out x r."
    )
    alpha: Annotated[float, Field(gt=0, le=1e6)] = Field(
        16.0, description="LoRA alpha (scaling alpha / r); no effect on memory or time."
    )
    dropout: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="Dropout on the adapters' input (PEFT lora_dropout)."
    )
    target_modules: (
        Annotated[list[str], Field(min_length=1, max_length=64)] | Literal["all-linear"]
    ) = Field(
        ["q_proj", "v_proj"],
        description="HF module names that get adapters, or all-linear (every linear layer"
        " but the LM head, as PEFT).",
    )
    base_precision: Literal["bf16", "fp16", "nf4", "fp4", "int8"] | None = Field(
        None,
        description="Storage of the frozen base. lora: bf16 (default) or fp16; qlora: nf4"
        " (default), fp4 or int8.",
    )
    double_quant: bool = Field(
        False,
        description="qlora 4-bit: quantize the quantization constants (bitsandbytes"
        " bnb_4bit_use_double_quant).",
    )
    trainable_extra: Annotated[list[str], Field(max_length=64)] = Field(
        [],
        description="HF modules trained in full next to the adapters (PEFT modules_to_save),"
        " e.g. lm_head, embed_tokens.",
    )

    @property
    def base(self) -> str:
        """The frozen base's storage, with the method's default."""
        return self.base_precision or ("nf4" if self.method == "qlora" else "bf16")

    @model_validator(mode="after")
    def _consistent(self) -> FinetuningSection:
        allowed = LORA_BASE if self.method == "lora" else QLORA_BASE
        if self.base not in allowed:
            raise ValueError(
                f"base_precision {self.base!r} does not go with method {self.method!r}"
                f" (allowed: {', '.join(allowed)})"
            )
        if self.double_quant and self.base not in ("nf4", "fp4"):
            raise ValueError("double_quant applies to 4-bit bases (nf4, fp4) only")
        return self


class TrainingSection(Strict):
    sequence_length: Count = Field(description="Tokens per sequence.")
    micro_batch_size: Count = Field(1, description="Sequences per GPU per forward pass.")
    global_batch_size: Count | None = Field(
        None, description="Sequences per optimizer step (default: micro_batch_size)."
    )
    tokens: Count = Field(description="Total training tokens, e.g. 2e12 or '2T'.")
    precision: Precision = "bf16-mixed"
    gradient_precision: Literal["fp32", "bf16", "fp16"] | None = Field(
        None, description="Default: 16-bit under *-mixed (ZeRO paper), fp32 otherwise."
    )
    optimizer: Optimizer = "adamw"
    attention: Literal["flash", "eager"] = "flash"
    recompute: Literal["none", "selective", "full"] = "none"
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    implementation: Literal["megatron", "hf-transformers"] = Field(
        "megatron", description="Which framework's saved tensors the activation model follows."
    )
    trainable: Literal["full", "freeze-embeddings"] = Field(
        "full",
        description="Which parameters train (get gradients and optimizer states);"
        " frozen ones keep their weights only (planner/estimate/trainable.py).",
    )
    finetuning: FinetuningSection | None = Field(
        None, description="LoRA / QLoRA adapters on a frozen base; absent = full training."
    )
    freeze_layers: Annotated[int, BeforeValidator(_to_whole), Field(ge=0, le=4_096)] = Field(
        0, description="Full fine-tuning: the first N transformer blocks are frozen."
    )

    @model_validator(mode="before")
    @classmethod
    def _peft_profile(cls, data: object) -> object:
        """Adapters are PEFT modules: their activations follow the
        hf-transformers profile, the default when `finetuning` is given."""
        if isinstance(data, dict) and data.get("finetuning") is not None:
            data = {"implementation": "hf-transformers", **data}
        return data

    @model_validator(mode="after")
    def _one_method(self) -> TrainingSection:
        if self.finetuning is not None:
            if self.freeze_layers:
                raise ValueError("freeze_layers is for full fine-tuning; not with `finetuning`")
            if self.trainable != "full":
                raise ValueError("trainable is for full fine-tuning; not with `finetuning`")
            if self.implementation != "hf-transformers":
                raise ValueError(
                    "finetuning adapters are PEFT modules: implementation must be"
                    " hf-transformers (its default with `finetuning`)"
                )
            if self.precision not in ("bf16-mixed", "bf16-autocast", "bf16", "fp16-mixed"):
                raise ValueError(
                    f"precision {self.precision!r} is not modelled with LoRA/QLoRA"
                    " (use bf16, bf16-mixed, bf16-autocast or fp16-mixed)"
                )
            fp16 = self.precision == "fp16-mixed"
            if fp16 != (self.finetuning.base == "fp16"):
                raise ValueError(
                    "the adapters compute in the base's 16-bit type: fp16-mixed goes with"
                    " base_precision fp16 (lora), the bf16 precisions with a bf16 or"
                    " quantized base"
                )
        return self


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


class MfuRange(Strict):
    """Model FLOPs utilisation; one number means `expected`, and low/high
    then follow from ``assumptions.mfu_spread``."""

    low: Fraction | None = None
    expected: Fraction
    high: Fraction | None = None

    @model_validator(mode="after")
    def _ordered(self) -> MfuRange:
        lo = self.low if self.low is not None else self.expected
        hi = self.high if self.high is not None else self.expected
        if not lo <= self.expected <= hi:
            raise ValueError("must satisfy low <= expected <= high")
        return self


def _mfu_mapping(v: object) -> object:
    v = _to_number(v)
    return {"expected": v} if isinstance(v, int | float) and not isinstance(v, bool) else v


def _as_list(v: object) -> object:
    if v is None:
        raise ValueError("give a GPU: a catalog name, a mapping, or a list of candidates")
    if isinstance(v, str):
        return [{"preset": v}]
    if isinstance(v, dict):
        return [v]
    if isinstance(v, list):
        return [{"preset": x} if isinstance(x, str) else x for x in v]
    return v


def _preset_mapping(v: object) -> object:
    return {"preset": v} if isinstance(v, str) else v


class TflopsSection(Strict):
    fp32: Number | None = None
    tf32: Number | None = None
    fp16: Number | None = None
    bf16: Number | None = None
    fp8: Number | None = None


class GpuSection(Strict):
    """A catalog GPU with overrides, or a GPU defined in full."""

    preset: str | None = None
    name: str | None = None
    memory_gib: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Device memory as the driver reports it, in GiB."
    )
    dense_tflops: TflopsSection | None = None
    memory_bandwidth_gb_s: Annotated[float, Field(gt=0)] | None = None
    intra_node_gb_s: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Unidirectional per-GPU bandwidth inside a node (GB/s)."
    )
    inter_node_gb_s: Annotated[float, Field(gt=0)] | None = None
    pcie_gb_s: Annotated[float, Field(gt=0)] | None = None
    nvlink_domain_gpus: Count | None = None
    price_per_gpu_hour: Annotated[float, Field(ge=0)] | None = Field(
        None, description="USD per GPU-hour for this GPU type (overrides cluster's)."
    )


class PricingSection(Strict):
    """How GPU time is paid for (planner/pricing.py; docs/spec.md)."""

    model: Literal["on-demand", "reserved", "spot", "owned"] = Field(
        "on-demand", description="on-demand, reserved, spot, or owned (needs cluster.ownership)."
    )
    discount: Annotated[float, Field(ge=0, lt=1)] | None = Field(
        None, description="Reserved and spot: the fraction off the on-demand price (0.4 = 40%)."
    )
    interruption_overhead: Annotated[float, Field(ge=0, le=10)] | None = Field(
        None, description="Spot: extra fraction of GPU time that restarts after interruptions cost."
    )
    term_months: Annotated[int, BeforeValidator(_to_whole), Field(ge=1, le=120)] | None = Field(
        None, description="Reserved: the term, in months; whole terms are paid."
    )

    @model_validator(mode="after")
    def _fields_for_model(self) -> PricingSection:
        need = {"reserved": ("discount", "term_months"), "spot": ("discount",
                "interruption_overhead")}.get(self.model, ())  # fmt: skip
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"pricing model {self.model} needs {', '.join(missing)}")
        allowed = set(need)
        extra = [k for k in ("discount", "interruption_overhead", "term_months")
                 if getattr(self, k) is not None and k not in allowed]  # fmt: skip
        if extra:
            raise ValueError(f"{', '.join(extra)} does not apply to pricing model {self.model}")
        return self


class OwnershipSection(Strict):
    """Buying the GPUs: the figures of the cost of ownership per GPU-hour
    (planner/pricing.py). Fields left out take the catalog's figures,
    labelled as assumptions."""

    purchase_price_per_gpu: Annotated[float, Field(gt=0, le=1e7)] | None = Field(
        None, description="USD per GPU. Default: the catalog's third-party estimate."
    )
    infrastructure_overhead: Annotated[float, Field(ge=0, le=10)] = Field(
        description="Fraction of the purchase price for servers, network and storage."
    )
    power_watts_per_gpu: Annotated[float, Field(gt=0, le=10_000)] | None = Field(
        None, description="W per GPU. Default: the catalog's maximum board power (TDP)."
    )
    node_power_watts: Annotated[float, Field(ge=0, le=1e6)] | None = Field(
        None, description="W per node besides its GPUs. Default: the DGX system maximum - GPUs."
    )
    pue: Annotated[float, Field(ge=1, le=5)] | None = Field(
        None, description="Power usage effectiveness. Default: 1.56 (Uptime Institute 2024)."
    )
    electricity_usd_per_kwh: Annotated[float, Field(ge=0, le=10)] = Field(
        description="USD per kWh."
    )
    hosting_usd_per_kw_month: Annotated[float, Field(ge=0, le=10_000)] = Field(
        description="Colocation or facility cost, USD per kW (IT load x PUE) per month."
    )
    depreciation_years: Annotated[float, Field(gt=0, le=30)] = Field(
        description="Years over which the purchase is written off."
    )
    utilization: Annotated[float, Field(gt=0, le=1)] = Field(
        description="Share of the hours in those years the GPUs are used."
    )


class ClusterSection(Strict):
    gpu: Annotated[list[GpuSection], BeforeValidator(_as_list), Field(min_length=1)] = Field(
        description="Catalog name, a mapping, or a list of candidates to compare."
    )
    gpus_per_node: Count | None = None
    max_gpus: Count | None = Field(None, description="Upper bound on GPUs (default: one node).")
    price_per_gpu_hour: Annotated[float, Field(ge=0)] | None = Field(
        None, description="USD per GPU-hour. Default: the catalog's indicative price."
    )
    mfu: Annotated[MfuRange, BeforeValidator(_mfu_mapping)] | None = Field(
        None, description="Model FLOPs utilisation, one value or low/expected/high."
    )
    host_memory_per_node: Annotated[Number, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None,
        description="Host (CPU) RAM per node in GiB, for CPU offload. Default: 2048 for"
        " H100/H200 nodes (DGX H100/H200), else 1024 (DGX A100).",
    )
    pricing: PricingSection = Field(
        PricingSection(), description="How GPU time is paid for: on-demand (default)."
    )
    ownership: OwnershipSection | None = Field(
        None, description="Buying the GPUs; with it the report compares renting and buying."
    )
    carbon_kg_per_kwh: Annotated[float, Field(ge=0, le=5)] | None = Field(
        None, description="kg CO2-equivalent per kWh of the electricity, for the run's CO2."
    )

    @model_validator(mode="after")
    def _owned_needs_ownership(self) -> ClusterSection:
        if self.pricing.model == "owned" and self.ownership is None:
            raise ValueError("pricing model owned needs cluster.ownership")
        own = self.ownership
        if own is not None and own.purchase_price_per_gpu is not None and len(self.gpu) > 1:
            raise ValueError(
                "ownership.purchase_price_per_gpu is for one GPU type: give one GPU"
                " (compare types with one spec each)"
            )
        return self


class ConstraintsSection(Strict):
    max_days: Annotated[float, Field(gt=0)] | None = None
    max_budget_usd: Annotated[float, Field(gt=0)] | None = None


_CAL = calibration()


class AssumptionsSection(Strict):
    """Documented defaults that a spec may override (docs/assumptions.md)."""

    cuda_context_gib: Annotated[float, Field(ge=0)] = Field(
        1.0, description="CUDA context + library handles per GPU."
    )
    allocator_fragmentation: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.05, description="Share of allocated bytes lost to the caching allocator."
    )
    # goodput and its range are fitted on published runs (benchmarks/calibrate.py,
    # docs/accuracy.md "Published training runs"); a test checks they are current.
    goodput: Fraction = Field(
        _CAL["goodput"],
        description="Share of wall time doing useful steps (restarts, eval, stalls).",
    )
    goodput_low: Fraction = Field(
        _CAL["goodput_low"], description="Goodput at the slow end of the range (the high duration)."
    )
    goodput_high: Fraction = Field(
        _CAL["goodput_high"], description="Goodput at the fast end of the range (the low duration)."
    )
    mfu_spread: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.2, description="When the spec gives one MFU value: low/high = value x (1 -/+ spread)."
    )
    # Plan (docs/plan.md lists each default's source).
    bandwidth_efficiency: Fraction = Field(
        0.7, description="Share of the link bandwidth a collective achieves (NCCL bus bandwidth)."
    )
    dp_overlap: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5,
        description="Share of one micro-batch's backward that hides the data-parallel"
        " gradient reduction (bucketed overlap).",
    )
    cpu_adam_params_per_second: Annotated[float, Field(gt=0)] = Field(
        1e9, description="Parameters per second the host updates per GPU under optimizer offload."
    )
    nccl_buffer_gib: Annotated[float, Field(ge=0)] = Field(
        0.5, description="NCCL internal buffers per GPU when it communicates."
    )
    cost_tie_band: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0,
        description="Objective `cheapest`, opt-in: plans within this share of the cheapest"
        " cost count as equal and the fastest of them is chosen (0: the cheapest plan found).",
    )
    balanced_cost_band: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.10,
        description="Objective `balanced`: the fastest plan whose cost is at most this share"
        " above the cheapest feasible plan's is chosen.",
    )
    decode_bandwidth_efficiency: Fraction = Field(
        0.7, description="Serving: share of peak HBM bandwidth a decode step streams at."
    )
    collective_latency_us: Annotated[float, Field(ge=0)] = Field(
        10.0, description="Serving: lower bound of one tensor-parallel all-reduce (microseconds)."
    )
    ddp_bucket_mib: Annotated[float, Field(ge=0)] = Field(
        25.0, description="Gradient bucket size (PyTorch DDP bucket_cap_mb), double-buffered."
    )


Offload = Literal["none", "optimizer", "optimizer+params"]


class ParallelismSection(Strict):
    """A fixed layout to check instead of searching; keys left out are searched."""

    tensor_parallel: Count | None = None
    pipeline_parallel: Count | None = None
    data_parallel: Count | None = None
    context_parallel: Count | None = None
    expert_parallel: Count | None = None
    sequence_parallel: bool | None = None
    virtual_pipeline_stages: Count | None = None
    zero_stage: Annotated[int, Field(ge=0, le=3)] | None = None
    zero_shard_group: Annotated[int, Field(ge=0)] | None = Field(
        None,
        description="Data-parallel ranks ZeRO shards over (hybrid sharding: FSDP HYBRID_SHARD,"
        " MiCS); 0 = all of them. Must divide data_parallel.",
    )
    recompute: Literal["none", "selective", "full"] | None = None
    micro_batch_size: Count | None = None
    offload: Offload | None = None


class ReportSection(Strict):
    contingency: Annotated[float, Field(ge=0, lt=10)] = Field(
        0.10, description="Budget contingency on top of the expected cost (0.10 = 10%)."
    )
    paper: Literal["a4", "letter"] = "a4"
    timestamp: bool = Field(False, description="Print the generation date (breaks byte-stability).")
    purchase_price_per_gpu: Annotated[float, Field(gt=0)] | None = Field(
        None, description="USD per GPU to compare buying with renting."
    )


class SpecFile(Strict):
    """One planning scenario."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)] = Field(
        description="Slug used for output file names (lowercase, digits, '.', '_', '-')."
    )
    title: str | None = None
    description: str | None = None
    model: Annotated[ModelSection, BeforeValidator(_preset_mapping)] = Field(
        description="A preset name, or a mapping (see ModelSection)."
    )
    training: TrainingSection | None = None
    inference: InferenceSection | None = None
    cluster: ClusterSection
    constraints: ConstraintsSection = ConstraintsSection()
    objective: Literal["balanced", "cheapest", "fastest", "fewest-gpus"] = Field(
        "balanced",
        description="What the plan optimises among feasible layouts. `balanced` (default):"
        " the fastest plan costing at most assumptions.balanced_cost_band more than the"
        " cheapest; `cheapest`: the cheapest plan found.",
    )
    assumptions: AssumptionsSection = AssumptionsSection()
    parallelism: ParallelismSection | None = None
    report: ReportSection = ReportSection()

    @model_validator(mode="after")
    def _one_workload(self) -> SpecFile:
        if (self.training is None) == (self.inference is None):
            raise ValueError("give exactly one workload section: `training` or `inference`")
        return self
