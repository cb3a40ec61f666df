"""``send``: what a request gets back whichever way it goes (straight to the transport, or through the
client when its redirects are followed)."""

from __future__ import annotations

import httpx
import pytest

from orchestra.kit import egress
from orchestra.steps.http_send import ResponseTooLarge, send

POLICY = egress.EgressPolicy(hosts=("sut.example",), environment="staging")


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler, headers={"user-agent": "orchestra-test"})


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/moved":
        return httpx.Response(303, headers={"location": "/target"})
    if request.url.path == "/down":
        raise httpx.ConnectError("connection refused")
    if request.url.path == "/big":
        return httpx.Response(200, content=b"x" * 100)
    return httpx.Response(200, json={"method": request.method, "path": request.url.path})


async def _send(path: str, *, follow: bool, method: str = "POST") -> tuple[httpx.Request, httpx.Response]:
    async with _client(httpx.MockTransport(_answer)) as client:
        request = client.build_request(method, f"http://sut.example{path}", json={"a": 1})
        with egress.applying(POLICY):
            response, elapsed_ms = await send(
                client, request, timeout_ms=1000, max_bytes=50, follow_redirects=follow
            )
        assert elapsed_ms >= 0
        return request, response


async def test_a_request_not_following_redirects_gets_its_response_read_with_its_request() -> None:
    request, response = await _send("/items", follow=False)
    assert response.request is request
    assert response.json() == {"method": "POST", "path": "/items"}
    assert response.is_closed  # read whole: its connection went back to the pool
    assert request.headers["user-agent"] == "orchestra-test"  # the client's own headers are still sent


async def test_a_redirect_not_followed_is_the_answer() -> None:
    _, response = await _send("/moved", follow=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/target"


async def test_a_followed_redirect_changes_the_method_as_the_client_does() -> None:
    request, response = await _send("/moved", follow=True)
    assert response.json() == {"method": "GET", "path": "/target"}  # 303: the next hop is a GET
    assert response.request is not request


@pytest.mark.parametrize("follow", [False, True])
async def test_a_transport_error_names_its_request(follow: bool) -> None:
    with pytest.raises(httpx.ConnectError) as caught:
        await _send("/down", follow=follow)
    assert caught.value.request.url.path == "/down"


@pytest.mark.parametrize("follow", [False, True])
async def test_a_body_over_the_limit_is_refused(follow: bool) -> None:
    with pytest.raises(ResponseTooLarge, match="larger than 50 bytes"):
        await _send("/big", follow=follow)


async def test_a_request_with_no_egress_policy_is_refused() -> None:
    async with _client(httpx.MockTransport(_answer)) as client:
        request = client.build_request("GET", "http://sut.example/items")
        with pytest.raises(egress.EgressRefused):
            await send(client, request, timeout_ms=1000, max_bytes=50)
