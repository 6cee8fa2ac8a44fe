"""Three formats, one content: Markdown is rendered from the section
templates; HTML is that Markdown converted by markdown-it-py inside a thin
page template (CSS and charts inline); the PDF is that HTML printed by
WeasyPrint.

Safety: markdown-it runs with raw HTML disabled, so nothing from a spec can
inject markup (spec text is also backslash-escaped in the Markdown); the
only HTML that is not produced by markdown-it is the chart SVG, which is
our own output.

Byte-stability: the SVGs are deterministic (charts.py); the PDF gets a
fixed identifier and no creation or modification date (WeasyPrint only
writes dates given by ``<meta name=dcterms.created>``/``modified``, which
the page template leaves out unless ``report.timestamp`` is set), and the
embedded font subsets a fixed timestamp (``_fixed_font_timestamp``).
"""

from __future__ import annotations

import re
from typing import Any

from planner.report.charts import inline
from planner.report.context import ReportContext
from planner.report.pdf import render_pdf
from planner.report.templating import RULE_ID, environment

FORMATS = ("md", "html", "pdf", "xlsx")  # xlsx: planner/report/xlsx.py


def render_markdown(ctx: ReportContext) -> str:
    text = environment().get_template("md/report.md.j2").render(ctx=ctx)
    # Sections end with a blank line and start with one: keep a single one.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _markdown_it(charts: dict[str, tuple[str, str]]) -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

    def figures(state: Any) -> None:
        """A paragraph that holds only a chart image becomes a <figure>."""
        toks = state.tokens
        for i in range(1, len(toks) - 1):
            kids = toks[i].children or []
            if (
                toks[i].type == "inline"
                and toks[i - 1].type == "paragraph_open"
                and len(kids) == 1
                and kids[0].type == "image"
                and kids[0].attrGet("src") in charts
            ):
                toks[i - 1].tag = toks[i + 1].tag = "figure"
                toks[i - 1].attrSet("class", "chart")

    def image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        src = tokens[idx].attrGet("src")
        if src in charts:
            _key, svg = charts[src]
            return inline(svg)
        return self.renderToken(tokens, idx, options, env)

    def rule_anchors(state: Any) -> None:
        """An appendix heading that is a rule id (``#### REC-004``) gets the
        id the findings link to (``#rec-004``, as GitHub derives it)."""
        toks = state.tokens
        for i in range(len(toks) - 1):
            if toks[i].type == "heading_open" and RULE_ID.match(toks[i + 1].content or ""):
                toks[i].attrSet("id", toks[i + 1].content.lower())

    md.core.ruler.push("chart_figures", figures)
    md.core.ruler.push("rule_anchors", rule_anchors)
    md.add_render_rule("image", image)
    return md


def render_html(ctx: ReportContext, markdown: str) -> str:
    charts = {f"{ctx.chart_dir}/{c.filename}": (c.key, c.svg) for c in ctx.charts.values()}
    body = _markdown_it(charts).render(markdown)
    env = environment()
    css = env.get_template("html/report.css").render(ctx=ctx)
    return env.get_template("html/page.html.j2").render(ctx=ctx, body=body, css=css)


__all__ = ["FORMATS", "render_html", "render_markdown", "render_pdf"]
