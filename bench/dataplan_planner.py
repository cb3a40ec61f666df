"""The measured side of the DataPlan benchmark: the built-in planner's plans, executed by the Data Resolver.

For every operation, seed and example: ask the built-in planner for a plan that calls the operation once
(its prerequisites created through producer operations first), execute it with the Data Resolver against
the SUT exactly as a run's data phase would (egress-guarded client, environment variables and secrets),
count every request it sent, then undo what it created (as the run's cleanup phase does; not counted), and
list the SUT (``dataplan_leaks.py``): a plan that left anything behind counts as sent, never as valid.

Repairs, as in a run: when the SUT refuses a wave of the plan (4xx), the planner reads the refusals
(``refusals.learn_from_failures``, what a run's data phase sends it) and, when they taught it something,
plans again (what the failed plan made is undone first), at most the run's default number of repairs
(``ORCHESTRA_PLANNER_REPAIR_ATTEMPTS``); what it learnt is kept for the rest of the benchmark, as a run's
repaired plan keeps it. Every request of every attempt is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from dataplan_leaks import Listings, is_log, left_behind, listings, snapshot, stable_listings
from dataplan_tally import Tally, operation_key

from orchestra.config import Settings
from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import guarded_client
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue
from orchestra.steps.http_call import HttpCall
from orchestra.testdata.calls import perform_undo
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.refusals import Lessons, learn_from_failures
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed, DataResolver

TIMEOUT_S = 10.0
REPAIRS = Settings.model_fields["planner_repair_attempts"].default


@dataclass(frozen=True)
class PlannerEnvironment:
    """What the planner and the resolver know of the environment: variables and secrets (names only reach
    the planner; values only the resolver, as in a run)."""

    variables: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    leftovers: bool = False  # what nothing undoes may be made (as a test case with data.leftovers: true)
    learnt: Lessons = field(default_factory=Lessons)  # what the SUT's refusals taught, for the whole run
    repairs: int = REPAIRS  # plans made again after a refusal; 0: never (as before the planner learnt)


def _status(result: BindingResult) -> int | None:
    response = result.response or {}
    status = response.get("status")
    return status if isinstance(status, int) else None


@dataclass(frozen=True)
class Lister:
    """Reads what the SUT holds (``dataplan_leaks.py``) with the benchmark's credentials."""

    base_url: str
    listings: Listings
    headers: Mapping[str, str]
    policy: EgressPolicy

    async def read(self, client: httpx.AsyncClient) -> dict[str, str]:
        with egress.applying(self.policy):
            return await snapshot(
                client, self.base_url, self.listings.operations, self.headers, self.listings.volatile
            )


def _refusals(failure: BindingFailed) -> list[dict[str, Any]] | None:
    """The wave's failures as a run's data phase reports them to the planner; None unless the SUT refused
    every one (4xx), the only failures a run repairs."""
    found = []
    for failed in failure.wave:
        result = failed.result
        status = _status(result) if result is not None else None
        if result is None or status is None or not 400 <= status < 500:
            return None
        body = (result.response or {}).get("body")
        found.append({"operation": result.operation, "status": status, "response_body": body})
    return found


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
    before = await lister.read(resolver.client)
    tally = Tally()
    try:
        for repair in range(environment.repairs + 1):
            try:
                plan = plan_for_operation(
                    operation_id,
                    catalogue,
                    environment=dict(environment.variables),
                    secret_names=sorted(environment.secrets),
                    seed=seed,
                    leftovers=environment.leftovers,
                    learnt=environment.learnt,
                )
            except PlanRefused as refused:
                if repair == 0:  # a plan refused outright; refused after a repair, its attempts count
                    totals.refused += 1
                tally.failures.append(f"refused: {refused}"[:160])
                return
            except (LookupError, ValueError) as error:
                tally.failures.append(f"no plan: {error}"[:160])
                return
            refusals = await _attempt(
                resolver, plan.model_copy(update={"seed": seed}), operation_id, tally, policy
            )
            if refusals is None or repair == environment.repairs:
                return
            if not learn_from_failures(environment.learnt, refusals, catalogue):
                return  # nothing new: planning again would send the same
    finally:
        after = await lister.read(resolver.client)
        totals.add_plan(tally, left_behind(before, after, lister.listings.logs))


async def _attempt(
    resolver: DataResolver, plan: DataPlan, operation_id: str, tally: Tally, policy: EgressPolicy
) -> list[dict[str, Any]] | None:
    """Resolves one plan, counting what it sent, and undoes what it made; returns the SUT's refusals when
    a wave of it was refused (4xx)."""
    undo: list[HttpCall] = []
    refusals: list[dict[str, Any]] | None = None

    async def on_result(result: BindingResult) -> None:
        status = _status(result)
        if result.request is not None:  # sent (an unsent one could not be built: counted below)
            tally.count(status, target=result.operation == operation_id, why=result.error or "")
        if result.undo is not None:
            undo.append(result.undo)

    try:
        await resolver.resolve(plan, done={}, on_result=on_result)
    except BindingFailed as failure:
        if failure.result is None or failure.result.request is None:
            tally.failures.append(f"not sent: {failure}"[:160])
        refusals = _refusals(failure)
    finally:
        for call in reversed(undo):
            outcome = await perform_undo(resolver.client, call, policy, timeout_s=TIMEOUT_S)
            tally.cleanups[outcome.status] += 1
            if outcome.status == "failed" and len(tally.cleanup_failures) < 3:
                tally.cleanup_failures.append((outcome.error or f"{call.method} {call.url}")[:200])
    return refusals


async def _ignored(result: BindingResult) -> None:
    """What a plan that only logs in and reads did is not counted."""


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
        candidates = listings(catalogue, set(keys))

        def resolver_of(seed: int) -> DataResolver:
            return DataResolver(
                client,
                catalogue,
                base_url=base_url,
                policy=policy,
                environment=environment.variables,
                secrets=environment.secrets,
                seed=seed,
                timeout_s=TIMEOUT_S,
            )

        async def use() -> None:
            """What every plan does, creating nothing: the log-in (when there is one) and a read."""
            if not candidates:
                return
            plan = plan_for_operation(
                candidates[0].operation_id,
                catalogue,
                environment=dict(environment.variables),
                secret_names=sorted(environment.secrets),
                seed=0,
            )
            try:
                await resolver_of(0).resolve(plan, done={}, on_result=_ignored)
            except BindingFailed:
                pass  # a read the SUT refuses still used it

        with egress.applying(policy):
            logs = frozenset(listing.path for listing in candidates if is_log(catalogue, listing))
            found = await stable_listings(client, base_url, candidates, headers, use, logs)
        lister = Lister(base_url, found, headers, policy)
        for operation in catalogue.operations.values():
            key = operation_key(operation.method, operation.path)
            if key not in tallies:
                continue
            for seed in seeds:
                for example in range(examples):
                    plan_seed = seed * 1000 + example
                    resolver = resolver_of(plan_seed)
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
