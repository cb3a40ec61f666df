"""The built-in planner undoes what a plan does on an application of the RealWorld shape
(tests/integration/conduit_sut.py), other than by ``DELETE /collection/{id}``: a favourite by unfavouring
on the same path, a follow (of the signed-in user, rather than of a new user nothing deletes) by
unfollowing, an update of the shared signed-in user by writing its previous email and username back; what
nothing undoes (signing a user up) is refused unless the test allows leftovers; and a SUT that keeps
answering 401 costs one more log-in, not one per call. What is left is counted by listing the SUT after the
clean-up, not by trusting what the plan says."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from orchestra.kit.egress_http import guarded_client
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from tests.integration.conftest import Harness
from tests.integration.test_planner_login import SECRETS, planned_run, start_sut

CONDUIT = "tests.integration.conduit_sut"


@pytest.fixture(scope="module")
def sut_url() -> Iterator[str]:
    process = start_sut(module=CONDUIT)
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def catalogue(sut_url: str) -> Catalogue:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sut_url}/openapi.json")
    return build_catalogue(response.json())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with guarded_client() as guarded:
        yield guarded


async def listed(url: str) -> dict[str, Any]:
    """What the SUT holds, as its listings show it: users (with their followers and favourites) and
    articles."""
    async with httpx.AsyncClient(base_url=url) as plain:
        users = (await plain.get("/users")).json()["users"]
        articles = (await plain.get("/articles")).json()["articles"]
    return {"users": sorted(users, key=lambda user: user["username"]), "articles": articles}


async def test_a_favourite_is_undone_by_the_delete_on_its_own_path(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    before = await listed(sut_url)
    results, undone = await planned_run(client, catalogue, sut_url, "CreateArticleFavorite")
    assert [(r.binding, r.status) for r in results] == [
        ("auth", "passed"),
        ("article", "passed"),
        ("request", "passed"),
    ]
    favourite = results[-1]
    assert favourite.value["article"]["favoritesCount"] == 1
    assert favourite.undo is not None
    assert favourite.undo.method == "DELETE"
    assert favourite.undo.url.endswith(f"/articles/{favourite.value['article']['slug']}/favorite")
    assert [outcome.status for outcome in undone] == ["done", "done"]
    assert await listed(sut_url) == before


async def test_an_update_of_the_shared_user_is_written_back_after_the_run(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    before = await listed(sut_url)
    results, undone = await planned_run(client, catalogue, sut_url, "UpdateCurrentUser")
    assert [(r.binding, r.status) for r in results] == [
        ("auth", "passed"),
        ("request_before", "passed"),
        ("request", "passed"),
    ]
    sent = results[-1].request
    assert sent is not None
    changed = results[-1].value["user"]
    assert changed["email"] == SECRETS["email"]  # the log-in's credential is never changed
    assert "email" not in str(sent["body"])
    assert "password" not in str(sent["body"])  # nor a password
    assert [outcome.status for outcome in undone] == ["done"]
    assert await listed(sut_url) == before
    async with httpx.AsyncClient(base_url=sut_url) as plain:  # the shared user still logs in as before
        answer = await plain.post("/users/login", json={"user": SECRETS})
    assert answer.status_code == 200
    assert answer.json()["user"]["username"] == "reader"


async def test_a_follow_is_of_the_signed_in_user_rather_than_of_a_new_one_nothing_deletes(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    before = await listed(sut_url)
    results, undone = await planned_run(client, catalogue, sut_url, "FollowUserByUsername")
    assert [(r.binding, r.status) for r in results] == [("auth", "passed"), ("request", "passed")]
    profile = results[-1].value["profile"]
    assert (profile["username"], profile["following"]) == ("reader", True)
    assert [outcome.status for outcome in undone] == ["done"]  # unfollowed
    assert await listed(sut_url) == before


async def test_a_new_user_nothing_deletes_is_refused_unless_leftovers_are_allowed(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str
) -> None:
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("CreateUser", catalogue, environment={}, secret_names=sorted(SECRETS))
    assert refused.value.reasons == [
        "CreateUser: nothing undoes what it creates (no DELETE of the item it makes or on its own path); "
        "set data.leftovers: true in the test case to allow that"
    ]
    before = await listed(sut_url)
    results, undone = await planned_run(client, catalogue, sut_url, "FollowUserByUsername", leftovers=True)
    assert [(r.binding, r.status) for r in results] == [
        ("auth", "passed"),
        ("user", "passed"),
        ("request", "passed"),
    ]
    assert results[-1].value["profile"]["following"] is True
    assert [outcome.status for outcome in undone] == ["done"]  # the follow; the user is left, as allowed
    after = await listed(sut_url)
    new_users = [user for user in after["users"] if user not in before["users"]]
    assert [user["username"] for user in new_users] == [results[1].value["user"]["username"]]
    assert new_users[0]["followers"] == 0
    assert after["articles"] == before["articles"]


def test_a_log_in_creates_nothing_to_undo(catalogue: Catalogue) -> None:
    plan = plan_for_operation("Login", catalogue, environment={}, secret_names=sorted(SECRETS))
    assert plan.bindings["request"].cleanup is None
    assert not [note for note in plan.notes if "Login" in note and ("undo" in note or "delete" in note)]


async def test_a_sut_that_keeps_answering_401_costs_one_more_log_in_not_one_per_call(
    client: httpx.AsyncClient,
) -> None:
    process = start_sut(token_uses=1, module=CONDUIT)  # each token serves one secured request
    try:
        async with httpx.AsyncClient() as plain:
            found = build_catalogue((await plain.get(f"{process.url}/openapi.json")).json())
        results, undone = await planned_run(client, found, process.url, "DeleteArticleComment", failing=True)
    finally:
        process.stop()
    sequence = [(result.binding, result.status, result.attempts) for result in results]
    assert sequence == [
        ("auth", "passed", 1),
        ("article", "passed", 1),
        ("auth", "passed", 1),  # the comment got 401: one log-in again, and it was sent again
        ("comment", "passed", 2),
        ("request", "failed", 1),  # 401 again: no third log-in
    ]
    comment_undo = results[3].undo
    assert comment_undo is not None  # rendered after the log-in again: with the new token
    assert comment_undo.headers["Authorization"] == f"Token {results[2].value['user']['token']}"
    assert len(undone) == 2


async def conduit_harness(api: httpx.AsyncClient, url: str) -> Harness:
    harness = Harness(api, url, f"p-{uuid.uuid4().hex[:8]}")
    await harness.setup(secrets=SECRETS)
    response = await api.put(
        f"/projects/{harness.project}/environments/sut/openapi", json={"url": f"{url}/openapi.json"}
    )
    assert response.status_code in (200, 201), response.text
    return harness


async def test_a_run_favouring_an_article_leaves_nothing_and_one_needing_a_sign_up_is_refused(
    api: httpx.AsyncClient, sut_url: str
) -> None:
    harness = await conduit_harness(api, sut_url)
    before = await listed(sut_url)
    favourite = {
        "name": "favourite-an-article",
        "data": {"requires": "a favorite", "seed": 3},
        "steps": [
            {"name": "read it", "request": {"url": "{{ env.base_url }}/articles"}, "expect": {"status": 200}}
        ],
    }
    run = await harness.run(favourite)
    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    phases = [(step["phase"], step["name"].split(" (")[0], step["status"]) for step in run["steps"]]
    assert [phase for phase in phases if phase[0] == "data"][1:] == [
        ("data", "call auth", "passed"),
        ("data", "call article", "passed"),
        ("data", "call favorite", "passed"),
    ]
    assert [phase[2] for phase in phases if phase[0] == "cleanup"] == ["passed", "passed"]
    assert await listed(sut_url) == before

    sign_up = {
        "name": "a-new-user",
        "data": {"requires": "a user", "seed": 3},
        "steps": [
            {"name": "noop", "request": {"url": "{{ env.base_url }}/articles"}, "expect": {"status": 200}}
        ],
    }
    refused = await harness.run(sign_up)
    assert refused["status"] == "ERROR", refused
    assert "data.leftovers" in refused["status_reason"], refused["status_reason"]
    assert await listed(sut_url) == before  # refused before anything was sent

    allowed = await harness.run(
        {**sign_up, "name": "a-new-user-allowed", "data": {**sign_up["data"], "leftovers": True}}
    )
    assert allowed["status"] == "PASSED", (allowed["status_reason"], allowed["steps"])
    after = await listed(sut_url)
    assert len(after["users"]) == len(before["users"]) + 1  # left, as the test case allowed
