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


def fmt_usd_whole(n: float) -> str:
    """USD in whole dollars at any size (a contingency line beside whole-dollar totals)."""
    return f"USD {n:,.0f}"


def money_lines(usd: float, rate: float) -> tuple[str, str, str]:
    """(subtotal, contingency, total) as printed, rounded once so that the
    printed lines add up: whole dollars from USD 100 (cents below), the
    contingency taken on the rounded subtotal and the total their sum
    (a finance reader adds the printed figures, not the exact ones)."""
    digits = 0 if abs(usd) >= 100 else 2
    s = round(usd, digits)
    c = round(s * rate, digits)
    if digits == 0:
        return fmt_usd_whole(s), fmt_usd_whole(c), fmt_usd_whole(s + c)
    return f"USD {s:,.2f}", f"USD {c:,.2f}", f"USD {s + c:,.2f}"


def fmt_duration(seconds: float) -> str:
    """Seconds as the largest sensible unit: '3.2 days', '5.1 h', '42 s'."""
    div, name, digits = _duration_unit(seconds)
    return f"{seconds / div:,.{digits}f} {name}"


def fmt_kg(kg: float) -> str:
    """A mass: '850 kg', '12.3 t' (metric tonnes)."""
    return f"{kg:,.0f} kg" if kg < 1000 else f"{kg / 1000:,.1f} t"


def fmt_pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def plural(n: float, word: str, many: str | None = None) -> str:
    """``plural(1, "GPU") == "1 GPU"``, ``plural(8, "GPU") == "8 GPUs"``;
    ``many`` for irregular plurals. Counts are printed with thousands
    separators."""
    text = word if n == 1 else (many or word + "s")
    return f"{fmt_int(n)} {text}"


def fmt_nodes(gpus: int, gpus_per_node: int) -> str:
    """Where the GPUs sit: "1 GPU on one 8-GPU node", "1 node of 8 GPUs",
    "2 nodes of 8 GPUs" (a node count of 1 with 1 GPU used reads wrong as
    "1 node of 8 GPUs")."""
    if gpus < gpus_per_node:
        return f"{plural(gpus, 'GPU')} on one {gpus_per_node}-GPU node"
    nodes = -(-gpus // gpus_per_node)
    return f"{plural(nodes, 'node')} of {gpus_per_node} GPUs"


def fmt_beyond(value: float, limit: float, unit: str = "") -> str:
    """``value`` with enough decimals that a comparison with ``limit`` reads
    true: ``fmt_beyond(3.004, 3) == "3.004"``, not "3.0" next to "> 3"."""
    for digits in (1, 2, 3, 4, 5, 6):
        if round(value, digits) != round(limit, digits):
            return f"{value:,.{digits}f}{unit}"
    return f"{value:,.6f}{unit}"


def _duration_unit(seconds: float) -> tuple[float, str, int]:
    """The unit fmt_duration picks: (seconds per unit, name, decimals)."""
    if seconds >= 2 * SECONDS_PER_DAY:
        return SECONDS_PER_DAY, "days", 1
    if seconds >= 2 * SECONDS_PER_HOUR:
        return SECONDS_PER_HOUR, "h", 1
    if seconds >= 120:
        return 60.0, "min", 1
    return 1.0, "s", 2


def fmt_duration_range(low_seconds: float, high_seconds: float, like: float) -> str:
    """A range in the unit fmt_duration(``like``) uses, so that one phrase
    keeps one unit: "20.9 to 31.2 h", not "23.2 h (range 0.9 to 1.3 days)"."""
    div, name, digits = _duration_unit(like)
    return f"{low_seconds / div:,.{digits}f} to {high_seconds / div:,.{digits}f} {name}"


def fmt_change(ratio_minus_one: float, more: str = "longer", less: str = "shorter") -> str:
    """A relative change in words: "33.3% shorter", "1.6% longer", "no change"
    (never "-33.3% longer")."""
    if round(100 * ratio_minus_one, 1) == 0:
        return "no change"
    word = more if ratio_minus_one > 0 else less
    return f"{fmt_pct(abs(ratio_minus_one))} {word}"
