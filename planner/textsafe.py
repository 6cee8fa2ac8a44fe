"""Text from a spec is text everywhere: the one sanitising helper used at the
edges (terminal, Markdown, HTML and PDF).

* ``clean`` makes control characters visible instead of acting on them:
  C0/C1 controls (ANSI escape sequences start with ESC, U+001B), DEL, the
  bidirectional embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069, Trojan Source, CVE-2021-42574) and the marks U+200E/U+200F,
  U+061C. Each becomes its escape (``\\x1b``, ``\\u202e``), so what was written
  can still be read. Newlines and tabs are kept where ``keep_newlines``.
* ``md_escape`` additionally escapes Markdown structure so spec text never
  becomes a heading, rule, list, code block, link, table or HTML.
* ``excerpt`` is a short, escaped, quoted piece of a value for an error
  message: a file that is not a spec is never echoed.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Always special inline: \ ` * [ ] < > | & ~ ("!" opens an image only
# before "[", which is escaped); "_" only at a word boundary (CommonMark
# s6.2: intraword "_" never opens emphasis, so max_gpus stays).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# A line opening an ATX heading, a list item, a thematic break, a setext
# underline or a block quote (">" is escaped above): escape its first
# character. "#" is structure only there and as a heading's closing
# sequence (CommonMark s4.2), so "Takeaway #1" stays as written.
_LINE_START = re.compile(r"^(#|[+-](?=\s)|-(?=-)|=|\d+(?=[.)](?:\s|$)))")
_CLOSING_HASHES = re.compile(r"(?<=\s)#+\s*$")


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def clean(text: object, keep_newlines: bool = True) -> str:
    """``text`` with control, bidi and lone-surrogate characters made visible
    as escapes (tab, and newline where ``keep_newlines``, are kept)."""
    s = str(text)
    s = (_CONTROL if keep_newlines else _CONTROL_NL).sub(_escape, s)
    return _SURROGATE.sub(_escape, s)


def md_escape(text: object) -> str:
    """Spec text as one line of literal Markdown: cleaned, backslash-escaped
    (CommonMark s2.4: any ASCII punctuation may be), leading blanks dropped
    (four would open a code block) and no structure at the line start."""
    return md_escape_start(md_escape_inline(str(text).strip()))


def md_escape_inline(text: object) -> str:
    """A fragment of one line of Markdown (between code spans): cleaned and
    punctuation backslash-escaped, its blanks kept."""
    s = clean(text, keep_newlines=False).replace("\t", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_escape_start(s: str) -> str:
    """Escaped Markdown with its leading blanks dropped (four would open a code
    block) and no heading, list or quote marker at the line start."""
    s = s.lstrip()
    s = _CLOSING_HASHES.sub(lambda m: m.group(0).replace("#", "\\#"), s)
    return _LINE_START.sub(_start, s)


def _start(m: re.Match[str]) -> str:
    mark = m.group(1)
    return mark + "\\" if mark[0].isdigit() else "\\" + mark


def excerpt(value: object, limit: int = 40) -> str:
    """A quoted, escaped excerpt of at most ``limit`` characters."""
    if not isinstance(value, str):
        r = repr(value)
        return r[:limit] + ("..." if len(r) > limit else "")
    return repr(value[:limit]) + ("..." if len(value) > limit else "")  # repr escapes controls
