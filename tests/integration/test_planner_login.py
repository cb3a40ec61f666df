"""The built-in planner against an application that logs in its own way (tests/integration/login_sut.py):
``{"user": {"email", "password"}}`` in, the token at ``$.user.token`` out, sent as
``Authorization: Token <jwt>``. Given only the user's credentials as secrets, every secured call of every
planned request is authorised; a token that expires is renewed by logging in again; and a real run plans,
authorises, reads and cleans up."""

from __future__ import annotations

import os
import uuid
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
from orchestra.testdata.records import BindingResult, UndoOutcome
from orchestra.testdata.resolver import BindingFailed, DataResolver
from tests.integration.conftest import Harness
from tests.integration.login_sut import TOKEN_USES_VARIABLE

SECRETS = {"email": "reader@example.com", "password": "reader-password-1"}
SECURED = ["CreateArticle", "DeleteArticle", "CreateArticleComment", "DeleteArticleComment", "GetCurrentUser"]


def start_sut(token_uses: int | None = None, module: str = "tests.integration.login_sut") -> DemoProcess:
    """The SUT (the login SUT or one built on it) with one signed-up user (the credentials in SECRETS)."""
    previous = os.environ.pop(TOKEN_USES_VARIABLE, None)
    if token_uses is not None:
        os.environ[TOKEN_USES_VARIABLE] = str(token_uses)
    try:
        process = DemoProcess.start(module=module)
    finally:
        os.environ.pop(TOKEN_USES_VARIABLE, None)
        if previous is not None:
            os.environ[TOKEN_USES_VARIABLE] = previous
    user = {"user": {**SECRETS, "username": "reader"}}
    httpx.post(f"{process.url}/users", json=user).raise_for_status()
    return process


@pytest.fixture(scope="module")
def sut_url() -> Iterator[str]:
    process = start_sut()
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


def policy(url: str) -> EgressPolicy:
    return EgressPolicy.for_environment(url, [], allow_private=True, environment="login")


async def planned_run(
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    url: str,
    operation: str,
    *,
    leftovers: bool = False,
    failing: bool = False,
) -> tuple[list[BindingResult], list[UndoOutcome]]:
    """Plan one request of ``operation`` with the credentials as secrets, resolve it, undo what it made.
    ``failing``: a binding that fails ends the resolve as expected (its results are returned)."""
    plan = plan_for_operation(
        operation, catalogue, environment={}, secret_names=sorted(SECRETS), seed=4, leftovers=leftovers
    )
    assert validate_plan(plan, catalogue, policy(url)) == []
    results: list[BindingResult] = []
    undone: list[UndoOutcome] = []

    async def collect(result: BindingResult) -> None:
        results.append(result)

    resolver = DataResolver(
        client, catalogue, base_url=url, policy=policy(url), environment={}, secrets=SECRETS, seed=4
    )
    try:
        await resolver.resolve(plan, done={}, on_result=collect)
    except BindingFailed:
        if not failing:
            raise
    finally:
        for result in reversed(results):
            if result.undo is not None:
                undone.append(await perform_undo(client, result.undo, policy(url), timeout_s=5))
    return results, undone


async def articles(url: str) -> list[Any]:
    async with httpx.AsyncClient(base_url=url) as plain:
        found: list[Any] = (await plain.get("/articles")).json()["articles"]
        return found


async def test_the_sut_refuses_a_token_not_written_as_its_scheme_says(sut_url: str) -> None:
    async with httpx.AsyncClient(base_url=sut_url) as plain:
        token = (await plain.post("/users/login", json={"user": SECRETS})).json()["user"]["token"]
        assert (await plain.get("/user")).status_code == 403
        assert (await plain.get("/user", headers={"Authorization": f"Bearer {token}"})).status_code == 403
        assert (await plain.get("/user", headers={"Authorization": token})).status_code == 403
        assert (await plain.get("/user", headers={"Authorization": f"Token {token}"})).status_code == 200


@pytest.mark.parametrize("operation", SECURED)
async def test_every_secured_call_of_a_planned_request_is_authorised(
    client: httpx.AsyncClient, catalogue: Catalogue, sut_url: str, operation: str
) -> None:
    results, undone = await planned_run(client, catalogue, sut_url, operation)
    assert [(r.binding, r.status) for r in results if r.status != "passed"] == []
    assert results[0].binding == "auth"
    assert results[0].operation == "Login"
    assert any(result.binding == "request" for result in results)
    for result in results[1:]:
        assert result.request is not None
        assert result.request["headers"]["authorization"].startswith("Token ")
    assert all(outcome.status in ("done", "gone") for outcome in undone), undone
    assert await articles(sut_url) == []


async def test_a_token_that_expires_is_renewed_by_logging_in_again(client: httpx.AsyncClient) -> None:
    process = start_sut(token_uses=1)  # each token serves one secured request
    try:
        async with httpx.AsyncClient() as plain:
            found = build_catalogue((await plain.get(f"{process.url}/openapi.json")).json())
        results, _ = await planned_run(client, found, process.url, "CreateArticleComment")
    finally:
        process.stop()
    sequence = [(result.binding, result.status, result.attempts) for result in results]
    # The article used the first token; the comment got 401, the log-in ran again, the comment was resent.
    assert sequence == [
        ("auth", "passed", 1),
        ("article", "passed", 1),
        ("auth", "passed", 1),
        ("request", "passed", 2),
    ]
    assert results[0].value != results[2].value


async def test_a_run_with_the_users_credentials_as_secrets_is_authorised_throughout(
    api: httpx.AsyncClient, sut_url: str
) -> None:
    harness = Harness(api, sut_url, f"p-{uuid.uuid4().hex[:8]}")
    await harness.setup(secrets=SECRETS)
    response = await api.put(
        f"/projects/{harness.project}/environments/sut/openapi", json={"url": f"{sut_url}/openapi.json"}
    )
    assert response.status_code in (200, 201), response.text
    case = {
        "name": "comment-as-a-signed-in-user",
        "data": {"requires": "a comment on an article", "seed": 5},
        "steps": [
            {
                "name": "who am I",
                "request": {
                    "url": "{{ env.base_url }}/user",
                    "headers": {"Authorization": "Token {{ data.auth.user.token }}"},
                },
                "expect": {"status": 200, "json": {"$.user.email": SECRETS["email"]}},
            }
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    phases = [(step["phase"], step["name"].split(" (")[0], step["status"]) for step in run["steps"]]
    assert [phase for phase in phases if phase[0] == "data"] == [
        ("data", "plan test data", "passed"),
        ("data", "call auth", "passed"),
        ("data", "call article", "passed"),
        ("data", "call comment", "passed"),
    ]
    assert [phase[2] for phase in phases if phase[0] == "cleanup"] == ["passed", "passed"]
    assert await articles(sut_url) == []
