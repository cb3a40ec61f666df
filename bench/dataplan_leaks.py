"""What a plan left in a SUT, counted by listing the SUT after the plan's clean-up — not by trusting the
plan, its cleanups or a ledger.

The listings are the SUT's GET operations without path parameters or required query parameters that answer
JSON (``GET /articles``, ``GET /user``), minus those whose answer changes by itself between two readings
(``GET /_log``: reading it is logged). Each item of a listed array (at the top or in a one-level envelope,
``{"articles": [...]}``) counts by its id (``id``, ``slug``, ``username``…), and any other answer counts as
one item; token-like fields are left out. After a plan, every item that is new, changed or gone counts as
one left behind: a created entity that survived its clean-up, an update of shared data that was not written
back, a pre-existing entity deleted. A listing shows its first page only (what a page hides is not seen).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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


async def snapshot(
    client: httpx.AsyncClient, base_url: str, operations: list[Operation], headers: Mapping[str, str]
) -> Snapshot:
    items: Snapshot = {}
    for operation in operations:
        try:
            response = await client.get(base_url + operation.path, headers=dict(headers))
            body = response.json() if response.status_code < 300 else {"status": response.status_code}
        except (httpx.HTTPError, ValueError):
            body = {"unreadable": True}
        items.update(_items(operation.path, body))
    return items


async def stable_listings(
    client: httpx.AsyncClient, base_url: str, operations: list[Operation], headers: Mapping[str, str]
) -> list[Operation]:
    """The listings whose answers do not change between two readings with nothing else happening."""
    kept = []
    for operation in operations:
        first = await snapshot(client, base_url, [operation], headers)
        second = await snapshot(client, base_url, [operation], headers)
        if first == second:
            kept.append(operation)
    return kept


def left_behind(before: Snapshot, after: Snapshot) -> int:
    """Items new, changed or gone between two snapshots."""
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def _items(path: str, body: Any) -> Snapshot:
    array = body if isinstance(body, list) else None
    if isinstance(body, dict):
        arrays = [value for value in body.values() if isinstance(value, list)]
        if len(arrays) == 1:
            array = arrays[0]
    if array is None:
        return {path: _canonical(body)}
    found: Snapshot = {}
    for position, item in enumerate(array):
        key = next((str(item[name]) for name in _ID_FIELDS if isinstance(item, dict) and name in item), None)
        found[f"{path}#{key if key is not None else position}"] = _canonical(item)
    return found


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
