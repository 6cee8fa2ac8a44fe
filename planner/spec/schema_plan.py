"""The spec's planning settings: `constraints`, `assumptions` (documented
defaults), a fixed `parallelism` layout and `report` options (re-exported by
planner/spec/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from planner.catalog import calibration
from planner.spec.schema_types import Count, Fraction, Strict


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
