"""Actions on a collection: a POST one static segment below the path of a collection's creation that is no
collection itself (``POST /limits/increment`` beside ``POST /limits``: nothing is below
``/limits/increment``). Read from the description alone:

- the fields of its body that **name items of that collection** — a required ``names``, ``name``, ``ids``,
  ``id``, ``keys`` or ``key`` — and which field of an item each takes: ``name`` (or, for an item without
  one, the key of an item path that addresses items by it besides their id, ``/limits/tag/{tag}``), the
  item's id, its key;
- the item an action **makes by the name its body sends**, below a collection without a creation of its
  own (``POST /pools/{pool}/workers/heartbeat`` with a required ``name``, beside ``DELETE
  /pools/{pool}/workers/{name}``): that DELETE, with the value sent, undoes it;
- its **inverse**, the action that takes it back: the same path with the verb swapped (``increment`` →
  ``decrement``, ``acquire`` → ``release``, ``lock`` → ``unlock``: ``/limits/increment-with-lease`` →
  ``/limits/decrement-with-lease``);
- whether it **only acts on what its body names**: no verb of making in its name (``create``, ``add``,
  ``import``…; a last segment ``bulk`` or ``batch`` alone) and no answer of one identified item (what a
  creation answers); then, when every entity its body refers to is one the plan creates and deletes, it
  goes with them and needs no undo of its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from orchestra.openapi.operations import Catalogue, Operation
from orchestra.testdata.planner.entities import (
    answers_an_item,
    field_path,
    id_field,
    is_collection_post,
    is_query_post,
    object_schema,
    producer_of,
    properties_of,
    resource_of,
    singular,
    static_segments,
    token_field,
    words,
)
from orchestra.testdata.planner.schema_facts import an_array, required_fields
from orchestra.testdata.values.name_hints import referenced_entity, snake

# A verb and the one that takes it back: only in that direction (a decrement of nothing held is not
# undone by an increment).
INVERSES = {
    **{"increment": "decrement", "acquire": "release", "reserve": "release", "hold": "release"},
    **{"lock": "unlock", "attach": "detach", "link": "unlink", "subscribe": "unsubscribe"},
    **{"follow": "unfollow", "pin": "unpin", "assign": "unassign", "add": "remove"},
}
# Verbs of an action that makes new items rather than acting on those its body names.
_MAKING = frozenset(
    {
        *("create", "add", "new", "insert", "register", "import", "upsert", "copy", "clone"),
        *("duplicate", "generate", "make", "build"),
    }
)
_NAMING = {"names": "name", "name": "name", "ids": "id", "id": "id", "keys": "key", "key": "key"}


def action_collection(catalogue: Catalogue, operation: Operation) -> Operation | None:
    """The creation on the collection ``operation`` is an action of (``POST /limits/`` for ``POST
    /limits/increment``); None when ``operation`` is no POST one static segment below such a creation's
    path, or when something is below its own path (then it is a collection of its own)."""
    path = operation.path.rstrip("/")
    parent, _, last = path.rpartition("/")
    if operation.method != "POST" or not parent or not last or last.startswith("{"):
        return None
    if any(other.path.rstrip("/").startswith(path + "/") for other in catalogue.operations.values()):
        return None
    for other in catalogue.operations.values():
        if (
            other is not operation
            and is_collection_post(other)
            and other.path.rstrip("/") == parent
            and token_field(other) is None
            and not is_query_post(other)
        ):
            return other
    return None


def item_made_by_action(catalogue: Catalogue, operation: Operation) -> tuple[Operation, str] | None:
    """For an action one static segment below a collection that has no creation of its own (``POST
    /pools/{pool}/workers/heartbeat``), whose body requires the field the collection's item path names its
    items by (``DELETE /pools/{pool}/workers/{name}``: ``name``): that DELETE and the field. The action
    makes (or renews) the item its body names; the DELETE with the value it sent undoes it. None for
    anything else (a read, a collection with a creation, a body that names no item)."""
    path = operation.path.rstrip("/")
    parent, _, last = path.rpartition("/")
    if operation.method != "POST" or not parent or not last or last.startswith("{"):
        return None
    if is_query_post(operation) or token_field(operation) is not None:
        return None
    if any(other.path.rstrip("/").startswith(path + "/") for other in catalogue.operations.values()):
        return None
    if any(
        is_collection_post(other) and other.path.rstrip("/") == parent
        for other in catalogue.operations.values()
    ):
        return None
    required = required_fields(operation.request_schema)
    for other in catalogue.operations.values():
        found = re.fullmatch(re.escape(parent) + r"/\{([^/{}]+)\}/?", other.path)
        if other.method == "DELETE" and found and found.group(1) in required:
            return other, found.group(1)
    return None


def maker_of_item(catalogue: Catalogue, collection: str, parameter: str) -> Operation | None:
    """The action below ``collection`` that makes the item its path names by ``{parameter}``
    (``item_made_by_action``); None when there is none."""
    for operation in catalogue.operations.values():
        made = item_made_by_action(catalogue, operation)
        if (
            made is not None
            and made[1] == parameter
            and operation.path.rstrip("/").rpartition("/")[0] == collection
        ):
            return operation
    return None


def item_name_field(catalogue: Catalogue, producer: Operation) -> str | None:
    """The field naming an item ``producer`` creates, besides its id: ``name`` when its answer has one,
    else the key of an item path addressing items by a field of theirs (``/limits/tag/{tag}``), as a
    dotted path through the answer's envelope; None without either."""
    key, answered = resource_of(producer)
    if "name" in answered:
        return field_path(key, "name")
    collection = re.escape(producer.path.rstrip("/"))
    for other in catalogue.operations.values():
        found = re.fullmatch(collection + r"/([^/{}]+)/\{([^/{}]+)\}/?", other.path)
        if found and found.group(1) == found.group(2) and found.group(2) in answered:
            return field_path(key, found.group(2))
    return None


def naming_fields(catalogue: Catalogue, operation: Operation) -> dict[str, tuple[Operation, str, bool]]:
    """The required body fields of an action that name items of its collection: field → (the collection's
    creation, the item's field that fills it, whether it is a list). Empty for anything else."""
    producer = action_collection(catalogue, operation)
    merged = object_schema(operation.request_schema)
    if producer is None or merged is None:
        return {}
    properties = properties_of(merged)
    found: dict[str, tuple[Operation, str, bool]] = {}
    for prop in merged.get("required") or []:
        word = _NAMING.get(snake(prop))
        schema = properties.get(prop)
        listed = an_array(schema)
        if word is None or listed != (snake(prop) != word):  # ``names`` a list, ``name`` a scalar
            continue
        if listed:
            items = schema.get("items") if isinstance(schema, dict) else None
            if isinstance(items, dict) and items.get("type") in ("object", "array"):
                continue
        elif isinstance(schema, dict) and (
            schema.get("type") in ("object", "array") or "properties" in schema
        ):
            continue
        key, answered = resource_of(producer)
        if word == "name":
            field = item_name_field(catalogue, producer)
        elif word == "key":
            field = field_path(key, "key") if "key" in answered else None
        else:
            field = id_field(producer)
        if field is not None:
            found[prop] = (producer, field, listed)
    return found


def inverse_of(catalogue: Catalogue, operation: Operation) -> Operation | None:
    """The POST that takes back what an action does: the same path with its verb swapped for the inverse
    one (``/limits/increment-with-lease`` → ``/limits/decrement-with-lease``, ``/locks/acquire`` →
    ``/locks/release``). None when the description has none."""
    path = operation.path.rstrip("/")
    parent, _, last = path.rpartition("/")
    if operation.method != "POST" or not last or last.startswith("{"):
        return None
    for verb, inverse in INVERSES.items():
        pattern = re.compile(r"(?<![A-Za-z])(" + verb + r"|" + verb.capitalize() + r")(?![a-z])")
        match = pattern.search(last)
        if match is None:
            continue
        swapped = inverse if match.group(1).islower() else inverse.capitalize()
        wanted = f"{parent}/{last[: match.start()]}{swapped}{last[match.end() :]}"
        for other in catalogue.operations.values():
            if other.method == "POST" and other is not operation and other.path.rstrip("/") == wanted:
                return other
    return None


def makes_new(operation: Operation) -> bool:
    """Whether an action makes new items rather than acting on those its body names: a verb of making in
    its last path segment or operationId, or an answer of one identified item."""
    segments = static_segments(operation.path)
    last = words(segments[-1]) if segments else []
    if last in (["bulk"], ["batch"]):  # ``POST /tags/bulk``: a bulk creation
        return True
    named = [*last, *words(operation.operation_id)]
    return any(word in _MAKING for word in named) or answers_an_item(operation)


def referred(catalogue: Catalogue, prop: str) -> str | None:
    """The entity a property refers to: any for ``<entity>Id`` / ``_uuid``; for ``<entity>_key`` /
    ``_ref`` only one the description knows as a resource (a path segment names its collection, or an
    operation creates one)."""
    entity = referenced_entity(prop)
    if entity is None or not snake(prop).endswith(("_key", "_ref")):
        return entity
    segments = {
        snake(singular(part.replace("-", "_")))
        for operation in catalogue.operations.values()
        for part in static_segments(operation.path)
    }
    if entity in segments or producer_of(catalogue, entity) is not None:
        return entity
    return None


_DATA = re.compile(r"\{\{\s*data\.([A-Za-z_][A-Za-z0-9_]*)")


def acts_on(catalogue: Catalogue, operation: Operation, body: Any, undone: Collection[str]) -> bool:
    """Whether ``operation`` is an action that only acts on what its body names (``makes_new`` false) and
    every field of ``body`` that names an item or refers to an entity holds values of the bindings
    ``undone`` (what the plan creates and deletes): it then goes with them. At least one such field."""
    if (
        action_collection(catalogue, operation) is None
        or makes_new(operation)
        or not isinstance(body, Mapping)
    ):
        return False
    fields = set(naming_fields(catalogue, operation)) | {
        prop for prop in properties_of(object_schema(operation.request_schema)) if referred(catalogue, prop)
    }
    used = [body[prop] for prop in fields if prop in body]
    return bool(used) and all(_of(value, undone) for value in used)


def _of(value: Any, names: Collection[str]) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_of(item, names) for item in value)
    found = _DATA.findall(value) if isinstance(value, str) else []
    return bool(found) and set(found) <= set(names)
