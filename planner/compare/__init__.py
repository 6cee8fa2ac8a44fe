"""``planner compare``: procurement options (specs that differ in GPU,
cloud, pricing, layout...) side by side, the recommended one and why.

    evaluate_all(paths) -> [Result]      one evaluate() per spec
    compare(results)    -> Comparison    planner/compare/options.py
    comparison_json / render_text        planner/compare/output.py
    build_compare_report / render        planner/compare/report.py (md, html, pdf, xlsx)
"""

from __future__ import annotations

from planner.compare.load import evaluate_all
from planner.compare.options import Comparison, Option, compare

__all__ = ["Comparison", "Option", "compare", "evaluate_all"]
