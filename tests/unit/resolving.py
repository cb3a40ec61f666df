"""Resolving a plan against a SUT answered in-process (the shop of the repair tests' description), with
every result the resolver reports, and the failure it raised (None when it resolved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed, DataResolver
from tests.unit.test_data_phase_repair import BASE_URL, CATALOGUE
from tests.unit.test_dataplan_validate import POLICY


async def resolve_in_process(
    plan: DataPlan,
    sut: Callable[[httpx.Request], httpx.Response],
    *,
    secrets: dict[str, str] | None = None,
    **options: Any,
) -> tuple[list[BindingResult], BindingFailed | None]:
    """``options``: more of the resolver's (``busy_delays_s``)."""
    reported: list[BindingResult] = []

    async def on_result(result: BindingResult) -> None:
        reported.append(result)

    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        resolver = DataResolver(
            client,
            CATALOGUE,
            base_url=BASE_URL,
            policy=POLICY,
            environment={},
            secrets=secrets or {},
            seed=1,
            **options,
        )
        try:
            await resolver.resolve(plan, done={}, on_result=on_result)
        except BindingFailed as failure:
            return reported, failure
    return reported, None
