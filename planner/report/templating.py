"""The one Jinja environment of the reports: ``StrictUndefined`` (a missing
field is an error, never an empty string) and the shared filters.

Templates live in the top-level ``templates/`` folder, which the wheel ships
as ``planner/templates`` (pyproject.toml, force-include); an editable
install finds them in the repository instead.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from planner.textsafe import md_escape
from planner.units import fmt_bytes, fmt_duration, fmt_usd


def templates_dir() -> Path:
    """``planner/templates`` in an installed wheel, else the repository's
    top-level ``templates/``."""
    from importlib.resources import files

    shipped = Path(str(files("planner") / "templates"))
    if (shipped / "md").is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "templates"


def rule_ref(rule_id: str) -> str:
    """A finding's rule id as a link to its entry in the rules appendix."""
    return f"[{rule_id}](#rule-{rule_id.lower()})"


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
    )
    return env
