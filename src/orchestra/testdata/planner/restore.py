"""Undoing an update of something a plan did not create (``PUT /user`` on the environment's own user): the
previous representation is read first (the GET on the same path, else on the nearest path above it that
answers what it sends) and written back by the same operation after the run. Only fields that the read
answers are sent (one it does not answer, a password, could not be written back; nor could one the read
may answer null when the update cannot send null). Credentials and privileges are never changed: a field
named like an environment secret (the log-in's ``email``: other runs of the environment log in with it), a
password, token, key, role or permission, a ``writeOnly`` or ``format: password`` field, or a name that is
not a plain identifier. When a required field is among those or missing, or nothing reads the resource
back, the update cannot be undone and the planner refuses it (unless the test allows leftovers). The
write-back reads each field with ``.get``, so a field the read left out is written back as null instead
of failing after the update."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from orchestra.openapi.operations import Catalogue, JsonSchema, Operation
from orchestra.testdata.planner.entities import envelope_key, getter_of, properties_of, resource_of
from orchestra.testdata.values.generator import merge_all_of, takes_null

_KEPT_NAMES = re.compile(r"pass(word|wd)?|secret|token|api_?key|credential|role|admin|permission|scope", re.I)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Restore:
    getter: Operation  # reads the previous representation
    sent: Operation  # the update, its body limited to the fields it can write back
    fields: tuple[str, ...]  # those fields, inside the body's envelope (if any)
    request_key: str | None  # the body's envelope (``user``), None for a bare body
    answer_key: str | None  # the read's envelope

    def body(self, before: str) -> dict[str, Any]:
        """The write-back's body: each field as the read ``data.<before>`` answered it."""
        base = f"data.{before}" + (f"['{self.answer_key}']" if self.answer_key else "")
        inner = {name: "{{ " + base + f".get('{name}') }}}}" for name in self.fields}
        return {self.request_key: inner} if self.request_key else inner


def restore_for(
    catalogue: Catalogue, operation: Operation, secret_names: Collection[str] = ()
) -> Restore | str:
    """How to undo ``operation`` on something that existed before, or why it cannot be undone;
    ``secret_names``: the environment's secrets (fields named like one are never changed). What it changes
    is read back by the GET on its path, else by that of the nearest path above it that answers what it
    sends (``PATCH /users/me/track/page`` sends ``last_page``, which ``GET /users/me`` answers)."""
    readers = _readers(catalogue, operation)
    if not readers:
        return f"no GET on {operation.path} reads back what it changes, so it could not be restored"
    why = ""
    for getter in readers:
        above = getter.path.rstrip("/") != operation.path.rstrip("/")
        found = _restore_with(getter, operation, secret_names, same_values=above)
        if isinstance(found, Restore):
            return found
        why = why or found
    return why


def _readers(catalogue: Catalogue, operation: Operation) -> list[Operation]:
    """The GET on the operation's path, then those on the paths above it, dropping one fixed segment at a
    time (never a parameter: that would read a whole collection)."""
    readers: list[Operation] = []
    path = operation.path.rstrip("/")
    while path:
        reader = getter_of(catalogue, dataclasses.replace(operation, path=path))
        if reader is not None:
            readers.append(reader)
        parent, _, last = path.rpartition("/")
        if last.startswith("{") or not parent:
            break
        path = parent
    return readers


def _restore_with(
    getter: Operation, operation: Operation, secret_names: Collection[str], *, same_values: bool = False
) -> Restore | str:
    """Undoing ``operation`` with what ``getter`` reads, or why that cannot be done. ``same_values``: a
    field counts only when the read describes it as the update does (a path above may answer another thing
    of that name: a user's ``name`` is not a theme's)."""
    schema = _merged(operation.request_schema)
    if schema is None:
        return "it changes something without a described body, so it could not be restored"
    request_key = envelope_key(schema)
    inner = _merged(properties_of(schema)[request_key]) if request_key else schema
    assert inner is not None
    sendable = {
        name: sub
        for name, sub in properties_of(inner).items()
        if not (isinstance(sub, dict) and sub.get("readOnly")) and not _kept(name, sub, secret_names)
    }
    answer_key, answered = resource_of(getter)
    if request_key is not None and not _PLAIN_NAME.match(request_key):
        return f"its body's envelope {request_key[:40]!r} is not a plain name"
    if answer_key is not None and not _PLAIN_NAME.match(answer_key):
        return f"the answer's envelope {answer_key[:40]!r} is not a plain name"
    # A field the read may answer null and the update cannot send as null could not be written back.
    unwritable = [
        n for n in sendable if n in answered and takes_null(answered[n]) and not takes_null(sendable[n])
    ]
    fields = [
        name
        for name in sendable
        if name in answered
        and name not in unwritable
        and (not same_values or _same_values(answered[name], sendable[name]))
    ]
    if not fields and unwritable:
        return (
            f"{getter.operation_id} may answer {', '.join(unwritable)} as null, which it cannot send back, "
            "so it could not be restored"
        )
    if not fields:
        return f"{getter.operation_id} answers none of the fields it sends, so it could not be restored"
    required = [name for name in inner.get("required") or [] if isinstance(name, str)]
    missing = [name for name in required if name not in fields]
    if missing:
        return (
            f"it requires {', '.join(missing)}, which {getter.operation_id} does not answer, so the "
            "previous value could not be written back"
        )
    limited: JsonSchema = {
        "type": "object",
        "properties": {name: sendable[name] for name in fields},
        "required": required,
    }
    if request_key:
        limited = {"type": "object", "required": [request_key], "properties": {request_key: limited}}
    sent = dataclasses.replace(operation, request_schema=limited)
    return Restore(getter, sent, tuple(fields), request_key, answer_key)


def _kept(name: str, schema: Any, secret_names: Collection[str]) -> bool:
    """Whether the update must leave the field as it is (a credential or privilege, or an odd name)."""
    if name in secret_names or _KEPT_NAMES.search(name) or not _PLAIN_NAME.match(name):
        return True
    return isinstance(schema, dict) and (
        schema.get("writeOnly") is True or schema.get("format") == "password"
    )


def _same_values(read: Any, sent: Any) -> bool:
    """Whether what a read answers can be what an update sends: the same type, and no value outside the
    update's ``enum``."""
    if (
        not isinstance(read, dict)
        or not isinstance(sent, dict)
        or not _types(read)
        or _types(read) != _types(sent)
    ):
        return False
    allowed = sent.get("enum")
    values = read.get("enum")
    return allowed is None or (isinstance(values, list) and all(value in allowed for value in values))


def _types(schema: JsonSchema) -> frozenset[str]:
    """The types a schema takes besides null (``type: [string, null]``: string)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return frozenset(str(k) for k in kinds if k is not None and k != "null")


def _merged(schema: Any) -> JsonSchema | None:
    if not isinstance(schema, dict):
        return None
    return merge_all_of(schema) if "allOf" in schema else schema
