"""The built-in planner on an application it was not written for (tests/integration/envelope_sut.py):
resources in single-key envelopes, path parameters that are slugs, user names and ids of nested resources.
Each planned run creates what the request needs, links its path to the producers' responses, renders every
undo, and after the undo calls, listing the SUT shows nothing left."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import guarded_client
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue
from orchestra.testdata.calls import perform_undo
from orchestra.testdata.planner.builtin import plan_for_operation
from orchestra.testdata.plans.validate import validate_plan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import DataResolver


@pytest.fixture(scope="module")
def sut_url() -> Iterator[str]:
    process = DemoProcess.start(module="tests.integration.envelope_sut")
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def catalogue(sut_url: str) -> Catalogue:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sut_url}/openapi.json")
    assert response.json()["openapi"].startswith("3.1")
    return build_catalogue(response.json())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with guarded_client() as guarded:
        yield guarded


def policy(url: str) -> EgressPolicy:
    return EgressPolicy.for_environment(url, [], allow_private=True, environment="envelopes")


async def leftovers(_: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """What the SUT holds, listed with a plain client (not trusting any ledger)."""
    async with httpx.AsyncClient(base_url=url) as plain:
        articles = (await plain.get("/articles")).json()["articles"]
        users = (await plain.get("/users")).json()["users"]
        comments = [
            comment
            for article in articles
            for comment in (await plain.get(f"/articles/{article['slug']}/comments")).json()["comments"]
        ]
    return {"articles": articles, "comments": comments, "users": users}


async def planned_run(
    client: httpx.AsyncClient, catalogue: Catalogue, url: str, operation: str
) -> tuple[dict[str, Any], list[BindingResult]]:
    """Plan one valid request of ``operation``, resolve it against the SUT, then undo what it created
    (the last created first), as a run's cleanup phase does."""
    plan = plan_for_operation(operation, catalogue, environment={}, secret_names=(), seed=3)
    assert validate_plan(plan, catalogue, policy(url)) == []
    results: list[BindingResult] = []

    async def collect(result: BindingResult) -> None:
        results.append(result)

    try:
        data = await DataResolver(
            client, catalogue, base_url=url, policy=policy(url), environment={}, secrets={}, seed=3
        ).resolve(plan, done={}, on_result=collect)
    finally:
        for result in reversed(results):
            if result.undo is not None:
                outcome = await perform_undo(client, result.undo, policy(url), timeout_s=5)
                assert outcome.status in ("done", "gone"), outcome
    return data, results


async def test_an_enveloped_resource_is_created_and_undone_by_its_slug(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    data, results = await planned_run(client, catalogue, sut_url, "CreateArticle")
    slug = data["request"]["article"]["slug"]
    [created] = results
    assert created.status == "passed"
    assert created.undo is not None
    assert created.undo.method == "DELETE"
    assert created.undo.url == f"{sut_url}/articles/{slug}"
    assert await leftovers(client, sut_url) == {"articles": [], "comments": [], "users": []}


@pytest.mark.parametrize(
    ("operation", "created"),
    [
        ("GetArticle", ["article"]),
        ("GetArticleComments", ["article"]),
        ("CreateArticleComment", ["article", "request"]),
        ("DeleteArticleComment", ["article", "comment"]),
        ("GetProfile", ["user"]),
        ("DeleteUser", ["user"]),
        ("LookUpArticle", ["article"]),
    ],
)
async def test_path_parameters_are_linked_to_the_producers_response_fields(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str, operation: str, created: list[str]
) -> None:
    data, results = await planned_run(client, catalogue, sut_url, operation)
    by_name = {result.binding: result for result in results}
    assert all(result.status == "passed" for result in results), [r.error for r in results]
    assert "request" in by_name  # the operation itself answered 2xx: its path found what was created
    assert sorted(name for name, result in by_name.items() if result.undo is not None) == sorted(created)
    if "article" in data:
        slug = data["article"]["article"]["slug"]
        assert f"/{slug}" in str(by_name["request"].request["url"])
    assert await leftovers(client, sut_url) == {"articles": [], "comments": [], "users": []}


async def test_a_nested_resource_is_undone_under_its_parent(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    data, results = await planned_run(client, catalogue, sut_url, "CreateArticleComment")
    by_name = {result.binding: result for result in results}
    slug, comment = data["article"]["article"]["slug"], data["request"]["comment"]["id"]
    undo = by_name["request"].undo
    assert undo is not None
    assert undo.url == f"{sut_url}/articles/{slug}/comments/{comment}"
