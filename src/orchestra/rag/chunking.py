"""Cutting documents into retrievable chunks: Markdown by headings (with the heading path kept, so a chunk
says where it comes from), long sections at paragraph boundaries; an OpenAPI catalogue one chunk per
operation, written the way a person would describe the call."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orchestra.openapi.operations import Catalogue, Operation

MAX_CHUNK_CHARS = 1000
OVERLAP_CHARS = 150
MAX_SCHEMA_FIELDS = 40
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Chunk:
    heading: str  # the heading path ("Guide > Setup > Tokens"), or "METHOD /path" for an operation
    text: str


def chunk_markdown(
    text: str, *, max_chars: int = MAX_CHUNK_CHARS, overlap: int = OVERLAP_CHARS
) -> list[Chunk]:
    """Sections under their heading path; a section longer than ``max_chars`` is split at paragraph
    boundaries (a paragraph longer than that at line or word boundaries), each piece repeating the last
    ``overlap`` characters of the one before so a sentence cut in two is still found whole."""
    chunks: list[Chunk] = []
    for heading, body in _sections(text):
        for piece in _split(body, max_chars, overlap):
            chunks.append(Chunk(heading=heading, text=piece))
    return chunks


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading path, body) per section; headings inside fenced code blocks are code, not headings."""
    path: list[tuple[int, str]] = []
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            sections[-1][1].append(line)
            continue
        level, title = len(match.group(1)), match.group(2).strip()
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, title)]
        sections.append((" > ".join(name for _, name in path), []))
    result = []
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if body or heading:
            result.append((heading, body))
    return result


def _split(body: str, max_chars: int, overlap: int) -> list[str]:
    if len(body) <= max_chars:
        return [body]
    units = [p.strip() for p in re.split(r"\n[ \t]*\n", body) if p.strip()]
    units = [piece for unit in units for piece in _hard_split(unit, max_chars)]
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 2 + len(unit) > max_chars:
            pieces.append(current)
            tail = _tail(current, overlap)
            current = f"{tail}\n\n{unit}" if tail and len(tail) + 2 + len(unit) <= max_chars else unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _hard_split(unit: str, max_chars: int) -> list[str]:
    """A paragraph longer than a chunk: cut at the last line break or space before the limit."""
    pieces = []
    while len(unit) > max_chars:
        cut = max(unit.rfind("\n", 0, max_chars), unit.rfind(" ", 0, max_chars))
        cut = cut if cut > max_chars // 2 else max_chars
        pieces.append(unit[:cut].strip())
        unit = unit[cut:].strip()
    if unit:
        pieces.append(unit)
    return pieces


def _tail(text: str, overlap: int) -> str:
    """The last ``overlap`` characters, starting at a word."""
    if overlap <= 0:
        return ""
    tail = text[-overlap:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail


def chunk_catalogue(catalogue: Catalogue) -> list[Chunk]:
    """One chunk per operation, in the catalogue's order."""
    return [chunk_operation(operation) for operation in catalogue.operations.values()]


def chunk_operation(operation: Operation) -> Chunk:
    """ "METHOD path — summary", the description, then parameters, body fields and responses."""
    heading = f"{operation.method} {operation.path}"
    first = f"{heading} — {operation.summary}" if operation.summary else heading
    lines = [first, f"operationId: {operation.operation_id}"]
    if operation.description:
        lines.append(operation.description.strip())
    if operation.tags:
        lines.append("tags: " + ", ".join(operation.tags))
    if operation.parameters:
        lines.append("parameters:")
        for parameter in operation.parameters:
            required = ", required" if parameter.required else ""
            kind = _type_of(parameter.schema)
            about = f": {parameter.description}" if parameter.description else ""
            lines.append(f"- {parameter.name} ({parameter.location}, {kind}{required}){about}")
    if operation.request_schema:
        lines.append("body fields:")
        lines.extend(_fields(operation.request_schema))
    if operation.responses:
        lines.append("responses:")
        for status, schema in operation.responses.items():
            lines.append(f"- {status}" + (f": {_type_of(schema)}" if schema else ""))
    if operation.security:
        lines.append("security: " + ", ".join(operation.security))
    return Chunk(heading=heading, text="\n".join(lines))


def _fields(schema: dict[str, Any]) -> list[str]:
    """The top-level properties of an object schema (required ones marked), or the schema's type."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return [f"- {_type_of(schema)}"]
    required = set(schema.get("required") or ())
    lines = []
    for name, sub in list(properties.items())[:MAX_SCHEMA_FIELDS]:
        sub = sub if isinstance(sub, dict) else {}
        mark = ", required" if name in required else ""
        about = f": {sub['description']}" if isinstance(sub.get("description"), str) else ""
        lines.append(f"- {name} ({_type_of(sub)}{mark}){about}")
    return lines


def _type_of(schema: dict[str, Any] | None, depth: int = 0) -> str:
    if not schema or depth > 3:
        return "any"
    kind = schema.get("type")
    kind = "/".join(str(k) for k in kind) if isinstance(kind, list) else str(kind or "object")
    if isinstance(schema.get("format"), str):
        kind += f" {schema['format']}"
    if isinstance(schema.get("enum"), list):
        kind += " one of " + json.dumps(schema["enum"][:10])
    if kind.startswith("array") and isinstance(schema.get("items"), dict):
        kind += f" of {_type_of(schema['items'], depth + 1)}"
    return kind
