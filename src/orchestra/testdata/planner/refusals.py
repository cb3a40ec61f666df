"""What a SUT's refusal says about the body it was sent: the fields it names as missing or invalid.

A description may mark no body field as required (a CMS whose one schema serves requests and answers), yet
the SUT answers a body without them with a 400/422 that names them. The common shapes are read:

- FastAPI / pydantic: ``{"detail": [{"loc": ["body", "action"], "type": "missing", "msg": …}]}``;
- JSON:API and Directus: ``{"errors": [{"extensions": {"field": "action", "type": "required"}}]}``,
  ``{"source": {"pointer": "/data/attributes/action"}}``;
- problem+json: ``{"errors": {"action": ["is required"]}}``, ``{"invalid-params": [{"name": "action"}]}``,
  ``{"errors": [{"field": "action", …}]}``;
- messages that quote the field: ``"action" is required``, ``'action' is a required property``,
  ``Field "action" is required``, ``missing required field "action"`` (Joi, JSON Schema validators), and
  a field named by a plain word of a sentence (``Names must be provided``: ``name``; ``Slots requested is
  greater than the limit``: ``slots``, its value refused).

Only fields the operation's body schema describes are taken (``known``), or — when its body is an object — a
field of the item it answers that the body schema leaves out (``representation_fields``: Directus describes
``POST /files`` as ``{"data": …}`` and requires the file's ``type``, ``storage`` and ``filename_download``,
which its answer describes): a refusal is the SUT's word about its own inputs, never a way to invent new
ones. A 403 to a creation says that this user may not make that kind of entity: what needs one then reads
an existing one (``lookups.py``). What is learnt is kept per operation (``Lessons``), and in the notes of
the plan made with it, so that a later repair of that plan still knows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestra.kit.recorded_body import json_or_text
from orchestra.openapi.operations import Catalogue, JsonSchema, Operation
from orchestra.testdata.planner.entities import object_schema, properties_of, resource_of, singular
from orchestra.testdata.planner.undo import creates

MISSING = "missing"
INVALID = "invalid"
UNWANTED = "not allowed"  # a field the SUT does not take at all: left out
_MAX_DEPTH = 6
_BODY_LOCATIONS = ("body", "json", "payload", "data", "attributes")
_MISSING_WORDS = (
    "required",
    "missing",
    "must be provided",
    "must be specified",
    "not be null",
    "can't be null",
)
# "not allowed" alone: ``"delta" is not allowed`` (Joi), not ``"name" is not allowed to be empty``.
_UNWANTED = re.compile(r"not (?:allowed|permitted)(?! to)|extra_forbidden|unknown field|was unexpected", re.I)
_QUOTED = r"[\"'`]([A-Za-z_][A-Za-z0-9_.\-]*)[\"'`]"
_MESSAGE_PATTERNS = (
    re.compile(_QUOTED + r" (?:is|are) (?:a )?required", re.IGNORECASE),
    re.compile(_QUOTED + r" (?:is|are) not allowed", re.IGNORECASE),
    re.compile(
        r"(?:missing|required)(?: required)? (?:field|property|key|attribute|parameter)s? " + _QUOTED, re.I
    ),
    re.compile(r"(?:field|property|key|attribute|value for field) " + _QUOTED, re.IGNORECASE),
    re.compile(_QUOTED + r" (?:is|must|should|has|can't|cannot|does)", re.IGNORECASE),
)
# A sentence that names a field without quoting it: ``Names must be provided for block documents.``
_UNQUOTED_MISSING = re.compile(
    r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) (?:is|are|must be|should be) "
    r"(?:required|provided|specified)\b",
    re.I,
)
# A sentence that names a field whose value is too large or too small: ``Slots requested is greater than
# the limit`` (``slots``: its value refused).
_UNQUOTED_BOUND = re.compile(
    r"\b([A-Za-z_][A-Za-z0-9_]*)(?: [a-z]+)? (?:is|are|must be|should be|cannot be|may not be) "
    r"(?:greater|more|larger|bigger|higher|less|smaller|lower|fewer) than\b",
    re.I,
)
_NOTE = re.compile(
    r"^learnt from the SUT: (\S+) (needs|does not take) (.+?) \(it refused a body with(?:out)? them\)$"
)
_FORBIDDEN_NOTE = re.compile(r"^learnt from the SUT: (\S+) is forbidden to this user \(it answered 403\)$")


@dataclass(frozen=True)
class Named:
    """A field a refusal names, and whether the SUT said it is missing or its value is invalid."""

    field: str
    problem: str  # MISSING | INVALID


def named_fields(body: Any, known: Collection[str], schema: JsonSchema | None = None) -> list[Named]:
    """The fields of ``known`` a refusal's body names, in the order it names them (a field named both
    missing and invalid is missing). ``body``: the parsed answer or its text. With the body's ``schema``, a
    field below a known one that is named missing is named too, by its dotted path
    (``task_runs.start_time.after_``), when every step of it is a property the schema describes."""
    found: dict[str, str] = {}
    for name, problem in _read(json_or_text(body), 0):
        top = _top_field(name, known)
        if top is not None and found.get(top) != MISSING:
            found[top] = problem
        path = _nested_path(name, top, schema) if problem == MISSING and top is not None else None
        if path is not None:
            found[path] = MISSING
    return [Named(name, problem) for name, problem in found.items()]


def _nested_path(name: str, top: str, schema: JsonSchema | None) -> str | None:
    """The dotted path of a field below the body's field ``top`` (``task_runs.start_time.after_``) when every
    step is a property of an object the schema describes there (through ``anyOf``/``oneOf``); else None."""
    parts = [part for part in re.split(r"[.\[\]]", name) if part]
    while parts and parts[0] != top:
        parts = parts[1:]
    if len(parts) < 2 or schema is None:
        return None
    current: JsonSchema | None = schema
    for part in parts:
        current = next(
            (properties_of(option)[part] for option in _objects(current) if part in properties_of(option)),
            None,
        )
        if current is None:
            return None
    return ".".join(parts)


def _objects(schema: JsonSchema | None) -> list[JsonSchema]:
    """A schema's object forms: itself (``allOf`` merged), and its ``anyOf``/``oneOf`` options."""
    if not isinstance(schema, dict):
        return []
    merged = object_schema(schema)
    options = [part for key in ("anyOf", "oneOf") for part in schema.get(key) or [] if isinstance(part, dict)]
    return [*([merged] if merged is not None else []), *(part for part in options if properties_of(part))]


def require_paths(schema: JsonSchema, paths: Iterable[str]) -> JsonSchema:
    """``schema`` of a body field with the nested fields of ``paths`` (below it: ``start_time.after_``)
    required at every step, in each object form that has them; the rest as it was."""
    result = schema
    for path in paths:
        result = _require(result, [part for part in path.split(".") if part])
    return result


def _require(schema: JsonSchema, parts: list[str]) -> JsonSchema:
    if not parts or not isinstance(schema, dict):
        return schema
    changed = dict(schema)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            changed[key] = [_require(option, parts) for option in schema[key]]
    properties = schema.get("properties")
    if isinstance(properties, dict) and parts[0] in properties:
        changed["properties"] = {**properties, parts[0]: _require(properties[parts[0]], parts[1:])}
        changed["required"] = list(dict.fromkeys([*(schema.get("required") or []), parts[0]]))
    return changed


def _read(value: Any, depth: int) -> Iterable[tuple[str, str]]:
    """(field path, problem) pairs found in a refusal, through its nesting."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield from _from_message(value)
    elif isinstance(value, list):
        for item in value:
            yield from _read(item, depth + 1)
    elif isinstance(value, Mapping):
        yield from _from_entry(value, depth)


def _from_entry(entry: Mapping[str, Any], depth: int) -> Iterable[tuple[str, str]]:
    words = " ".join(
        str(entry.get(key, "")) for key in ("type", "code", "msg", "message", "reason", "detail")
    )
    extensions = entry.get("extensions")
    if isinstance(extensions, Mapping):
        words += " " + " ".join(str(extensions.get(key, "")) for key in ("type", "code", "reason"))
    problem = _problem(words)
    location = entry.get("loc")
    if isinstance(location, list) and location:  # pydantic: ["body", "action", 0]
        parts = [str(part) for part in location if isinstance(part, str)]
        if parts and parts[0] in _BODY_LOCATIONS:
            parts = parts[1:]
        if parts:
            yield ".".join(parts), problem
    for holder in (entry, extensions, entry.get("source")):
        if not isinstance(holder, Mapping):
            continue
        for key in ("field", "property", "param", "parameter", "name", "pointer", "path", "attribute"):
            name = holder.get(key)
            if (
                isinstance(name, str)
                and name
                and (holder is not entry or key != "name" or _is_problem(entry))
            ):
                yield _from_pointer(name), problem
    for key, nested in entry.items():
        if key in ("loc", "input", "ctx", "url"):
            continue
        if key == "errors" and isinstance(nested, Mapping):  # {"errors": {"action": ["is required"]}}
            for name, messages in nested.items():
                yield str(name), _problem(json.dumps(messages, default=str))
            continue
        yield from _read(nested, depth + 1)


def _is_problem(entry: Mapping[str, Any]) -> bool:
    """An entry that describes a problem (``invalid-params``: ``{"name": "action", "reason": …}``), not an
    entity that happens to have a name."""
    return any(key in entry for key in ("reason", "msg", "message", "code", "type"))


def _from_pointer(name: str) -> str:
    """``/data/attributes/action`` and ``/action`` → ``action``; ``body.action`` stays a dotted path."""
    if not name.startswith("/"):
        return name
    parts = [part for part in name.split("/") if part]
    while parts and parts[0] in _BODY_LOCATIONS:
        parts = parts[1:]
    return ".".join(parts)


def _from_message(text: str) -> Iterable[tuple[str, str]]:
    problem = _problem(text)
    for pattern in _MESSAGE_PATTERNS:
        for match in pattern.finditer(text):
            yield match.group(1), problem
    for match in _UNQUOTED_MISSING.finditer(text):  # a word of the sentence: only a known field counts
        word = match.group(1)
        if "." in word:  # a path into the body (``task_runs.start_time.after_``), as written
            yield word, MISSING
            continue
        word = word.lower()
        yield from ((name, MISSING) for name in dict.fromkeys((word, singular(word))))
    for match in _UNQUOTED_BOUND.finditer(text):  # its value out of bounds: only a known field counts
        word = match.group(1).lower()
        yield from ((name, INVALID) for name in dict.fromkeys((word, singular(word))))


def _problem(words: str) -> str:
    lowered = words.lower()
    if _UNWANTED.search(lowered):
        return UNWANTED
    return MISSING if any(word in lowered for word in _MISSING_WORDS) else INVALID


def _top_field(name: str, known: Collection[str]) -> str | None:
    """The body's own field a named path starts with (``policy.id`` → ``policy``), when it is known."""
    parts = [part for part in re.split(r"[.\[\]]", name) if part]
    while parts and parts[0] in _BODY_LOCATIONS and parts[0] not in known:
        parts = parts[1:]
    return parts[0] if parts and parts[0] in known else None


@dataclass
class Lessons:
    """What the SUT's refusals taught, per operation: the body fields to send although the description
    does not require them (``needs``), those whose value it refused (``refused_values``), and those it does
    not take at all (``unwanted``: a schema shared by requests and answers describes fields only answers
    have)."""

    needs: dict[str, list[str]] = field(default_factory=dict)
    refused_values: dict[str, list[str]] = field(default_factory=dict)
    unwanted: dict[str, list[str]] = field(default_factory=dict)
    forbidden: list[str] = field(default_factory=list)  # creations the SUT refused this user (403)

    def learn(
        self, operation_id: str, body: Any, known: Collection[str], schema: JsonSchema | None = None
    ) -> list[Named]:
        """Reads one refusal of ``operation_id`` (``schema``: its body's, for fields below the top);
        returns what it taught that was not known yet."""
        new: list[Named] = []
        kinds = {MISSING: self.needs, INVALID: self.refused_values, UNWANTED: self.unwanted}
        for named in named_fields(body, known, schema):
            target = kinds[named.problem].setdefault(operation_id, [])
            if named.field not in target:
                target.append(named.field)
                new.append(named)
        return new

    def nested(self, operation_id: str, prop: str) -> list[str]:
        """The fields below the body's field ``prop`` the SUT said are missing, as paths below it
        (``start_time.after_`` of ``task_runs``)."""
        prefix = prop + "."
        return [name[len(prefix) :] for name in self.needs.get(operation_id, []) if name.startswith(prefix)]

    def required(self, operation_id: str) -> list[str]:
        """Fields to send with ``operation_id``: those the SUT said are missing, and those whose value it
        refused (a field it checks is one it reads)."""
        sent = [*self.needs.get(operation_id, []), *self.refused_values.get(operation_id, [])]
        return [name for name in dict.fromkeys(sent) if name not in self.unwanted.get(operation_id, [])]

    def refused(self, operation_id: str) -> list[str]:
        """Fields of ``operation_id`` whose value the SUT refused."""
        return list(self.refused_values.get(operation_id, []))

    def left_out(self, operation_id: str) -> list[str]:
        """Fields ``operation_id`` does not take (the SUT said they are not allowed)."""
        return list(self.unwanted.get(operation_id, []))

    def note(self, operation_id: str, fields: Iterable[str]) -> str:
        """The plan's note that ``operation_id`` sends ``fields`` for what it learnt (``from_notes`` reads
        it back)."""
        return (
            f"learnt from the SUT: {operation_id} needs {', '.join(fields)} (it refused a body without them)"
        )

    def unwanted_note(self, operation_id: str, fields: Iterable[str]) -> str:
        """The plan's note that ``operation_id`` leaves ``fields`` out (``from_notes`` reads it back)."""
        names = ", ".join(fields)
        return f"learnt from the SUT: {operation_id} does not take {names} (it refused a body with them)"

    def forbid(self, operation_id: str) -> bool:
        """Keeps that the SUT refused ``operation_id`` (a creation) to this user; whether that is new."""
        if operation_id in self.forbidden:
            return False
        self.forbidden.append(operation_id)
        return True

    @staticmethod
    def forbidden_note(operation_id: str) -> str:
        """The plan's note that ``operation_id`` is forbidden to the user (``from_notes`` reads it back)."""
        return f"learnt from the SUT: {operation_id} is forbidden to this user (it answered 403)"

    @classmethod
    def from_notes(cls, notes: Iterable[str]) -> Lessons:
        """What an earlier plan's notes say was learnt (lines ``notes`` wrote; any other line is ignored)."""
        lessons = cls()
        for note in notes:
            forbidden = _FORBIDDEN_NOTE.match(note) if isinstance(note, str) else None
            if forbidden is not None:
                lessons.forbid(forbidden.group(1))
                continue
            match = _NOTE.match(note) if isinstance(note, str) else None
            if match is not None:
                fields = [name.strip() for name in match.group(3).split(",") if name.strip()]
                kind = lessons.needs if match.group(2) == "needs" else lessons.unwanted
                kind.setdefault(match.group(1), []).extend(fields)
        return lessons

    def __bool__(self) -> bool:
        return bool(self.needs or self.refused_values or self.unwanted or self.forbidden)


REFUSALS_READ = (400, 422)  # a 409 (conflict), 401/403 (credentials) or 404 says nothing of a body's fields
# A creation answered 403 is one this user may not make: what needs such an entity takes an existing one.
FORBIDDEN = 403


def learn_from_failures(
    lessons: Lessons, failures: Iterable[Mapping[str, Any]], catalogue: Catalogue
) -> list[str]:
    """Reads the refusals a data phase reports (``operation``, ``status``, ``response_body``, as sent to a
    planner for a repair) into ``lessons``; returns one line per new lesson (``createPermission: action
    missing``)."""
    learnt: list[str] = []
    for failure in failures:
        operation = catalogue.get(str(failure.get("operation") or ""))
        if operation is not None and failure.get("status") == FORBIDDEN and creates(catalogue, operation):
            if lessons.forbid(operation.operation_id):
                learnt.append(f"{operation.operation_id}: forbidden")
            continue
        if operation is None or failure.get("status") not in REFUSALS_READ:
            continue
        known = body_fields(operation.request_schema) | set(representation_fields(operation))
        answer = failure.get("response_body")
        for named in lessons.learn(operation.operation_id, answer, known, operation.request_schema):
            learnt.append(f"{operation.operation_id}: {named.field} {named.problem}")
    return learnt


def repair_lessons(
    notes: Iterable[str], failures: Iterable[Mapping[str, Any]], catalogue: Catalogue
) -> tuple[Lessons, list[str]]:
    """For the repair of a plan: what its ``notes`` say was learnt before, with what its ``failures`` (the
    data phase's refusals) teach now; and one line per new lesson."""
    lessons = Lessons.from_notes(notes)
    return lessons, learn_from_failures(lessons, failures, catalogue)


def body_fields(schema: JsonSchema | None) -> set[str]:
    """The top-level fields a request body schema describes (as the planner reads it: ``object_schema``)."""
    return set(properties_of(object_schema(schema)))


def representation_fields(operation: Operation) -> dict[str, JsonSchema]:
    """The fields of the item ``operation`` answers that its object body does not describe and a client may
    send (not read-only, not the item's ``id``): where a SUT that names one of them missing finds it.
    Empty when the body is no object with properties (nothing to add a field to)."""
    described = body_fields(operation.request_schema)
    if not described:
        return {}
    return {
        name: schema
        for name, schema in resource_of(operation)[1].items()
        if name not in described and name != "id" and isinstance(schema, dict) and not schema.get("readOnly")
    }
