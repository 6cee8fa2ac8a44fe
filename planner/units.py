"""Units in one place: the only module that knows GB (1e9) from GiB (2**30).

Every quantity inside planner is in base units (bytes, FLOPs, seconds, USD);
this module turns them into text. Every printed size names its unit.
"""

from __future__ import annotations

GB = 10**9
GiB = 2**30
MiB = 2**20
TB = 10**12
TiB = 2**40

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0

_SIZE_UNITS = {"GB": GB, "GiB": GiB, "MiB": MiB, "TB": TB, "TiB": TiB}


def to_unit(n_bytes: float, unit: str) -> float:
    """Bytes expressed in ``unit`` (one of GB, GiB, MiB, TB, TiB)."""
    return n_bytes / _SIZE_UNITS[unit]


def fmt_bytes(n_bytes: float, unit: str = "GiB", digits: int = 2) -> str:
    """``fmt_bytes(112e9, "GB") == "112.00 GB"``; always names the unit."""
    return f"{to_unit(n_bytes, unit):,.{digits}f} {unit}"


def fmt_bytes_both(n_bytes: float, digits: int = 2) -> str:
    """Both units, for figures a reader will compare with vendor numbers."""
    return f"{fmt_bytes(n_bytes, 'GiB', digits)} ({fmt_bytes(n_bytes, 'GB', digits)})"


def fmt_int(n: float) -> str:
    return f"{round(n):,}"


def fmt_count(n: float) -> str:
    """Large counts in engineering words: 6.74 B, 131.1 M."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:,.2f} {suffix}"
    return f"{n:,.0f}"


def fmt_flops(n: float) -> str:
    return f"{n:.3e} FLOPs"


def fmt_usd(n: float) -> str:
    return f"USD {n:,.0f}" if abs(n) >= 100 else f"USD {n:,.2f}"


def fmt_duration(seconds: float) -> str:
    """Seconds as the largest sensible unit: '3.2 days', '5.1 h', '42 s'."""
    if seconds >= 2 * SECONDS_PER_DAY:
        return f"{seconds / SECONDS_PER_DAY:,.1f} days"
    if seconds >= 2 * SECONDS_PER_HOUR:
        return f"{seconds / SECONDS_PER_HOUR:,.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds:,.2f} s"


def fmt_pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"
