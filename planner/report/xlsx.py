"""The spreadsheet a finance reader opens (``-f xlsx`` for ``planner
report`` and ``planner compare``): the bill of materials and the
assumptions as real cells, with formulas where a figure is derived, so
that changing a price or the contingency moves the total:

    GPU-hours   = GPUs x wall-clock hours
    subtotal    = GPU-hours x USD per GPU-hour
    contingency = subtotal x contingency rate
    total       = subtotal + contingency

Where the plan's cost is not GPU-hours x the listed price (a pricing
model that is not), the subtotal is the plan's figure as a value, never a
formula that would disagree with it.

Inputs (GPUs, wall-clock hours = the plan's days x 24, the price, the
contingency rate) are values from the plan (planner/compare/options.py
``Option``, read from the plan JSON); beside each formula the plan's own
figure is kept as a value ("as planned"), so a reader can see both.

Deterministic: the same spec gives the same bytes (the workbook's created
and modified dates are fixed, and every zip entry gets a fixed timestamp).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from planner.compare.options import NO_PRICE, Comparison, Option
from planner.report.records import Table

FIXED_DATE = datetime.datetime(2024, 1, 1, 0, 0, 0)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
USD = '"USD "#,##0.00'
HOURS = "#,##0.0"
RATE = "0.0%"
BOLD: dict[str, Any] = {"bold": True}


def _workbook() -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = "planner"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    return wb


def _bytes(wb: Any) -> bytes:
    """The workbook as bytes, with fixed dates: openpyxl's ``save`` stamps
    ``modified`` with the current time, and zipfile stamps each entry."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _header(ws: Any, row: int, names: Sequence[str]) -> None:
    from openpyxl.styles import Font

    for col, name in enumerate(names, start=1):
        ws.cell(row, col, name).font = Font(**BOLD)


def _widths(ws: Any, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w


# The Options sheet: one row per option; letters are the formulas' columns.
OPTION_COLUMNS = (
    "option", "GPU type", "GPUs", "wall-clock hours", "GPU-hours", "USD per GPU-hour",
    "subtotal (USD)", "contingency rate", "contingency (USD)", "total (USD)",
    "GPU-hours as planned", "subtotal as planned", "USD low (planned)", "USD high (planned)",
    "feasible", "status", "rank", "Pareto front", "price source",
)  # fmt: skip


def _option_row(ws: Any, r: int, o: Option) -> None:
    """Inputs as values, derived figures as formulas (row ``r``)."""
    values: list[Any] = [o.name, o.gpu_name, o.gpus, o.hours, f"=C{r}*D{r}",
                         o.price_per_gpu_hour]  # fmt: skip
    if o.priced:
        sub = f"=E{r}*F{r}" if o.cost_is_hours_x_price else o.usd  # else: the plan's pricing
        values += [sub, o.contingency, f"=G{r}*H{r}", f"=G{r}+I{r}"]
    else:  # a blank price: the formulas wait for one instead of printing USD 0
        values += [f'=IF(ISNUMBER(F{r}),E{r}*F{r},"{NO_PRICE}")', o.contingency,
                   f'=IF(ISNUMBER(G{r}),G{r}*H{r},"")',
                   f'=IF(ISNUMBER(G{r}),G{r}+I{r},"")']  # fmt: skip
    values += [o.gpu_hours, o.usd, o.usd_low, o.usd_high, "yes" if o.feasible else "no",
               o.status, o.rank, "yes" if o.pareto else "no", o.price_source]  # fmt: skip
    for col, v in enumerate(values, start=1):
        ws.cell(r, col, v)
    for letter in "DEK":
        ws[f"{letter}{r}"].number_format = HOURS
    for letter in "FGIJLMN":
        ws[f"{letter}{r}"].number_format = USD
    ws[f"H{r}"].number_format = RATE


def _options_sheet(ws: Any, options: Sequence[Option], title: str) -> int:
    ws.title = title
    _header(ws, 1, OPTION_COLUMNS)
    for r, o in enumerate(options, start=2):
        _option_row(ws, r, o)
    _widths(ws, (24, 26, 7, 14, 14, 12, 16, 11, 16, 16, 14, 16, 16, 16, 8, 60, 6, 10, 60))
    ws.freeze_panes = "B2"
    return len(options) + 2


def _assumptions_sheet(wb: Any, tables: Mapping[str, Table]) -> None:
    ws = wb.create_sheet("Assumptions")
    _header(ws, 1, ("option", "figure", "value", "source"))
    r = 2
    for name, t in tables.items():
        for row in t.rows:
            for col, v in enumerate((name, *row), start=1):
                ws.cell(r, col, v)
            r += 1
    _widths(ws, (24, 30, 40, 80))


def compare_workbook(c: Comparison, assumptions: Mapping[str, Table]) -> bytes:
    """Options (one row each, formulas), the recommendation, the assumptions."""
    wb = _workbook()
    last = _options_sheet(wb.active, c.options, "Options")
    ws = wb.active
    ws.cell(last + 1, 1, "Recommended").font = _font()
    ws.cell(last + 1, 2, c.recommended.name if c.recommended else "none (no option is feasible)")
    ws.cell(last + 2, 1, "Why").font = _font()
    ws.cell(last + 2, 2, c.why)
    ws.cell(last + 3, 1, "Objective").font = _font()
    ws.cell(last + 3, 2, c.objective_text)
    _assumptions_sheet(wb, assumptions)
    return _bytes(wb)


def _font() -> Any:
    from openpyxl.styles import Font

    return Font(**BOLD)


# The report's bill of materials, one row each from row 3 (BILL_ROWS[key]);
# the formulas refer to column B of these rows.
BILL_KEYS = ("status", "gpu", "gpus", "nodes", "hours", "gpu_hours", "price", "subtotal",
             "rate", "contingency", "total", "usd_low", "usd_high")  # fmt: skip
BILL_ROWS = {k: r for r, k in enumerate(BILL_KEYS, start=3)}
BILL_FORMATS = {"hours": HOURS, "gpu_hours": HOURS, "price": USD, "subtotal": USD,
                "rate": RATE, "contingency": USD, "total": USD, "usd_low": USD,
                "usd_high": USD}  # fmt: skip


def _b(key: str) -> str:
    return f"B{BILL_ROWS[key]}"


def _bill_rows(o: Option) -> dict[str, tuple[str, Any, str, Any]]:
    gpus, hours, price, gh = _b("gpus"), _b("hours"), _b("price"), _b("gpu_hours")
    sub, rate, con = _b("subtotal"), _b("rate"), _b("contingency")
    sub_basis = "GPU-hours x USD per GPU-hour"
    if o.priced:
        f_sub: Any = f"={gh}*{price}"
        f_con, f_tot = f"={sub}*{rate}", f"={sub}+{con}"
        if not o.cost_is_hours_x_price:  # the plan's pricing model: its figure, as a value
            f_sub, sub_basis = o.usd, "the plan's cost under its pricing (not GPU-hours x price)"
    else:  # a blank price: the formulas wait for one instead of printing USD 0
        f_sub = f'=IF(ISNUMBER({price}),{gh}*{price},"{NO_PRICE}")'
        f_con = f'=IF(ISNUMBER({sub}),{sub}*{rate},"")'
        f_tot = f'=IF(ISNUMBER({sub}),{sub}+{con},"")'
    label = "Total to request (USD)" if o.feasible else "Total (not requested: infeasible)"
    return {
        "status": (
            "Status",
            "feasible" if o.feasible else "INFEASIBLE",
            "" if o.feasible and o.priced else o.status,
            None,
        ),
        "gpu": ("GPU type", o.gpu_name, "", None),
        "gpus": ("GPUs", o.gpus, f"{o.gpus_per_node} per node", None),
        "nodes": ("Nodes", o.nodes, "", None),
        "hours": ("Wall-clock hours", o.hours, "the plan's duration (days x 24)", None),
        "gpu_hours": ("GPU-hours", f"={gpus}*{hours}", "GPUs x wall-clock hours", o.gpu_hours),
        "price": ("USD per GPU-hour", o.price_per_gpu_hour, o.price_source or NO_PRICE, None),
        "subtotal": ("Subtotal (USD)", f_sub, sub_basis, o.usd),
        "rate": ("Contingency rate", o.contingency, "report.contingency", None),
        "contingency": (
            "Contingency (USD)",
            f_con,
            "subtotal x contingency rate",
            o.contingency_usd,
        ),
        "total": (label, f_tot, "subtotal + contingency", o.total_usd),
        "usd_low": ("USD low (planned)", o.usd_low, "fast end of the plan's range", None),
        "usd_high": ("USD high (planned)", o.usd_high, "slow end of the plan's range", None),
    }


def report_workbook(o: Option, assumptions: Table, title: str) -> bytes:
    """One plan's bill of materials (rows BILL_ROWS, formulas in column B,
    the plan's own figures in column D) and its assumptions."""
    wb = _workbook()
    ws = wb.active
    ws.title = "Bill of materials"
    ws.cell(1, 1, title).font = _font()
    _header(ws, 2, ("item", "value", "basis", "as planned"))
    for key, (label, value, basis, planned) in _bill_rows(o).items():
        r = BILL_ROWS[key]
        for col, v in enumerate((label, value, basis, planned), start=1):
            ws.cell(r, col, v)
        if key in BILL_FORMATS:
            ws[f"B{r}"].number_format = ws[f"D{r}"].number_format = BILL_FORMATS[key]
    _widths(ws, (34, 22, 60, 22))
    _assumptions_sheet(wb, {o.name: assumptions})
    return _bytes(wb)
