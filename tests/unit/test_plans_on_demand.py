"""The engine's plan provider is made at the first run that declares data, after what that run needs first
(an embedded `orchestra run` serves its ai-service there): once, whatever the number of runs asking."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestra import runtime
from orchestra.testdata import provider


class FakeProvider:
    made = 0

    def __init__(self, *_: Any) -> None:
        FakeProvider.made += 1
        self.forgotten: list[Any] = []

    async def plan_for_run(self, **run: Any) -> Any:
        return ("plan", run["test_case"])

    async def repair(self, prepared: Any, **run: Any) -> Any:
        return ("repaired", prepared)

    async def forget(self, prepared: Any, **run: Any) -> None:
        self.forgotten.append(prepared)


@pytest.fixture(autouse=True)
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeProvider.made = 0
    monkeypatch.setattr(provider, "PlanProvider", FakeProvider)


async def test_what_the_first_plan_needs_is_started_once_for_runs_planned_together() -> None:
    started: list[str] = []

    async def before_first_plan() -> None:
        await asyncio.sleep(0)  # others ask meanwhile
        started.append("ai-service")

    plans = runtime.PlansOnDemand(None, None, None, before_first_plan)  # type: ignore[arg-type]
    results = await asyncio.gather(*(plans.plan_for_run(test_case=n) for n in range(5)))
    assert results == [("plan", n) for n in range(5)]
    assert await plans.repair("old") == ("repaired", "old")
    await plans.forget("failed", tenant_id=None, project_id=None)
    assert plans._provider.forgotten == ["failed"]  # type: ignore[attr-defined]
    assert started == ["ai-service"]
    assert FakeProvider.made == 1


async def test_nothing_is_started_while_no_run_asks_for_a_plan() -> None:
    started: list[str] = []

    async def before_first_plan() -> None:
        started.append("ai-service")

    runtime.PlansOnDemand(None, None, None, before_first_plan)  # type: ignore[arg-type]
    assert started == []
    assert FakeProvider.made == 0


async def test_a_failed_start_is_the_plans_error_and_is_tried_again_by_the_next_run() -> None:
    attempts: list[int] = []

    async def before_first_plan() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the ai-service could not serve")

    plans = runtime.PlansOnDemand(None, None, None, before_first_plan)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="could not serve"):
        await plans.plan_for_run(test_case=1)
    assert await plans.plan_for_run(test_case=2) == ("plan", 2)
    assert len(attempts) == 2
