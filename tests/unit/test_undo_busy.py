"""An undo the SUT answers "busy" (503, 429) is sent again after a short wait; any other refusal fails at
once, and a SUT busy on every attempt leaves the undo failed (its ledger entry is retried by the sweep)."""

from __future__ import annotations

import httpx

from orchestra.steps.http_call import HttpCall
from orchestra.testdata.calls import perform_undo
from tests.unit.test_dataplan_validate import POLICY

CALL = HttpCall("DELETE", "https://shop.example.com/customers/7", {}, None)


def answering(*statuses: int, headers: dict[str, str] | None = None) -> tuple[httpx.MockTransport, list[int]]:
    """A SUT answering ``statuses`` in turn (the last one again when they run out)."""
    seen: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        return httpx.Response(status, headers=headers, json={"detail": "busy" if status >= 429 else "ok"})

    return httpx.MockTransport(answer), seen


async def test_an_undo_answered_busy_is_sent_again_until_done() -> None:
    transport, seen = answering(503, 429, 204, headers={"Retry-After": "0"})
    async with httpx.AsyncClient(transport=transport) as client:
        outcome = await perform_undo(client, CALL, POLICY, timeout_s=5, busy_delays_s=(5.0, 5.0, 5.0))
    assert outcome.status == "done"  # the SUT's Retry-After: 0 was shorter than the 5 s delays
    assert seen == [503, 429, 204]


async def test_a_refusal_that_is_not_busy_is_not_sent_again() -> None:
    transport, seen = answering(409)
    async with httpx.AsyncClient(transport=transport) as client:
        outcome = await perform_undo(client, CALL, POLICY, timeout_s=5, busy_delays_s=(0.0, 0.0))
    assert outcome.status == "failed"
    assert seen == [409]
    assert outcome.error is not None
    assert "returned 409" in outcome.error


async def test_a_sut_busy_on_every_attempt_leaves_the_undo_failed() -> None:
    transport, seen = answering(503)
    async with httpx.AsyncClient(transport=transport) as client:
        outcome = await perform_undo(client, CALL, POLICY, timeout_s=5, busy_delays_s=(0.0, 0.0))
    assert outcome.status == "failed"
    assert seen == [503, 503, 503]


async def test_gone_is_not_sent_again() -> None:
    transport, seen = answering(404)
    async with httpx.AsyncClient(transport=transport) as client:
        outcome = await perform_undo(client, CALL, POLICY, timeout_s=5, busy_delays_s=(0.0,))
    assert outcome.status == "gone"
    assert seen == [404]
