"""In-memory state of the demo shop SUT: tokens, items, customers and orders, jobs, flaky counters,
idempotency, request log.

Every mutation is plain synchronous Python without ``await`` in between, so running all handlers on
uvicorn's single event loop keeps the state consistent without locks.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar

from orchestra.demo.sut_customers_store import CustomerStore
from orchestra.demo.sut_values import JsonObject, utc_now_iso

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
TOKEN_TTL_S = 3600
JOB_RESULT = {"rows": 42}
REQUEST_LOG_LIMIT = 100_000
REMEMBERED_KEYS_LIMIT = 100_000

K = TypeVar("K")
V = TypeVar("V")


def _remember(mapping: dict[K, V], key: K, value: V) -> None:
    """Store ``value`` under ``key``, evicting the oldest entries beyond ``REMEMBERED_KEYS_LIMIT``."""
    mapping[key] = value
    while len(mapping) > REMEMBERED_KEYS_LIMIT:
        del mapping[next(iter(mapping))]


@dataclass
class Item:
    id: str
    name: str
    price: float
    tags: list[str]
    stock: int
    created_at: str

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "tags": list(self.tags),
            "stock": self.stock,
            "created_at": self.created_at,
        }


@dataclass
class Job:
    id: str
    kind: str
    duration_ms: int
    created_at: str
    started_monotonic: float

    def status(self) -> str:
        """``pending`` for the first third of the duration, ``running`` until it ends, then ``done``."""
        elapsed_ms = (time.monotonic() - self.started_monotonic) * 1000
        if elapsed_ms >= self.duration_ms:
            return "done"
        if elapsed_ms >= self.duration_ms / 3:
            return "running"
        return "pending"

    def to_json(self) -> JsonObject:
        status = self.status()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": status,
            "result": dict(JOB_RESULT) if status == "done" else None,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class StoredResponse:
    """The first response given to an ``Idempotency-Key``, replayed for later requests with that key."""

    status_code: int
    body: JsonObject
    location: str


class DuplicateNameError(Exception):
    """Another item already has this name."""


@dataclass
class ItemStore:
    items: dict[str, Item] = field(default_factory=dict)

    def _ensure_unique_name(self, name: str, except_id: str | None = None) -> None:
        if any(item.name == name and item.id != except_id for item in self.items.values()):
            raise DuplicateNameError(name)

    def create(self, name: str, price: float, tags: list[str], stock: int) -> Item:
        self._ensure_unique_name(name)
        item = Item(str(uuid.uuid4()), name, price, list(tags), stock, utc_now_iso())
        self.items[item.id] = item
        return item

    def get(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def update(self, item_id: str, changes: JsonObject) -> Item | None:
        """Apply ``changes`` (some of name/price/tags/stock) to the item; ``None`` if it does not exist."""
        item = self.items.get(item_id)
        if item is None:
            return None
        if "name" in changes:
            self._ensure_unique_name(changes["name"], except_id=item_id)
        for attribute, value in changes.items():
            setattr(item, attribute, list(value) if attribute == "tags" else value)
        return item

    def delete(self, item_id: str) -> bool:
        return self.items.pop(item_id, None) is not None

    def page(self, page: int, per_page: int, tag: str | None) -> tuple[list[Item], int]:
        """One page of items (oldest first), optionally only those carrying ``tag``, and the total count."""
        matching = [item for item in self.items.values() if tag is None or tag in item.tags]
        start = (page - 1) * per_page
        return matching[start : start + per_page], len(matching)


@dataclass
class ShopState:
    """Everything one demo SUT instance remembers; ``create_app`` makes a fresh one per app."""

    tokens: dict[str, float] = field(default_factory=dict)
    items: ItemStore = field(default_factory=ItemStore)
    customers: CustomerStore = field(default_factory=CustomerStore)
    jobs: dict[str, Job] = field(default_factory=dict)
    flaky_calls: dict[str, int] = field(default_factory=dict)
    idempotent_responses: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    request_log: deque[JsonObject] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_LIMIT))

    def issue_token(self, username: str, password: str) -> str | None:
        """A fresh bearer token for the demo credentials, ``None`` for any other credentials."""
        username_ok = secrets.compare_digest(username.encode(), DEMO_USERNAME.encode())
        password_ok = secrets.compare_digest(password.encode(), DEMO_PASSWORD.encode())
        if not (username_ok and password_ok):
            return None
        token = secrets.token_urlsafe(32)
        _remember(self.tokens, token, time.monotonic() + TOKEN_TTL_S)
        return token

    def token_is_valid(self, token: str) -> bool:
        expires_at = self.tokens.get(token)
        if expires_at is None:
            return False
        if time.monotonic() >= expires_at:
            del self.tokens[token]
            return False
        return True

    def create_job(self, kind: str, duration_ms: int) -> Job:
        job = Job(str(uuid.uuid4()), kind, duration_ms, utc_now_iso(), time.monotonic())
        _remember(self.jobs, job.id, job)
        return job

    def count_flaky_call(self, key: str) -> int:
        """Count one more call for ``key`` and return how many calls it has had, this one included."""
        calls = self.flaky_calls.get(key, 0) + 1
        _remember(self.flaky_calls, key, calls)
        return calls

    def stored_response(self, route: str, key: str) -> StoredResponse | None:
        return self.idempotent_responses.get((route, key))

    def store_response(self, route: str, key: str, response: StoredResponse) -> None:
        _remember(self.idempotent_responses, (route, key), response)
