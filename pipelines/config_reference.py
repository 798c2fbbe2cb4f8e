"""The setup file's reference, generated from its schema: JSON Schema for editors, Markdown for people.

``droogte config schema`` prints :func:`json_schema` (point an editor's YAML language server at
it to have a setup checked while it is typed); ``docs/configuration.md`` is
:func:`markdown_reference`, written by ``droogte config reference > docs/configuration.md`` and
compared with the schema by ``tests/test_config_reference.py``.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.config_schema import SetupFile

def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a setup file."""
    schema = SetupFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "droogte setup file", **{k: v for k, v in schema.items() if k != "title"}}


def markdown_reference() -> str:
    """``docs/configuration.md``: every key with type, unit, default, allowed values, example."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated from pipelines/config_schema.py by `droogte config reference`; do not edit. "
        "tests/test_config_reference.py fails when this page and the schema disagree. -->",
        "",
        "A setup is one YAML file (see `pipelines/config.py` for a whole example; `droogte demo "
        "--generate-only` writes one to `data/raw/demo/droogte.yaml`). Check a file without running "
        "anything with `droogte config check FILE`; `droogte config schema` prints the JSON Schema "
        "for editors.",
        "",
        "Rules that hold for every key:",
        "",
        "- A key that is not listed here is refused, at every depth, with the nearest valid key "
        "(`publication.aproval: unknown key (did you mean 'approval'?)`).",
        "- Numbers are read as YAML 1.2: `1.5e6`, `4.0e6`, `1.5E+6` and `1_500_000` are numbers; "
        "`yes`/`no`/`on`/`off` are text (only `true`/`false` are booleans). Every number must be "
        "finite (no `.nan`, `.inf`) and within the bounds listed.",
        "- Paths are relative to the setup file. Input files must lie (links followed) in the setup "
        "file's folder or in a folder listed in `allow_inputs_from`. Output folders may not be the setup's "
        "folder or hold it, and `output.site` may not be an existing folder: droogte publishes "
        "the site as a link to a version folder beside it and never moves a folder aside.",
        "- Positions are metres in EPSG:28992 (RD New) inside its domain; a value that looks "
        "like degrees is refused with the position it would be in RD New.",
        "- Aliases (`*name`) may share values, but a file whose aliases expand past 200,000 "
        "values is refused.",
        "- An empty value (`wells:` with nothing after it) means the key's default.",
        "",
    ]
    # Breadth first, so that a section comes after the one that names it; a mapping used at
    # several keys (the QC tests of each variable) is described once, under all its keys.
    order: list[dict[str, Any]] = []
    paths: dict[int, list[str]] = {}
    queue: list[tuple[str, dict[str, Any]]] = [("(top level)", schema)]
    while queue:
        path, node = queue.pop(0)
        if id(node) not in paths:
            order.append(node)
            paths[id(node)] = []
            queue += _children(path, node, defs)
        paths[id(node)].append(path)
    for node in order:
        out += _section(paths[id(node)], node, defs)
    return "\n".join(out).rstrip() + "\n"


def _children(path: str, node: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    prefix = "" if path == "(top level)" else path + "."
    found = []
    for key, prop in node.get("properties", {}).items():
        child = _kind(prop, defs)[1]
        if child is not None:
            found.append((prefix + key + child[0], child[1]))
    return found


def _section(paths: list[str], node: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    title = ", ".join(f"`{p}`" for p in paths) if paths != ["(top level)"] else "Top level"
    path = paths[0]
    lines = [f"## {title}", ""]
    if node.get("description") and path != "(top level)":
        lines += [_cell(node["description"]), ""]
    lines += ["| key | type | unit | default | allowed | example | meaning |",
              "|---|---|---|---|---|---|---|"]
    required = set(node.get("required", ()))
    for key, prop in node.get("properties", {}).items():
        kind, child = _kind(prop, defs)
        variants = _variants(prop)
        unit = next((v["unit"] for v in variants if "unit" in v), "")
        default = ("required" if key in required else "—" if "default" not in prop
                   else "none" if prop["default"] is None
                   else "see below" if isinstance(prop["default"], dict) and child is not None
                   else _value(prop["default"]))
        example = _value(prop["examples"][0]) if prop.get("examples") else ""
        lines.append(f"| `{key}` | {kind} | {_cell(unit)} | {default} | {_allowed(variants)} | {example} | "
                     f"{_cell(prop.get('description', ''))} |")
    return lines + [""]


def _variants(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property (``x: float | None`` has one)."""
    return [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, tuple[str, dict[str, Any]] | None]:
    """The type as text, and the section of a nested mapping ``(key suffix, schema)`` if any."""
    variants = _variants(prop)
    optional = len(variants) < len(prop.get("anyOf", [prop]))
    v = variants[0]
    child = None
    if "$ref" in v:
        name = v["$ref"].rsplit("/", 1)[-1]
        text, child = "mapping", ("", defs[name])
    elif v.get("type") == "array":
        items = v.get("items", {})
        if "$ref" in items:
            name = items["$ref"].rsplit("/", 1)[-1]
            text, child = "list of mappings", ("[]", defs[name])
        else:
            text = f"list of {_scalar(items)}"
    elif v.get("type") == "object":
        values = v.get("additionalProperties", {})
        if values.get("type") == "array" and "$ref" in values.get("items", {}):
            name = values["items"]["$ref"].rsplit("/", 1)[-1]
            text, child = "mapping of lists of mappings", (f".<{prop.get('x-key', 'key')}>[]", defs[name])
        elif "$ref" in values:
            name = values["$ref"].rsplit("/", 1)[-1]
            text, child = "mapping of mappings", (f".<{prop.get('x-key', 'key')}>", defs[name])
        else:
            text = "mapping"
    else:
        text = _scalar(v)
    return (text + (" or empty" if optional else "")), child


def _scalar(v: dict[str, Any]) -> str:
    kind = {"string": "text", "number": "number", "integer": "whole number", "boolean": "true/false"}.get(
        v.get("type", ""), v.get("type", "value"))
    if v.get("format") == "date":
        return "date"
    if v.get("format") == "path":
        return "path"
    if v.get("format") == "pandas-duration":  # not JSON Schema's ISO 8601 "duration": 6h, 3D
        return "duration"
    return kind


def _allowed(variants: list[dict[str, Any]]) -> str:
    v = variants[0] if variants else {}
    parts = []
    if "enum" in v:
        parts.append(", ".join(f"`{e}`" for e in v["enum"]))
    if "minimum" in v or "maximum" in v:
        lo, hi = v.get("minimum"), v.get("maximum")
        parts.append(f"{_number(lo)} … {_number(hi)}" if lo is not None and hi is not None
                     else f"≥ {_number(lo)}" if lo is not None else f"≤ {_number(hi)}")
    elif v.get("type") == "number":
        parts.append("finite")
    if v.get("minItems"):
        parts.append(f"at least {v['minItems']} item(s)")
    if "propertyNames" in v and "enum" in v["propertyNames"]:
        parts.append("keys: " + ", ".join(f"`{e}`" for e in v["propertyNames"]["enum"]))
    return "; ".join(parts)


def _number(x: float) -> str:
    return f"{int(x):_}" if float(x).is_integer() else f"{x:g}"


def _value(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False).replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
