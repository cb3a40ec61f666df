"""auth: helpers: what each adds to a request, that a written header wins, that what they send is learnt
for masking, and that an OAuth2 token is asked for once per run (through the egress-guarded send)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy
from orchestra.steps.request_auth import AuthFailed, RunAuth, authenticate, fetch_client_credentials

OAUTH = {"token_url": "http://sut.test/token", "client_id": "app", "client_secret": "s3cret-value"}


async def authenticated(
    auth: dict[str, Any], request: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    learnt: list[str] = []
    request = request if request is not None else {"url": "u", "headers": {}, "query": {}}

    async def no_fetch(settings: Any) -> tuple[str, float | None]:
        raise AssertionError("no token is asked for")

    await authenticate(request, auth, RunAuth(learn=learnt.append), no_fetch)
    return request, learnt


async def test_bearer_basic_and_api_key_add_their_header_or_query_parameter() -> None:
    request, learnt = await authenticated({"bearer": {"token": "tok-123"}})
    assert request["headers"] == {"Authorization": "Bearer tok-123"}
    assert learnt == ["tok-123"]
    request, learnt = await authenticated({"basic": {"username": "ann", "password": "pw-9"}})
    encoded = base64.b64encode(b"ann:pw-9").decode()
    assert request["headers"] == {"Authorization": f"Basic {encoded}"}
    assert learnt == [encoded, "pw-9"]
    request, _ = await authenticated({"api_key": {"name": "X-Api-Key", "value": "key-1", "in": "header"}})
    assert request["headers"] == {"X-Api-Key": "key-1"}
    request, learnt = await authenticated({"api_key": {"name": "key", "value": "key-2", "in": "query"}})
    assert request["query"] == {"key": "key-2"}
    assert request["headers"] == {}
    assert learnt == ["key-2"]


async def test_a_header_written_out_wins_over_the_helper() -> None:
    given = {"url": "u", "headers": {"authorization": "Token mine"}, "query": {}}
    request, _ = await authenticated({"bearer": {"token": "tok-123"}}, given)
    assert request["headers"] == {"authorization": "Token mine"}


async def test_an_oauth2_token_is_asked_for_once_per_run_and_settings() -> None:
    asked: list[dict[str, str]] = []

    async def fetch(settings: Any) -> tuple[str, float | None]:
        asked.append(dict(settings))
        return f"token-{len(asked)}", 3600.0

    learnt: list[str] = []
    run = RunAuth(learn=learnt.append)
    sent = []
    for client_id in ("app", "app", "other", "app"):
        request: dict[str, Any] = {"url": "u", "headers": {}, "query": {}}
        auth = {"oauth2_client_credentials": {**OAUTH, "client_id": client_id, "scope": None}}
        await authenticate(request, auth, run, fetch)
        sent.append(request["headers"]["Authorization"])
    assert sent == ["Bearer token-1", "Bearer token-1", "Bearer token-2", "Bearer token-1"]
    assert [settings["client_id"] for settings in asked] == ["app", "other"]
    assert run.tokens.fetched == 2
    assert "scope" not in asked[0]
    assert {"s3cret-value", "token-1", "token-2"} <= set(learnt)


async def test_a_token_about_to_expire_is_asked_for_again() -> None:
    count = 0

    async def fetch(settings: Any) -> tuple[str, float | None]:
        nonlocal count
        count += 1
        return f"token-{count}", 1.0  # within the margin: already too old to use again

    run = RunAuth()
    for _ in range(2):
        await authenticate({"headers": {}}, {"oauth2_client_credentials": OAUTH}, run, fetch)
    assert count == 2


def token_client(answer: httpx.Response | Exception, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


POLICY = EgressPolicy.for_environment("http://sut.test", [], True)


async def test_the_token_request_is_a_form_post_of_the_client_credentials() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, json={"access_token": "abc-token", "expires_in": 60})
    async with token_client(answer, seen) as client:
        with egress.applying(POLICY):
            token = await fetch_client_credentials(
                client, {**OAUTH, "scope": "read"}, timeout_ms=1000, pace=None
            )
    assert token == ("abc-token", 60.0)
    assert seen[0].method == "POST"
    assert str(seen[0].url) == OAUTH["token_url"]
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert form == {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret-value",
                    "scope": "read"}  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), "status 401"),
        (httpx.Response(200, text="not json"), "has no access_token"),
        (httpx.Response(200, json={"access_token": 5}), "access_token is not text"),
        (httpx.ConnectError("refused"), "cannot connect to http://sut.test/token"),
    ],
)
async def test_a_failing_token_endpoint_is_a_clear_error(answer: Any, message: str) -> None:
    async with token_client(answer, []) as client:
        with egress.applying(POLICY), pytest.raises(AuthFailed, match=message):
            await fetch_client_credentials(client, OAUTH, timeout_ms=1000, pace=None)


async def test_the_token_endpoint_is_subject_to_the_egress_policy() -> None:
    seen: list[httpx.Request] = []
    async with token_client(httpx.Response(200, json={"access_token": "x"}), seen) as client:
        with egress.applying(POLICY), pytest.raises(AuthFailed, match="refused"):
            await fetch_client_credentials(
                client, {**OAUTH, "token_url": "http://elsewhere.test/token"}, timeout_ms=1000, pace=None
            )
    assert seen == []
