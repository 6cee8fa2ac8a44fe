"""The PDF: the report's HTML printed by WeasyPrint, byte-stable.

Kept apart from planner.report.render so that the PDF worker
(planner.report.pdfworker) imports WeasyPrint and nothing else of the
report. Byte-stability: a fixed PDF identifier (a hash of the HTML), no
dates, and the embedded font subsets stamped with a fixed time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

FONT_EPOCH = "1704067200"  # 2024-01-01T00:00:00Z, stamped into embedded fonts


def pdf_identifier(html: str) -> bytes:
    """A fixed PDF /ID for the same content (a hash of the HTML), so that the
    same spec prints the same bytes."""
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")


@contextmanager
def _fixed_font_timestamp() -> Iterator[None]:
    """fontTools stamps the embedded font subsets' ``head.modified`` with the
    current time unless SOURCE_DATE_EPOCH is set (fontTools.misc.timeTools
    .timestampNow; reproducible-builds.org convention): pin it while
    printing."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = old or FONT_EPOCH
    try:
        yield
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    with _fixed_font_timestamp():
        out = HTML(string=html, base_url=None).write_pdf(pdf_identifier=pdf_identifier(html))
    assert out is not None  # write_pdf returns bytes when no target is given
    return out
