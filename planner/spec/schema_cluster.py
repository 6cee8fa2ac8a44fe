"""The spec's `cluster` section: the GPUs (catalog or custom), MFU, how
GPU time is paid for, and the cost of owning the GPUs (re-exported by
planner/spec/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from planner.spec.schema_types import Count, Fraction, Number, Strict, _to_number, _to_whole


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
