"""The measured side of the DataPlan benchmark: the built-in planner's plans, executed by the Data Resolver.

For every operation, seed and example: ask the built-in planner for a plan that calls the operation once
(its prerequisites created through producer operations first), execute it with the Data Resolver against
the SUT exactly as a run's data phase would (egress-guarded client, environment variables and secrets),
count every request it sent, then undo what it created (as the run's cleanup phase does; not counted), and
list the SUT (``dataplan_leaks.py``): a plan that left anything behind counts as sent, never as valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from dataplan_leaks import left_behind, listings, snapshot, stable_listings
from dataplan_tally import Tally, operation_key

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import guarded_client
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue, Operation
from orchestra.steps.http_call import HttpCall
from orchestra.testdata.calls import perform_undo
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed, DataResolver

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PlannerEnvironment:
    """What the planner and the resolver know of the environment: variables and secrets (names only reach
    the planner; values only the resolver, as in a run)."""

    variables: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    leftovers: bool = False  # what nothing undoes may be made (as a test case with data.leftovers: true)


def _status(result: BindingResult) -> int | None:
    response = result.response or {}
    status = response.get("status")
    return status if isinstance(status, int) else None


@dataclass(frozen=True)
class Lister:
    """Reads what the SUT holds (``dataplan_leaks.py``) with the benchmark's credentials."""

    base_url: str
    operations: list[Operation]
    headers: Mapping[str, str]
    policy: EgressPolicy

    async def read(self, client: httpx.AsyncClient) -> dict[str, str]:
        with egress.applying(self.policy):
            return await snapshot(client, self.base_url, self.operations, self.headers)


async def _one_plan(
    resolver: DataResolver,
    catalogue: Catalogue,
    operation_id: str,
    environment: PlannerEnvironment,
    seed: int,
    totals: Tally,
    policy: EgressPolicy,
    lister: Lister,
) -> None:
    totals.attempts += 1
    try:
        plan = plan_for_operation(
            operation_id,
            catalogue,
            environment=dict(environment.variables),
            secret_names=sorted(environment.secrets),
            seed=seed,
            leftovers=environment.leftovers,
        )
    except PlanRefused as refused:
        totals.refused += 1
        totals.failures.append(f"refused: {refused}"[:160])
        return
    except (LookupError, ValueError) as error:
        totals.failures.append(f"no plan: {error}"[:160])
        return
    before = await lister.read(resolver.client)
    tally = Tally()
    undo: list[HttpCall] = []

    async def on_result(result: BindingResult) -> None:
        status = _status(result)
        if result.request is not None:  # sent (an unsent one could not be built: counted below)
            tally.count(status, target=result.operation == operation_id, why=result.error or "")
        if result.undo is not None:
            undo.append(result.undo)

    try:
        await resolver.resolve(plan.model_copy(update={"seed": seed}), done={}, on_result=on_result)
    except BindingFailed as failure:
        if failure.result is None or failure.result.request is None:
            tally.failures.append(f"not sent: {failure}"[:160])
    finally:
        for call in reversed(undo):
            outcome = await perform_undo(resolver.client, call, policy, timeout_s=TIMEOUT_S)
            tally.cleanups[outcome.status] += 1
            if outcome.status == "failed" and len(totals.cleanup_failures) < 3:
                totals.cleanup_failures.append((outcome.error or f"{call.method} {call.url}")[:200])
        totals.add_plan(tally, left_behind(before, await lister.read(resolver.client)))


async def run(
    document: dict[str, Any],
    base_url: str,
    environment: PlannerEnvironment,
    keys: list[str],
    seeds: list[int],
    examples: int,
    headers: Mapping[str, str],
) -> dict[str, Tally]:
    """``headers``: the credentials the SUT's listings are read with."""
    catalogue = build_catalogue(document)
    policy = EgressPolicy.for_environment(base_url, [], allow_private=True, environment="bench")
    tallies = {key: Tally() for key in keys}
    async with guarded_client() as client:
        with egress.applying(policy):
            found = await stable_listings(client, base_url, listings(catalogue, set(keys)), headers)
        lister = Lister(base_url, found, headers, policy)
        for operation in catalogue.operations.values():
            key = operation_key(operation.method, operation.path)
            if key not in tallies:
                continue
            for seed in seeds:
                for example in range(examples):
                    plan_seed = seed * 1000 + example
                    resolver = DataResolver(
                        client,
                        catalogue,
                        base_url=base_url,
                        policy=policy,
                        environment=environment.variables,
                        secrets=environment.secrets,
                        seed=plan_seed,
                        timeout_s=TIMEOUT_S,
                    )
                    await _one_plan(
                        resolver,
                        catalogue,
                        operation.operation_id,
                        environment,
                        plan_seed,
                        tallies[key],
                        policy,
                        lister,
                    )
    return tallies
