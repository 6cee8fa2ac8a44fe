"""Read untrusted spec and config files with every resource bounded.

* Only regular files are read (a directory, FIFO, socket or device such as
  ``/dev/zero`` is refused by ``stat`` before it is opened), and at most
  ``limit`` bytes of them: a larger file is refused, naming the limit.
* YAML is read with the YAML 1.2 core schema: ``true``/``false`` are the only
  booleans (``yes``, ``no``, ``on``, ``off`` stay strings), ``1:30`` is a
  string (YAML 1.1 read it as 90), ``2024-01-01`` is a string, and ``<<`` is
  an ordinary key (no merge).
* Anchors and aliases (``&a`` / ``*a``) are refused, naming their line: they
  are what alias bombs ("billion laughs") and self-references are built of,
  and a spec never needs them. Nesting deeper than ``MAX_DEPTH`` is refused
  too, so no input reaches Python's recursion limit.
* A string that is not valid Unicode (a lone surrogate from a ``"\\ud800"``
  escape) is refused: it could not be printed or written later.

Errors are ``SpecError`` problems with the line; file contents are never
echoed beyond a short escaped excerpt.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from planner.errors import Problem, SpecError
from planner.textsafe import clean, excerpt

MAX_SPEC_BYTES = 1 << 20  # 1 MiB
MAX_HF_CONFIG_BYTES = 16 << 20  # 16 MiB
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def read_bounded(path: str | Path, limit: int, what: str = "file") -> str:
    """UTF-8 text of a regular file of at most ``limit`` bytes; ``OSError``
    subclasses and ``ValueError`` carry a message fit for the user."""
    p = Path(path)
    st = os.stat(p)  # follows links; never opens, so a FIFO cannot block
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise ValueError(f"{kind}, not a regular file; give the path of a {what}")
    if st.st_size > limit:
        raise ValueError(f"{st.st_size:,} bytes, more than the {_size(limit)} a {what} may have")
    with open(p, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise ValueError(f"more than the {_size(limit)} a {what} may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start});"
            f" a {what} is a UTF-8 text file"
        ) from None


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types."""


_Loader.yaml_implicit_resolvers = {}  # drop YAML 1.1's; the core schema's follow


_CORE = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
]
for _tag, _pattern, _first in _CORE:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _int_12(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # "010" is ten in YAML 1.2 (1.1 read it as octal 8)


def _float_12(loader: _Loader, node: yaml.ScalarNode) -> float:
    text = str(node.value).lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _int_12)
_Loader.add_constructor("tag:yaml.org,2002:float", _float_12)


def _problem(message: str, mark: Any) -> Problem:
    return Problem("", message, mark.line + 1 if mark is not None else None)


def _compose(text: str) -> tuple[yaml.Node | None, _Loader]:
    """The document's node tree, refusing anchors, aliases and deep nesting.
    Raises ``_Refused`` with the problem."""
    loader = _Loader(text)
    depth = 0

    def compose_node(parent: Any, index: Any) -> Any:
        nonlocal depth
        event = loader.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                _problem(
                    "aliases (*name) are not allowed in a spec; write the value out",
                    event.start_mark,
                )
            )
        if getattr(event, "anchor", None) is not None:
            raise _Refused(
                _problem(
                    "anchors (&name) are not allowed in a spec; write each value out",
                    event.start_mark,
                )
            )
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(_problem(f"nested more than {MAX_DEPTH} levels deep", event.start_mark))
        try:
            return yaml.composer.Composer.compose_node(loader, parent, index)
        finally:
            depth -= 1

    loader.compose_node = compose_node  # type: ignore[method-assign]
    try:
        return loader.get_single_node(), loader
    except BaseException:
        loader.dispose()
        raise


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


_PLAIN_KEY = re.compile(r"[\w.<>-]{1,40}")


def dotted(path: PathKey) -> str:
    """``training.micro_batch_size``, ``cluster.gpu[1]``; a key that is not a
    plain name is shown as a short escaped excerpt."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
            continue
        key = p if _PLAIN_KEY.fullmatch(p) else excerpt(p, 20)
        out += f".{key}" if out else key
    return out


def _walk(root: yaml.Node) -> tuple[dict[PathKey, int], list[Problem]]:
    """Line of every field path; duplicate keys and invalid strings. The tree
    has no aliases, so this visits each node once (iteratively)."""
    lines: dict[PathKey, int] = {}
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, PathKey]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = str(k.value)
                if key in seen:
                    problems.append(
                        Problem(dotted((*path, key)), "duplicate key", k.start_mark.line + 1)
                    )
                seen.add(key)
                lines[(*path, key)] = k.start_mark.line + 1
                stack.append((k, (*path, key)))
                stack.append((v, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, (*path, i)) for i, v in enumerate(node.value))
        elif isinstance(node.value, str):
            try:
                node.value.encode("utf-8")
            except UnicodeEncodeError:
                problems.append(
                    Problem(
                        dotted(path),
                        f"not valid Unicode text (a lone surrogate): {excerpt(node.value)}",
                        node.start_mark.line + 1,
                    )
                )
    return lines, problems


def _why(problem: object) -> str:
    return f"not valid YAML: {clean(str(problem)[:80], keep_newlines=False)}"


def parse_yaml(text: str, filename: str) -> tuple[Any, dict[PathKey, int], list[Problem]]:
    """Data, a map from field path to 1-based line, and problems (duplicate
    keys, invalid strings). Raises ``SpecError`` when the text is not YAML a
    spec may use."""
    try:
        root, loader = _compose(text)
    except _Refused as exc:
        raise SpecError(filename, [exc.problem]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        why = getattr(exc, "problem", None) or "cannot be parsed"
        raise SpecError(filename, [_problem(_why(why), mark)]) from None
    if root is None:
        loader.dispose()
        return None, {}, []
    lines, problems = _walk(root)
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        why = getattr(exc, "problem", None) or "cannot be read"
        raise SpecError(filename, [_problem(_why(why), mark)]) from None
    finally:
        loader.dispose()
    return data, lines, problems


def read_json_config(path: str | Path) -> Any:
    """A JSON file (a Hugging Face config.json) read with ``read_bounded``;
    ``ValueError`` when it is not JSON or is nested absurdly deep."""
    import json

    text = read_bounded(path, MAX_HF_CONFIG_BYTES, "config.json")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to be a config.json") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
