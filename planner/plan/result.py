"""The record a training plan is: ``Plan`` (its findings: planner.findings)."""

from __future__ import annotations

from dataclasses import dataclass

from planner.estimate.compute import Flops
from planner.estimate.params import ParameterCounts
from planner.findings import Finding
from planner.plan.layout import Layout
from planner.plan.memory import GpuMemory, PlanModel
from planner.plan.methods import MethodRow
from planner.plan.offload import HostMemory, host_memory
from planner.plan.search import Candidate, SearchResult, distinct, layout_key
from planner.plan.timing import RunTime
from planner.spec.model import ClusterChoice, Spec


@dataclass(frozen=True)
class Plan:
    spec: Spec
    counts: ParameterCounts
    model: PlanModel
    flops: dict[str, Flops]  # per recompute mode
    best: Candidate  # the chosen layout, or the nearest miss when nothing fits
    memory: GpuMemory
    times: dict[str, RunTime]  # low / expected / high
    search: SearchResult
    min_gpus: dict[str, Layout | None]  # GPU key -> smallest fitting layout (when none fits)
    findings: tuple[Finding, ...] = ()
    # Fine-tuning specs: full vs LoRA vs QLoRA, each planned (planner/plan/methods.py).
    methods: tuple[MethodRow, ...] = ()

    @property
    def host(self) -> HostMemory:
        """Host RAM per node for CPU offload (planner/plan/offload.py)."""
        return host_memory(self.model, self.layout, self.cluster)

    @property
    def fits(self) -> bool:
        return self.memory.fits and self.host.fits

    @property
    def layout(self) -> Layout:
        return self.best.layout

    @property
    def cluster(self) -> ClusterChoice:
        return self.best.cluster

    @property
    def expected(self) -> RunTime:
        return self.times["expected"]

    @property
    def alternatives(self) -> tuple[Candidate, ...]:
        key = layout_key(self.best)
        return distinct([c for c in self.search.ranked if layout_key(c) != key], 5)
