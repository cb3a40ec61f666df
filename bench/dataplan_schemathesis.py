"""The comparison side of the DataPlan benchmark: Schemathesis' positive examples, sent to the same SUT.

For every operation and seed, Hypothesis draws ``examples`` cases from Schemathesis' positive generation
mode (the fuzzing phase only: no explicit examples, no stateful links), with JSON bodies wherever the
operation accepts JSON (as the planner sends). Each case is sent once with the same credentials the
planner's requests carry, redirects not followed; its status is counted like the planner's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import schemathesis
from dataplan_tally import Tally, operation_key
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

REQUEST_TIMEOUT_S = 10.0


def _draw(operation: APIOperation[Any, Any, Any, Any], examples: int, seed_value: int) -> list[Case[Any]]:
    json_bodies = list(operation.get_bodies_for_media_type("application/json"))
    media = "application/json" if json_bodies else None
    cases: list[Case[Any]] = []

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(GenerationMode.POSITIVE, media_type=media))
    def collect(case: Case[Any]) -> None:
        if len(cases) < examples:
            cases.append(case)

    collect()
    return cases


def _send(
    case: Case[Any], base_url: str, session: requests.Session, headers: Mapping[str, str]
) -> tuple[int | None, str]:
    """The status (None when no response came) and a few words on why it is not 2xx."""
    try:
        response = case.call(
            base_url=base_url,
            session=session,
            headers=dict(headers),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as error:
        return None, f"no response: {type(error).__name__}"
    return int(response.status_code), f"{response.status_code}: {response.text[:120]}"


def run(
    document: dict[str, Any],
    base_url: str,
    headers: Mapping[str, str],
    keys: list[str],
    seeds: list[int],
    examples: int,
) -> dict[str, Tally]:
    """A tally per operation key (blocking: run it in a worker thread)."""
    schema = schemathesis.openapi.from_dict(document)
    tallies = {key: Tally() for key in keys}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                raise RuntimeError(f"Schemathesis cannot read an operation: {result.err()}")
            operation = result.ok()
            key = operation_key(operation.method, operation.path)
            if key not in tallies:
                continue
            for seed_value in seeds:
                for case in _draw(operation, examples, seed_value):
                    tallies[key].attempts += 1
                    status, why = _send(case, base_url, session, headers)
                    tallies[key].count(status, target=True, why=why)
    return tallies
