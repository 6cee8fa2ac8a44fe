"""The one Jinja environment of the reports: ``StrictUndefined`` (a missing
field is an error, never an empty string) and the shared filters.

Templates live in the top-level ``templates/`` folder, which the wheel ships
as ``planner/templates`` (pyproject.toml, force-include); an editable
install finds them in the repository instead.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

from planner.textsafe import md_escape, md_escape_inline, md_escape_start
from planner.units import fmt_bytes, fmt_duration, fmt_usd


def templates_dir() -> Path:
    """``planner/templates`` in an installed wheel, else the repository's
    top-level ``templates/``."""
    from importlib.resources import files

    shipped = Path(str(files("planner") / "templates"))
    if (shipped / "md").is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "templates"


_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")


def md_doc(text: object) -> str:
    """Our own prose (a rule's docstring) for Markdown: RST literals
    (````name````) and Markdown ones (```name```) become code spans, the rest is
    escaped as ``md_escape`` does, so no backtick is ever printed literally."""
    s, out, pos = str(text).replace("\r", " ").replace("\n", " "), [], 0
    for m in _LITERAL.finditer(s):
        out.append(md_escape_inline(s[pos : m.start()]))
        out.append(f"`{m.group(1) or m.group(2)}`")
        pos = m.end()
    out.append(md_escape_inline(s[pos:]))
    return md_escape_start("".join(out))


RULE_ID = re.compile(r"^[A-Z]{3}-[0-9]{3}$")


def rule_ref(rule_id: str) -> str:
    """A finding's rule id as a link to its heading in the rules appendix
    (``#rec-004``: the anchor GitHub derives from the heading, and the id
    planner.report.render gives it in HTML and PDF)."""
    if not RULE_ID.match(rule_id):
        return md_escape(rule_id)
    return f"[{rule_id}](#{rule_id.lower()})"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown: spec text goes through `md` instead
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        bytes=fmt_bytes,
        usd=fmt_usd,
        duration=fmt_duration,
        rule_ref=rule_ref,
        md=md_escape,
        md_doc=md_doc,
    )
    return env
