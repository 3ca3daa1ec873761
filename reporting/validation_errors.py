"""Every error of a pydantic validation as a list of one-line ConfigErrors (file:line:column, field, hint).

`reporting._yaml.raise_validation_error` raises the first error, which is what loading for a build wants;
`reporting validate` wants them all, so an analyst fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from reporting._yaml import Located, _context, _dotted, _message, data_path
from reporting.errors import ConfigError

__all__ = ["config_errors"]


def config_errors(
    errors: ValidationError | Sequence[dict[str, Any]],
    doc: Located,
    vocabulary: Iterable[str],
    prefix: tuple[Any, ...] = (),
) -> list[ConfigError]:
    """One ConfigError per distinct problem, in file order. A typo shows up twice in pydantic (unknown key +
    missing key), and a value that fits no member of a union once per member: each place is reported once,
    with the unknown key preferred, since that is the one that says what to fix."""
    items = list(errors.errors() if isinstance(errors, ValidationError) else errors)
    words = sorted(set(vocabulary))
    extra_parents = {tuple(prefix) + tuple(e["loc"][:-1]) for e in items if e["type"] == "extra_forbidden"}
    seen: set[tuple[Any, ...]] = set()
    out: list[tuple[int, ConfigError]] = []
    for err in sorted(items, key=lambda e: e["type"] != "extra_forbidden"):
        loc = tuple(prefix) + tuple(err["loc"])
        if err["type"] == "missing" and loc[:-1] in extra_parents:
            continue
        path = data_path(doc.data, loc)
        key = tuple(path) + ((loc[-1],) if err["type"] == "missing" else ())
        if key in seen:
            continue
        seen.add(key)
        message = _message(err, path, words) + _context(doc.data, path)
        line = doc.line_of(path)
        out.append((int(line or 0), ConfigError(message, file=doc.file, line=line, field=_dotted(path))))
    return [e for _, e in sorted(out, key=lambda pair: pair[0])]
