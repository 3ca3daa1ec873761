"""Loading pack templates: `extends:` merged in, validated into `PackTemplate`, every error with file and line.

The models are in packs.template; this module reads the files (templates/packs/<name>.yaml), follows the
`extends:` chain (child keys win, sections replace their parent's by `id`, `paper:` merges key by key), hashes
every file a pack came from (the template hash in a pack's provenance), and turns pydantic's errors into
ConfigErrors that name the file, line and field ("did you mean" for an unknown block).
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reporting._yaml import Located, _dotted, load_yaml
from reporting.approval import check_approvers
from reporting.errors import ConfigError
from reporting.packs.template import BLOCK_NAMES, PackTemplate, _block_kind, _vocabulary

__all__ = ["load_template", "merged_document", "template_errors", "template_files"]


def template_files(project: Path) -> list[Path]:
    return sorted((project / "templates" / "packs").glob("*.yaml"))


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child keys win; sections with the same id replace the parent's, new ones are appended; a child's `paper:`
    changes only the essentials it names (a meeting's date and agenda item, say)."""
    merged = {**parent, **{k: v for k, v in child.items() if k not in {"sections", "extends"}}}
    if isinstance(parent.get("paper"), dict) and isinstance(child.get("paper"), dict):
        merged["paper"] = {**parent["paper"], **child["paper"]}
    sections = list(parent.get("sections", []))
    index = {s.get("id"): i for i, s in enumerate(sections) if isinstance(s, dict) and s.get("id")}
    for section in child.get("sections", []):
        key = section.get("id") if isinstance(section, dict) else None
        if key in index:
            sections[index[key]] = section
        else:
            sections.append(section)
    merged["sections"] = sections
    return merged


def merged_document(project: Path, name: str) -> tuple[dict[str, Any], Located, Any]:
    """templates/packs/<name>.yaml with its `extends:` chain merged in (not yet validated): the data, the
    located YAML of the pack file itself (for line numbers) and a running hash of every file it came from."""
    folder = project / "templates" / "packs"
    path = folder / f"{name}.yaml"
    if not path.exists():
        available = [p.stem for p in template_files(project)]
        close = difflib.get_close_matches(name, available, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; packs are: {', '.join(available) or 'none'}"
        raise ConfigError(f"no pack template '{name}'{hint}", file=path)
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            "expected a mapping with 'pack', 'title', 'cadence', 'formats' and 'sections'", file=path, line=1
        )
    digest = hashlib.sha256(path.read_bytes())
    data: dict[str, Any] = doc.data
    seen = {name}
    parent_name = data.get("extends")
    while parent_name:
        if parent_name in seen:
            raise ConfigError(
                f"'extends' goes round in a circle through '{parent_name}'",
                file=path,
                line=doc.line_of(("extends",)),
                field="extends",
            )
        seen.add(parent_name)
        parent_path = folder / f"{parent_name}.yaml"
        if not parent_path.exists():
            raise ConfigError(
                f"extends '{parent_name}', but there is no {parent_path.name}",
                file=path,
                line=doc.line_of(("extends",)),
                field="extends",
            )
        parent = load_yaml(parent_path)
        digest.update(parent_path.read_bytes())
        data = _merge(parent.data, data)
        parent_name = parent.data.get("extends") if isinstance(parent.data, dict) else None
    data = {k: v for k, v in data.items() if k != "extends"}
    return data, doc, digest


def load_template(project: Path, name: str) -> tuple[PackTemplate, Located, str]:
    """Load templates/packs/<name>.yaml (following `extends:`); returns the model, the located YAML of the
    pack file itself (for line numbers) and a hash of every file it was built from."""
    data, doc, digest = merged_document(project, name)
    path = doc.file
    try:
        template = PackTemplate.model_validate(data)
    except ValidationError as exc:
        raise template_errors(exc, Located(data, doc.lines, path))[0] from None
    if template.pack != name:
        raise ConfigError(
            f"pack id '{template.pack}' does not match the file name '{name}.yaml'",
            file=path,
            line=doc.line_of(("pack",)),
            field="pack",
        )
    check_approvers(template.approval, doc, ("approval",), project)
    return template, doc, digest.hexdigest()[:16]


def template_errors(exc: ValidationError, doc: Located) -> list[ConfigError]:
    """Every error of a failed validation, one ConfigError each (validate reports them all; a build the first)."""
    from reporting.validation_errors import config_errors

    out: list[ConfigError] = []
    rest: list[dict[str, Any]] = []
    for err in exc.errors():
        if err["type"] != "unknown_block":
            rest.append(dict(err))
            continue
        value = err.get("input")
        key = _block_kind(value) if isinstance(value, dict) else None
        path = [p for p in err["loc"] if isinstance(p, str | int)]
        if key is None:
            message = f"a block is a mapping with exactly one key, one of: {', '.join(BLOCK_NAMES)}"
        else:
            close = difflib.get_close_matches(str(key), BLOCK_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; blocks are: {', '.join(BLOCK_NAMES)}"
            message = f"unknown block '{key}'{hint}"
        walked = _walk(doc.data, path)
        out.append(ConfigError(message, file=doc.file, line=doc.line_of(walked), field=_dotted(walked)))
    return out + config_errors(rest, doc, _vocabulary())


def _walk(data: Any, path: list[Any]) -> list[Any]:
    out, node = [], data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            continue
        out.append(part)
    return out
