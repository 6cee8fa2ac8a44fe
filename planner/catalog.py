"""Model and GPU catalogs: data files shipped in the package (planner/data).

Figures live in the YAML files with a source per entry; this module only
loads them into typed records.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from planner.units import MiB


def _load(name: str) -> dict[str, Any]:
    text = resources.files("planner").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def calibration() -> dict[str, Any]:
    """The time model's constants fitted on published runs, and how many of
    those runs fell inside the predicted range (planner/data/calibration.yaml,
    written by benchmarks/calibrate.py)."""
    return dict(_load("calibration.yaml"))


def model_presets() -> dict[str, dict[str, Any]]:
    """Preset name -> the `model:` mapping it stands for."""
    return dict(_load("models.yaml")["models"])


@dataclass(frozen=True)
class MfuDefaults:
    low: float
    expected: float
    high: float


@dataclass(frozen=True)
class Gpu:
    key: str
    name: str
    vendor: str
    memory_bytes: int  # what the device offers (driver-reported where known)
    memory_gb_marketed: float
    dense_tflops: dict[str, float | None]
    memory_bandwidth_gb_s: float
    intra_node_gb_s: float  # unidirectional, per GPU
    nvlink_domain_gpus: int
    inter_node_gb_s: float  # unidirectional, per GPU
    pcie_gb_s: float
    gpus_per_node: int
    default_mfu: MfuDefaults
    price_per_gpu_hour: float | None
    price_note: str  # "indicative: provider, date; source title (url)": never an internal id
    purchase_price_usd: float | None
    sources: tuple[str, ...]
    notes: str = ""
    price_date: str = ""
    price_citation: str = ""  # the catalog source's title and address
    purchase_citation: str = ""
    tdp_watts: float | None = None  # maximum board power (datasheet)
    node_watts: float | None = None  # rest of the server: system maximum - GPUs' TDP
    power_citation: str = ""

    def peak_flops(self, dtype: str) -> float | None:
        """Dense peak FLOP/s for a compute dtype, or None if unsupported."""
        tf = self.dense_tflops.get(dtype)
        return None if tf is None else float(tf) * 1e12

    def compute_peak(self, dtype: str) -> float:
        """Dense peak FLOP/s for the compute dtype, falling back to fp16, then
        fp32, where the GPU lacks the format (V100 has no bf16: the plan
        recommends fp16-mixed there, REC-001)."""
        for d in (dtype, "fp16", "fp32"):
            peak = self.peak_flops(d)
            if peak:
                return peak
        raise ValueError(f"GPU {self.key} has no dense TFLOP/s figure")

    @property
    def supports_bf16(self) -> bool:
        return self.dense_tflops.get("bf16") is not None

    @property
    def supports_fp8(self) -> bool:
        return self.dense_tflops.get("fp8") is not None


def citation(key: str | None) -> str:
    """A catalog source as a reader can follow it: its title and address.
    Internal ids (``price_snapshot_2026_02``) are never printed."""
    s = gpu_sources().get(key or "")
    if not s:
        return "source not recorded"
    url = s.get("url")
    return f"{s['title']} ({url})" if url else str(s["title"])


def _gpu_from_entry(key: str, e: dict[str, Any]) -> Gpu:
    price = e.get("price_per_gpu_hour") or {}
    purchase = e.get("purchase_price_usd") or {}
    power = e.get("power") or {}
    note = cite = date = ""
    if price:
        date, cite = str(price.get("date", "date unknown")), citation(price.get("source"))
        note = f"indicative: {price.get('provider', '?')}, {date}; source: {cite}"
    return Gpu(
        key=key,
        name=e["name"],
        vendor=e["vendor"],
        memory_bytes=int(e["memory_bytes"]),
        memory_gb_marketed=float(e["memory_gb_marketed"]),
        dense_tflops=dict(e["dense_tflops"]),
        memory_bandwidth_gb_s=float(e["memory_bandwidth_gb_s"]),
        intra_node_gb_s=float(e["intra_node"]["gb_s"]),
        nvlink_domain_gpus=int(e["intra_node"].get("nvlink_domain_gpus", 1)),
        inter_node_gb_s=float(e["inter_node_gb_s"]),
        pcie_gb_s=float(e["pcie_gb_s"]),
        gpus_per_node=int(e["gpus_per_node"]),
        default_mfu=MfuDefaults(**e["default_mfu"]),
        price_per_gpu_hour=float(price["usd"]) if price else None,
        price_note=note,
        purchase_price_usd=float(purchase["usd"]) if purchase else None,
        sources=tuple(e.get("sources", ())),
        notes=str(e.get("notes", "")),
        price_date=date,
        price_citation=cite,
        purchase_citation=citation(purchase.get("source")) if purchase else "",
        tdp_watts=float(power["gpu_watts"]) if power else None,
        node_watts=float(power["node_watts"]) if power.get("node_watts") is not None else None,
        power_citation=citation(power.get("source")) if power else "",
    )


def spec_sources(g: Gpu) -> list[str]:
    """Titles of the sources of a GPU's hardware figures (memory, FLOP/s,
    bandwidth): its listed sources less those of prices and assumptions."""
    src = gpu_sources()
    out = []
    for k in g.sources:
        s = src.get(k, {})
        if k.startswith("price_") or str(s.get("quality", "")).startswith("assumption"):
            continue
        if s and k != "hf_hardware":  # hf_hardware: the purchase price's source
            out.append(str(s["title"]))
    return out


@cache
def gpu_catalog() -> dict[str, Gpu]:
    data = _load("gpus.yaml")
    return {k: _gpu_from_entry(k, e) for k, e in data["gpus"].items()}


@cache
def gpu_sources() -> dict[str, dict[str, Any]]:
    return dict(_load("gpus.yaml").get("sources", {}))


def gib_to_bytes(gib: float) -> int:
    return round(gib * 1024 * MiB)
