"""What a plan left in a SUT, counted by listing the SUT after the plan's clean-up — not by trusting the
plan, its cleanups or a ledger.

The listings are the SUT's GET operations without path parameters or required query parameters that answer
JSON (``GET /articles``, ``GET /user``), minus those whose answer changes by itself between two readings
(``GET /_log``: reading it is logged), and those that grow when the SUT is merely used — a log-in and a read,
as every plan does (an activity log); a field that changes then on items already there (a user's
``last_access``) is left out of that listing's items. A listing of what no operation creates or deletes (a log
of revisions, written by every change) counts its items changed or gone, not its new ones: they record what
happened, nothing can remove them, and what a plan made is seen where it was made. Each item of a listed array
(at the top or in a one-level envelope, ``{"articles": [...]}``) counts by its id (``id``, ``slug``,
``username``…), and any other answer counts as one item; token-like fields are left out. After a plan, every
item that is new, changed or gone counts as one left behind: a created entity that survived its clean-up, an
update of shared data that was not written back, a pre-existing entity deleted. A listing shows its first page
only (what a page hides is not seen).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from orchestra.openapi.operations import Catalogue, Operation

_ID_FIELDS = ("id", "uuid", "slug", "username", "key", "name", "email")
_TOKEN_WORDS = ("token", "jwt", "secret", "password")
Snapshot = dict[str, str]  # item key → its canonical JSON


def listings(catalogue: Catalogue, keys: set[str]) -> list[Operation]:
    """The GETs that list what the SUT holds, among the benchmark's operations (``METHOD /path`` keys)."""
    found = []
    for operation in catalogue.operations.values():
        if operation.method != "GET" or f"GET {operation.path}" not in keys or "{" in operation.path:
            continue
        if any(p.required and p.location in ("query", "header") for p in operation.parameters):
            continue
        if operation.success_schema() is not None:
            found.append(operation)
    return found


@dataclass(frozen=True)
class Listings:
    """The listings read after every plan, and per listing's path the item fields left out (they change
    whenever the SUT is used)."""

    operations: list[Operation]
    volatile: dict[str, frozenset[str]] = field(default_factory=dict)
    logs: frozenset[str] = frozenset()  # paths of listings whose new items are not counted


def is_log(catalogue: Catalogue, listing: Operation) -> bool:
    """Whether no operation creates (POST on its path) or deletes (DELETE below it) what a listing lists."""
    path = listing.path.rstrip("/")
    return not any(
        (operation.method == "POST" and operation.path.rstrip("/") == path)
        or (operation.method == "DELETE" and operation.path.startswith(path + "/"))
        for operation in catalogue.operations.values()
    )


async def snapshot(
    client: httpx.AsyncClient,
    base_url: str,
    operations: list[Operation],
    headers: Mapping[str, str],
    volatile: Mapping[str, frozenset[str]] | None = None,
) -> Snapshot:
    items: Snapshot = {}
    for operation in operations:
        try:
            response = await client.get(base_url + operation.path, headers=dict(headers))
            body = response.json() if response.status_code < 300 else {"status": response.status_code}
        except (httpx.HTTPError, ValueError):
            body = {"unreadable": True}
        items.update(_items(operation.path, body, (volatile or {}).get(operation.path, frozenset())))
    return items


async def stable_listings(
    client: httpx.AsyncClient,
    base_url: str,
    operations: list[Operation],
    headers: Mapping[str, str],
    use: Callable[[], Awaitable[None]] | None = None,
    logs: frozenset[str] = frozenset(),
) -> Listings:
    """The listings whose answers do not change between two readings with nothing else happening, nor —
    after ``use`` (what every plan does: a log-in and a read) — gain or lose items; the fields that
    ``use`` changes on items already there are left out of that listing."""
    first = {op.path: await snapshot(client, base_url, [op], headers) for op in operations}
    second = {op.path: await snapshot(client, base_url, [op], headers) for op in operations}
    if use is not None:
        await use()
    third = {op.path: await snapshot(client, base_url, [op], headers) for op in operations}
    kept, volatile = [], {}
    for operation in operations:
        before, after = second[operation.path], third[operation.path]
        if first[operation.path] != before or before.keys() != after.keys():
            continue
        changed = frozenset(
            name for key in before if before[key] != after[key] for name in _changed(before[key], after[key])
        )
        if "*" in changed:
            continue
        kept.append(operation)
        if changed:
            volatile[operation.path] = changed
    return Listings(kept, volatile, logs)


def _changed(before: str, after: str) -> set[str]:
    """The top-level fields two items' canonical JSON differ in (all of them when either is no object)."""
    old, new = json.loads(before), json.loads(after)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return {"*"}
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def left_behind(before: Snapshot, after: Snapshot, logs: frozenset[str] = frozenset()) -> int:
    """Items new, changed or gone between two snapshots (in the listings of ``logs``: changed or gone)."""
    return sum(
        1
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key) and not (key not in before and key.split("#")[0] in logs)
    )


def _items(path: str, body: Any, volatile: frozenset[str] = frozenset()) -> Snapshot:
    array = body if isinstance(body, list) else None
    if isinstance(body, dict):
        arrays = [value for value in body.values() if isinstance(value, list)]
        if len(arrays) == 1:
            array = arrays[0]
    if array is None:
        return {path: _canonical(_without(body, volatile))}
    found: Snapshot = {}
    for position, item in enumerate(array):
        key = next((str(item[name]) for name in _ID_FIELDS if isinstance(item, dict) and name in item), None)
        found[f"{path}#{key if key is not None else position}"] = _canonical(_without(item, volatile))
    return found


def _without(value: Any, fields: frozenset[str]) -> Any:
    if not fields or not isinstance(value, dict):
        return value
    return {key: item for key, item in value.items() if key not in fields}


def _canonical(value: Any) -> str:
    return json.dumps(_without_tokens(value), sort_keys=True, default=str)


def _without_tokens(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_tokens(item)
            for key, item in value.items()
            if not any(word in str(key).lower() for word in _TOKEN_WORDS)
        }
    if isinstance(value, list):
        return [_without_tokens(item) for item in value]
    return value
