"""Reading content/: YAML files in, a validated `Content` out, errors as file:line: key: message.

The world's schemas (world/prototypes.py) do the checking; this module reads the
files, finds the line of a failing key path, and exports the JSON Schema for
editors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from world.prototypes import (
    ClassesModel,
    Content,
    ContentError,
    SpellsModel,
    WorldModel,
    ZoneModel,
    build_content,
)

# libyaml's C loader when PyYAML has it (about ten times faster), else the pure one.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path, label: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(label, (), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(label, (), f"cannot read: {exc}") from None
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        err = ContentError(label, (), f"not valid YAML: {getattr(exc, 'problem', exc)}")
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            err.line = mark.line + 1
        raise err from None


def line_of(text: str, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line where `path` (keys and indexes) is found in a YAML text."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line if line is not None else (node.start_mark.line + 1 if node else None)


def load(content_dir: Path) -> Content:
    """Read and check every content file under `content_dir`.

    Raises:
        ContentError: the first problem, with file, line and key path.
    """
    root = content_dir
    files: dict[str, Path] = {}

    def doc(path: Path) -> tuple[str, Any]:
        label = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
        parsed = _read(path, label)
        files[label] = path  # only once read: a missing file has no line to look up
        return label, parsed

    try:
        world_doc = doc(root / "world.yaml")
        classes_doc = doc(root / "classes.yaml")
        zone_paths = sorted((root / "zones").glob("*.yaml"))
        if not zone_paths:
            raise ContentError(str(root / "zones"), (), "no zone files (*.yaml)")
        zones = [doc(p) for p in zone_paths]
        help_pages = {p.stem.lower(): p.read_text(encoding="utf-8").strip()
                      for p in sorted((root / "help").glob("*.md"))}
        spells_path = root / "spells.yaml"
        spells_doc = doc(spells_path) if spells_path.exists() else None
        return build_content(world_doc, classes_doc, zones, help_pages, spells_doc)
    except ContentError as err:
        if err.line is None and err.file in files:
            err.line = line_of(files[err.file].read_text(encoding="utf-8"), err.path)
        raise


def json_schema() -> dict[str, Any]:
    """JSON Schemas of the content files, for editors."""
    return {
        "world.yaml": WorldModel.model_json_schema(),
        "classes.yaml": ClassesModel.model_json_schema(),
        "zones/*.yaml": ZoneModel.model_json_schema(),
        "spells.yaml": SpellsModel.model_json_schema(),
    }


def json_schema_text() -> str:
    """`json_schema()` as indented JSON."""
    return json.dumps(json_schema(), indent=2)
