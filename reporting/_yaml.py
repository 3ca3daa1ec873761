"""YAML loading that remembers where every key and item came from, so errors can name file and line.

PyYAML's composed node tree carries marks; we build plain Python objects from it and keep a map from the
path of each value (a tuple of keys and list indexes) to its 1-based line. Duplicate keys are an error,
because YAML silently keeps the last one and an analyst's second `target:` would vanish without a word.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reporting.errors import ConfigError

__all__ = ["Line", "Located", "load_yaml", "raise_validation_error"]

PathKey = tuple[Any, ...]


class Line(int):
    """A 1-based line number that also knows its 1-based column: it is an int wherever a line is expected,
    and errors print it as `file:line:column`, which editors open at the spot."""

    column: int | None

    def __new__(cls, line: int, column: int | None = None) -> Line:
        self = super().__new__(cls, line)
        self.column = column
        return self


def _at(mark: Any) -> Line:
    return Line(mark.line + 1, mark.column + 1)


class Located:
    """Parsed YAML plus the line of every value in it."""

    def __init__(self, data: Any, lines: dict[PathKey, Line], file: Path) -> None:
        self.data, self.lines, self.file = data, lines, file

    def line_of(self, path: Iterable[Any]) -> Line | None:
        """Line of the deepest part of `path` that exists in the file (a missing key points at its parent)."""
        key = tuple(path)
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key)


def load_yaml(file: Path | str) -> Located:
    """Parse one YAML file within the limits (reporting.limits): its size, and the number of values once
    aliases are expanded (a 411-byte "billion laughs" file would otherwise take gigabytes)."""
    from reporting.limits import current

    file = Path(file)
    limits = current()
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    if size > limits.yaml_bytes:
        raise ConfigError(
            f"file is {size:,} bytes, over the limit of {limits.yaml_bytes:,} for YAML "
            f"(limits.yaml_bytes / REPORTING_LIMIT_YAML_BYTES)",
            file=file,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("file not found", file=file) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[PathKey, Line] = {}
        data = _build(loader, node, (), lines, file, [limits.yaml_nodes]) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _plain(exc.problem or exc.context or "invalid YAML", _at(mark) if mark else None)
        raise ConfigError(f"YAML syntax error: {problem}", file=file, line=_at(mark) if mark else None) from exc
    finally:
        loader.dispose()
    return Located(data, lines, file)


def _plain(problem: str, at: Line | None) -> str:
    """The YAML parser's words for the mistakes analysts make, said plainly with what to do."""
    where = f" at line {at} column {at.column}" if at is not None else ""
    if "'\\t'" in problem or "\t" in problem:
        return f"a tab character{where}: use spaces for indentation"
    plain = {
        "mapping values are not allowed here": "a ':' where no new key can start; indent the key under its "
        "parent, or put quotes round a value that contains ': '",
        "could not find expected ':'": "a line that is not 'key: value'; check the indentation and the ':' after "
        "each key",
        "expected <block end>, but found": "this line's indentation does not line up with the lines above it",
        "found unexpected end of stream": "a quote or bracket is never closed",
        "found undefined alias": "an alias (*name) with no anchor (&name) before it",
    }
    for start, words in plain.items():
        if problem.startswith(start):
            return f"{words} ({problem})"
    return problem


def _build(
    loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, lines: dict[PathKey, Line], file: Path, budget: list[int]
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        from reporting.limits import current

        raise ConfigError(
            f"more than {current().yaml_nodes:,} values once aliases are expanded (an alias bomb?); "
            f"limit limits.yaml_nodes / REPORTING_LIMIT_YAML_NODES",
            file=file,
            line=_at(node.start_mark),
        )
    lines[path] = _at(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise ConfigError(
                    f"key '{key}' appears twice (first at line {lines[path + (key,)]})",
                    file=file,
                    line=_at(key_node.start_mark),
                    field=_dotted(path + (key,)),
                )
            out[key] = _build(loader, value_node, path + (key,), lines, file, budget)
            lines[path + (key,)] = _at(key_node.start_mark)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), lines, file, budget) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _dotted(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def data_path(data: Any, loc: Iterable[Any]) -> list[Any]:
    """The part of a pydantic error location that walks the parsed data (union tags such as a source's kind
    are not keys in the file), so a field path reads the way the analyst wrote it."""
    path: list[Any] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
    return path


def raise_validation_error(exc: ValidationError, doc: Located, vocabulary: Iterable[str]) -> None:
    """Turn pydantic's first error into a ConfigError at the right line, with a suggestion for typos.

    Pydantic locations include union tags (e.g. the source kind) that are not keys in the file; we keep only
    the parts that walk the parsed data, so the field path reads the way the analyst wrote it.
    """
    errors = exc.errors()
    # A typo shows up twice (unknown key + missing key); the unknown key is the one worth reporting.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    path = data_path(doc.data, err["loc"])
    message = _message(err, path, vocabulary)
    context = _context(doc.data, path)
    raise ConfigError(message + context, file=doc.file, line=doc.line_of(path), field=_dotted(path)) from None


def _message(err: Mapping[str, Any], path: list[Any], vocabulary: Iterable[str]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        close = difflib.get_close_matches(key, sorted(set(vocabulary)), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}"
    if kind == "missing":
        return f"required key '{err['loc'][-1]}' is missing"
    if kind in {"literal_error", "enum"}:
        expected = err.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}; got {err.get('input')!r}"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{msg}; got {err.get('input')!r}" if kind not in {"value_error", "assertion_error"} else msg


def _context(data: Any, path: list[Any]) -> str:
    """Name the metric or source an error sits in, so a message stays readable without opening the file."""
    if len(path) >= 2 and path[0] == "metrics" and isinstance(path[1], int):
        try:
            metric_id = data["metrics"][path[1]].get("id")
        except (AttributeError, IndexError, KeyError, TypeError):
            return ""
        return f" (metric '{metric_id}')" if metric_id else ""
    return ""
