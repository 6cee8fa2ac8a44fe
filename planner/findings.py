"""Findings: what a rule says about a plan, with its numbers as data.

A finding is pylint's ``Message`` habit: a stable id (``REC-003``), a
severity, the rendered message, and the evidence it was rendered from
(name -> value and unit), plus the source of the rule's reasoning. JSON,
text and the report all print the same record; the report links each
finding to its rule's explanation (``planner rules ID``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Evidence:
    """One number a rule used: ``Evidence("usable", 84_825_604_096, "bytes")``."""

    name: str
    value: float | int | str
    unit: str  # bytes | GPUs | days | USD | seconds | fraction | TFLOP/s | "" (a count)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Finding:
    id: str  # REC-001 ... / SRV-001 ...; stable, never reused
    severity: str  # info | warning | error
    message: str
    evidence: tuple[Evidence, ...] = ()
    source: str = ""  # the rule's source (paper, docs), filled in by the registry

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
            "source": self.source,
        }


def ev(name: str, value: float | int | str, unit: str = "") -> Evidence:
    """Shorthand for rules: ``ev("memory_per_gpu", m.total, "bytes")``."""
    return Evidence(name, value, unit)
