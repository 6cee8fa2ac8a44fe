"""Read a spec file: YAML with line numbers -> pydantic validation -> ``Spec``.

All problems are collected and raised together as one ``SpecError`` whose
lines name the file, the field path, the line and what is allowed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.errors import Problem, SpecError
from planner.spec.crosscheck import clean_spec, divisibility_checks, spec_problems
from planner.spec.limits import range_problems
from planner.spec.model import Spec, resolve
from planner.spec.safe_yaml import MAX_SPEC_BYTES, dotted, parse_yaml, read_bounded
from planner.spec.schema import SpecFile
from planner.textsafe import excerpt

PathKey = tuple[str | int, ...]


def _dotted(path: PathKey) -> str:
    return dotted(path)


def _line_for(lines: dict[PathKey, int], path: PathKey) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _clean_loc(loc: tuple[Any, ...], data: Any) -> PathKey:
    """Drop list indices that the validator added where the user wrote a
    scalar or a mapping (``cluster.gpu: h100`` becomes a one-item list)."""
    out: list[str | int] = []
    node = data
    for p in loc:
        if isinstance(p, int) and not isinstance(node, list):
            continue
        out.append(p)
        if isinstance(node, dict):
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int) and p < len(node):
            node = node[p]
        else:
            node = None
    return tuple(out)


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at the place an unknown key was found."""
    cls: Any = model
    for p in loc[:-1]:
        if isinstance(p, int):
            continue
        field = getattr(cls, "model_fields", {}).get(p)
        if field is None:
            return []
        cls = _inner_model(field.annotation)
        if cls is None:
            return []
    return list(getattr(cls, "model_fields", {}))


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    meta = getattr(ann, "__origin__", None)
    return _inner_model(meta) if meta is not None and meta is not ann else None


def _message(err: Mapping[str, Any], allowed: list[str]) -> str:
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean `{near[0]}`?)" if near else ""
        return f"unknown field{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "required field is missing"
    if kind in ("model_type", "dict_type"):
        # pydantic says "instance of TrainingSection"; say it in spec terms.
        names: dict[type, str] = {list: "a list", str: "a string"}
        what = names.get(type(given), type(given).__name__)
        return f"must be a mapping (`key: value` lines), not {what}"
    if kind == "string_pattern_mismatch" and err["loc"] == ("name",):
        return f"must be a slug (lowercase letters, digits, '.', '_', '-'); got {excerpt(given)}"
    msg = err["msg"].replace("Value error, ", "")
    if kind == "value_error":  # planner's own validators already name the value
        return msg
    if kind in ("literal_error",):
        return f"{msg}; got {excerpt(given)}"
    if given is not None and not isinstance(given, dict | list):
        return f"{msg}; got {excerpt(given)}"
    return msg


def _name_checks(data: dict[str, Any], lines: dict[PathKey, int]) -> list[Problem]:
    """Catalog names are checked even when other fields failed validation,
    so one run reports an unknown preset and a typo elsewhere together."""
    from planner.catalog import gpu_catalog, model_presets
    from planner.spec.model import GPU_ALIASES

    out = []
    model = data.get("model")
    preset = (
        model
        if isinstance(model, str)
        else (model or {}).get("preset")
        if isinstance(model, dict)
        else None
    )
    if isinstance(preset, str) and preset not in model_presets():
        near = difflib.get_close_matches(preset, list(model_presets()), n=1, cutoff=0.5)
        hint = f" (did you mean `{near[0]}`?)" if near else ""
        path: PathKey = ("model",) if isinstance(model, str) else ("model", "preset")
        out.append(
            Problem(
                _dotted(path),
                f"unknown model preset {excerpt(preset)}{hint}",
                _line_for(lines, path),
            )
        )
    cluster = data.get("cluster")
    gpus = cluster.get("gpu") if isinstance(cluster, dict) else None
    items = gpus if isinstance(gpus, list) else [gpus]
    for n, g in enumerate(items):
        name = g if isinstance(g, str) else g.get("preset") if isinstance(g, dict) else None
        if isinstance(name, str):
            key = GPU_ALIASES.get(name.lower(), name.lower())
            if key not in gpu_catalog():
                near = difflib.get_close_matches(key, list(gpu_catalog()), n=1, cutoff=0.5)
                hint = f" (did you mean `{near[0]}`?)" if near else ""
                path = ("cluster", "gpu", n) if isinstance(gpus, list) else ("cluster", "gpu")
                out.append(
                    Problem(
                        _dotted(path), f"unknown GPU {excerpt(name)}{hint}", _line_for(lines, path)
                    )
                )
    return out


def load_spec_text(text: str, filename: str = "<spec>", base_dir: Path | None = None) -> Spec:
    """Validate spec text; raise ``SpecError`` listing every problem."""
    data, lines, problems = parse_yaml(text, filename)
    if not isinstance(data, dict):
        raise SpecError(
            filename, [Problem("", "the spec must be a YAML mapping (name:, model:, ...)", 1)]
        )
    if data and not set(map(str, data)) & set(SpecFile.model_fields):
        raise SpecError(
            filename,
            [
                Problem(
                    "",
                    "not a planner spec: none of its top-level keys is a spec field"
                    f" ({', '.join(SpecFile.model_fields)})",
                    1,
                )
            ],
        )
    # Cross-field checks on the raw mapping: reported with everything else.
    cross = [
        Problem(p.path, p.message, _line_for(lines, _split(p.path)))
        for p in divisibility_checks(data)
    ]
    try:
        raw = SpecFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            path = _clean_loc(loc, data)
            if not path and "workload" in err["msg"]:
                path = ("training",)
            allowed = _allowed_fields(SpecFile, loc) if err["type"] == "extra_forbidden" else []
            problems.append(Problem(_dotted(path), _message(err, allowed), _line_for(lines, path)))
        problems += _name_checks(data, lines)
        raise SpecError(filename, problems + cross) from None
    if problems:
        raise SpecError(filename, problems + cross)
    more = range_problems(raw.model_dump())
    # Out-of-range values are never resolved: resolve() converts units and
    # builds the model from them (1e300 GiB of host memory would overflow).
    spec, resolved = (None, []) if more else resolve(raw, filename, base_dir or Path.cwd())
    more += resolved
    if spec is not None:  # a field already out of range is not checked again
        seen = {p.path for p in more} | {
            p.path.split(".")[0] for p in more if p.path.startswith("model.")
        }
        more += [
            p
            for p in spec_problems(spec, raw)
            if p.path not in seen and p.path.split(".")[0] not in seen
        ]
    if more or cross:
        fixed = [
            Problem(p.path, p.message, p.line or _line_for(lines, _split(p.path))) for p in more
        ]
        raise SpecError(filename, fixed + cross)
    assert spec is not None
    return clean_spec(spec)


def _split(dotted: str) -> PathKey:
    out: list[str | int] = []
    for part in dotted.replace("]", "").replace("[", ".").split("."):
        if part:
            out.append(int(part) if part.isdigit() else part)
    return tuple(out)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        text = read_bounded(p, MAX_SPEC_BYTES, "spec")
    except FileNotFoundError:
        raise SpecError(str(path), [Problem("", "file not found")]) from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise SpecError(str(path), [Problem("", f"cannot read the file: {why}")]) from None
    except ValueError as exc:
        raise SpecError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return load_spec_text(text, str(path), p.parent)
