"""A failure's message and its normalised form: what differs from run to run is masked, the cause is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from orchestra.insights.failure_messages import failure_message, fingerprint, normalise


@pytest.mark.parametrize(
    ("message", "normalised"),
    [
        ("order 8f14e45f-ceea-467f-a0ad-9b2c1c8a1e0b not found", "order <uuid> not found"),
        ("at 2026-12-06T10:11:12.123Z and 2026-12-06 10:11", "at <time> and <time>"),
        ("since 10:11:12", "since <time>"),
        ("token deadbeefcafe1234 expired", "token <hex> expired"),
        ("customer 12345 has 3 orders", "customer <n> has <n> orders"),
        ("status: expected 200, got 503", "status: expected 200, got 503"),  # the status is the cause
        ("HTTP 404 for /orders/123", "HTTP 404 for /orders/<n>"),
        ("max_ms: expected <= 500, got 734", "max_ms: expected <= 500, got <n>"),
        ("took 250 ms", "took <n> ms"),
        ("  many \n  spaces\t", "many spaces"),
        ("e2e v2 abc", "e<n>e v<n> abc"),
    ],
)
def test_normalise_masks_what_differs_between_runs(message: str, normalised: str) -> None:
    assert normalise(message) == normalised


def test_one_cause_has_one_fingerprint() -> None:
    first = normalise("order 8f14e45f-ceea-467f-a0ad-9b2c1c8a1e0b: 17 items at 2026-01-01T00:00:00Z")
    second = normalise("order 11111111-2222-3333-4444-555555555555: 3 items at 2027-05-05T12:00:00Z")
    assert fingerprint(first) == fingerprint(second)
    assert fingerprint(normalise("got 503")) != fingerprint(normalise("got 404"))


def test_an_oversized_message_is_cut() -> None:
    assert len(normalise("x" * 1_000_000)) == 2000


@dataclass
class Step:
    phase: str
    name: str
    status: str
    error: str | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list)


def test_the_message_is_the_first_failed_steps() -> None:
    failing = [
        {"check": "status", "passed": True, "expected": 200, "actual": 200},
        {"check": "json $.id", "passed": False, "message": "$.id: expected 1, got 2"},
        {"check": "max_ms", "passed": False, "skipped": True},
        {"check": "status", "passed": False, "expected": 201, "actual": 500},
    ]
    steps = [
        Step("main", "login", "passed"),
        Step("main", "pay", "failed", assertions=failing),
        Step("main", "later", "error", error="boom"),
    ]
    assert failure_message(steps, "FAILED", "2 checks failed") == (
        "main/pay: $.id: expected 1, got 2; status: expected 201, got 500"
    )
    assert failure_message([Step("setup", "seed", "error", error="refused")], "ERROR", None) == (
        "setup/seed: refused"
    )
    assert failure_message([], "TIMED_OUT", "the run took longer than 30 s") == (
        "TIMED_OUT: the run took longer than 30 s"
    )
