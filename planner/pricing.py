"""What a GPU-hour costs under a pricing model, and what owning a GPU costs
per hour (issue 12; docs/plan.md "Pricing and ownership").

* on-demand: the price per GPU-hour (the spec's, else the catalog's
  indicative price).
* reserved: on-demand x (1 - discount), and the reservation is paid for
  whole terms: billed GPU-hours = GPUs x ceil(wall hours / term hours) x
  term hours, with term hours = term_months x 8,760 / 12. A run shorter
  than the term pays for the rest of it.
* spot: on-demand x (1 - discount); restarts after interruptions cost
  ``interruption_overhead`` more GPU time (the run's days and GPU-hours
  grow by 1 + overhead, planner/plan/timing.py).
* owned: the ownership cost per GPU-hour below.

Ownership (the issue's formula): USD per GPU-hour =
    purchase x (1 + overhead) / (years x 8,760 x utilization)
  + kW x PUE x electricity
  + hosting x kW x PUE x 12 / 8,760,
with kW = (power_watts_per_gpu + node_power_watts / gpus_per_node) / 1000.
The first term spreads the capital over the hours the GPU is used; energy
and hosting are paid per hour of use. Break-even utilisation against a
rental price r: the u at which the owned cost equals r,
    u = purchase x (1 + overhead) / (years x 8,760 x (r - running)),
running = the energy and hosting terms; none when r <= running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12


@dataclass(frozen=True)
class Ownership:
    """The figures of owning one GPU, resolved for one GPU type."""

    purchase_usd: float
    purchase_source: str
    infrastructure_overhead: float
    gpu_watts: float
    node_watts: float
    gpus_per_node: int
    power_source: str
    pue: float
    pue_source: str
    electricity_usd_per_kwh: float
    hosting_usd_per_kw_month: float
    depreciation_years: float
    utilization: float

    @property
    def kw_per_gpu(self) -> float:
        return (self.gpu_watts + self.node_watts / self.gpus_per_node) / 1000

    @property
    def capital_usd_per_gpu(self) -> float:
        return self.purchase_usd * (1 + self.infrastructure_overhead)

    @property
    def capital_usd_per_gpu_hour(self) -> float:
        hours = self.depreciation_years * HOURS_PER_YEAR * self.utilization
        return self.capital_usd_per_gpu / hours

    @property
    def energy_usd_per_gpu_hour(self) -> float:
        return self.kw_per_gpu * self.pue * self.electricity_usd_per_kwh

    @property
    def hosting_usd_per_gpu_hour(self) -> float:
        return self.hosting_usd_per_kw_month * self.kw_per_gpu * self.pue * 12 / HOURS_PER_YEAR

    @property
    def usd_per_gpu_hour(self) -> float:
        return (
            self.capital_usd_per_gpu_hour
            + self.energy_usd_per_gpu_hour
            + self.hosting_usd_per_gpu_hour
        )

    def breakeven_utilization(self, rent_usd_per_gpu_hour: float) -> float | None:
        """Utilisation above which owning costs less per GPU-hour than
        renting at ``rent``; None when renting is cheaper even at 100%
        (the rent does not cover energy and hosting, or the capital needs
        more than every hour of the depreciation period)."""
        running = self.energy_usd_per_gpu_hour + self.hosting_usd_per_gpu_hour
        if rent_usd_per_gpu_hour <= running:
            return None
        u = self.capital_usd_per_gpu / (
            self.depreciation_years * HOURS_PER_YEAR * (rent_usd_per_gpu_hour - running)
        )
        return u if u <= 1 else None


@dataclass(frozen=True)
class Pricing:
    """How GPU time is paid for: the model and the numbers it needs."""

    model: str = "on-demand"  # on-demand | reserved | spot | owned
    on_demand_usd: float | None = None  # the list price per GPU-hour
    discount: float = 0.0
    interruption_overhead: float = 0.0  # spot: extra GPU time for restarts
    term_months: int | None = None  # reserved
    ownership: Ownership | None = None

    @property
    def usd_per_gpu_hour(self) -> float | None:
        """The price of one GPU-hour under this model."""
        if self.model == "owned":
            return None if self.ownership is None else self.ownership.usd_per_gpu_hour
        if self.on_demand_usd is None:
            return None
        return self.on_demand_usd * (1 - self.discount)

    @property
    def term_hours(self) -> float | None:
        if self.model != "reserved" or self.term_months is None:
            return None
        return self.term_months * HOURS_PER_MONTH

    def billed_gpu_hours(self, gpus: int, wall_hours: float) -> float:
        """GPU-hours paid for: used ones, or whole reserved terms."""
        term = self.term_hours
        if term is None:
            return gpus * wall_hours
        terms = max(1, math.ceil(wall_hours / term - 1e-9))
        return gpus * terms * term

    def cost_usd(self, gpus: int, wall_hours: float) -> float | None:
        rate = self.usd_per_gpu_hour
        return None if rate is None else self.billed_gpu_hours(gpus, wall_hours) * rate

    def describe(self) -> str:
        """One line: the model and its numbers (for tables and the text plan)."""
        if self.model == "owned":
            return "owned (cost of ownership per GPU-hour, cluster.ownership)"
        if self.model == "reserved":
            return (
                f"reserved: on-demand less {self.discount:.0%}, paid for whole"
                f" {self.term_months}-month terms"
            )
        if self.model == "spot":
            return (
                f"spot: on-demand less {self.discount:.0%}; restarts add"
                f" {self.interruption_overhead:.0%} GPU time"
            )
        return "on-demand"
