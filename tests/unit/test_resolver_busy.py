"""A call or lookup the SUT answers busy (503, 429: a locked database, a rate limit) is sent again after a
wait, as an undo is; any other failure is not. The SUT is answered in-process."""

from __future__ import annotations

import json

import httpx
import pytest

from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed
from tests.unit.resolving import resolve_in_process

PLAN = DataPlan.model_validate(
    {
        "bindings": {
            "customer": {
                "call": {
                    "operation": "createCustomer",
                    "body": {"name": "Ada", "email": "ada@example.com"},
                },
                "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
            }
        }
    }
)


class Busy:
    """Answers the first ``refusals`` creations with ``status``, then makes the customer."""

    def __init__(self, refusals: int, status: int) -> None:
        self.refusals = refusals
        self.status = status
        self.received = 0
        self.customers: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received += 1
        if self.received <= self.refusals:
            return httpx.Response(self.status, json={"detail": "database is locked"})
        self.customers.append(json.loads(request.content))
        return httpx.Response(201, json={"id": str(len(self.customers))})


async def resolve(sut: Busy) -> tuple[list[BindingResult], BindingFailed | None]:
    return await resolve_in_process(PLAN, sut, busy_delays_s=(0, 0, 0))


@pytest.mark.parametrize("status", [503, 429])
async def test_a_call_answered_busy_is_sent_again(status: int) -> None:
    sut = Busy(refusals=2, status=status)
    reported, failure = await resolve(sut)
    assert failure is None
    assert [(result.status, result.attempts) for result in reported] == [("passed", 3)]
    assert sut.customers == [{"name": "Ada", "email": "ada@example.com"}]  # made once
    assert reported[0].undo is not None


async def test_a_call_busy_every_time_fails_after_the_last_attempt() -> None:
    sut = Busy(refusals=10, status=503)
    reported, failure = await resolve(sut)
    assert failure is not None
    assert sut.received == 4  # once, then after each of the three waits
    assert reported[0].attempts == 4
    assert sut.customers == []


@pytest.mark.parametrize("status", [500, 409, 422])
async def test_a_call_refused_or_failed_otherwise_is_not_sent_again(status: int) -> None:
    sut = Busy(refusals=1, status=status)
    _, failure = await resolve(sut)
    assert failure is not None
    assert sut.received == 1
