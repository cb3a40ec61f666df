"""The built-in planner on a SUT of a headless CMS's shape (``cms_sut.py``), through the benchmark's runner:
plans executed by the Data Resolver over real HTTP, repaired from the SUT's refusals as a run repairs them,
and what they left counted by listing the SUT after their clean-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from orchestra.cli.serving import served_here
from tests.bench_scripts import load_bench
from tests.integration.cms_sut import create_app

EMAIL, PASSWORD = "editor@example.com", "correct horse battery"


runner = load_bench("dataplan_planner")
tally = load_bench("dataplan_tally")


@pytest.fixture
async def cms() -> AsyncIterator[str]:
    async with served_here(create_app(EMAIL, PASSWORD)) as port:
        yield f"http://127.0.0.1:{port}"


async def _measure(base_url: str) -> tuple[dict[str, Any], Any]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        document = (await client.get("/server/specs/oas")).raise_for_status().json()
        login = await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
        token = login.raise_for_status().json()["data"]["access_token"]
    environment = runner.PlannerEnvironment(secrets={"email": EMAIL, "password": PASSWORD})
    keys = tally.operation_keys(document)
    tallies = await runner.run(
        document, base_url, environment, keys, [1], 2, {"Authorization": f"Bearer {token}"}
    )
    return tallies, environment


def _covered(tallies: dict[str, Any], key: str) -> bool:
    return bool(tallies[key].target_ok > 0)


async def test_the_planner_learns_what_a_cms_description_leaves_out_and_leaves_nothing_behind(
    cms: str,
) -> None:
    tallies, environment = await _measure(cms)
    failures = {key: t.failures for key, t in tallies.items()}
    # A creation refused 403 whatever the body: its own call fails, what needs one reads an existing one.
    assert not _covered(tallies, "POST /collections")
    assert environment.learnt.forbidden == ["createCollection"]
    for key in ("GET /collections/{id}", "GET /fields/{collection}"):
        assert _covered(tallies, key), failures[key]
    # A grant's collection, which only its answer describes, learnt from the refusal: an existing one.
    assert _covered(tallies, "POST /grants"), failures["POST /grants"]
    # Fields only the answer's schema describes, learnt from the 400s that name them.
    assert _covered(tallies, "POST /files"), failures["POST /files"]
    assert environment.learnt.required("createFile") == ["type", "storage"]
    assert _covered(tallies, "GET /files/{id}"), failures["GET /files/{id}"]
    # No made-up key of a step (refused as a foreign key): left out.
    assert tallies["POST /steps"].target_ok == tallies["POST /steps"].attempts == 2, failures["POST /steps"]
    # The refresh token the log-in gave, not a made-up one.
    assert tallies["POST /auth/refresh"].target_ok == 2, failures["POST /auth/refresh"]
    # A last page that starts null could not be written back: refused, never sent.
    assert tallies["PATCH /users/me/track/page"].target_sent == 0
    assert tallies["PATCH /users/me/track/page"].refused == 2
    # Nothing a plan made or changed is left, as the SUT's listings show after each clean-up.
    assert sum(t.leaked for t in tallies.values()) == 0, failures
    failed = {key: t.cleanup_failures for key, t in tallies.items() if t.cleanup_failures}
    assert not failed
