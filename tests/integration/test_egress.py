"""The SSRF guard end to end: runs against environments with and without ``allow_private_network`` and
``allowed_hosts``, the demo SUT's own request log proving that refused requests never arrived; and the
egress fields of the environments API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from orchestra.cli.backends import LocalBackend
from orchestra.environments import service as environments
from orchestra.kit import egress_http
from orchestra.projects import service as projects
from orchestra.runtime import Runtime
from tests.integration.conftest import Harness, assert_problem

LOOPBACK_REFUSED = "does not allow private networks (allow_private_network)"


async def received(demo_url: str, marker: str) -> list[dict[str, Any]]:
    """The requests carrying ``marker`` that the demo SUT received."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        entries: list[dict[str, Any]] = (await client.get(f"{demo_url}/_log")).json()["entries"]
    return [entry for entry in entries if marker in entry["query"]]


async def add_environment(harness: Harness, name: str, **fields: Any) -> dict[str, Any]:
    response = await harness.api.post(
        f"/projects/{harness.project}/environments", json={"name": name, **fields}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def one_step(url: str, **request: Any) -> dict[str, Any]:
    return {
        "name": f"t-{uuid.uuid4().hex[:8]}",
        "steps": [{"name": "call", "request": {"url": url, **request}}],
    }


def refused_step(run: dict[str, Any]) -> str:
    """The run ended in ERROR because its one step was refused; the step's error."""
    assert run["status"] == "ERROR", (run["status"], run["status_reason"])
    step = run["steps"][0]
    assert step["status"] == "error"
    assert step["response"] is None  # nothing was sent, so nothing came back
    error: str = step["error"]
    assert run["status_reason"] == f"step 'call': {error}"
    return error


async def test_a_loopback_sut_is_refused_without_allow_private_network(
    harness: Harness, demo_url: str
) -> None:
    await add_environment(harness, "strict", base_url=demo_url)
    marker = uuid.uuid4().hex
    run = await harness.run(one_step(f"{{{{ env.base_url }}}}/health?marker={marker}"), environment="strict")
    error = refused_step(run)
    assert error == (
        f"request to {demo_url}/health?marker={marker} refused: address 127.0.0.1 is loopback; "
        f"environment 'strict' {LOOPBACK_REFUSED}"
    )
    assert run["steps"][0]["attempts"] == 1
    assert await received(demo_url, marker) == []


async def test_a_refused_step_is_not_retried(harness: Harness, demo_url: str) -> None:
    await add_environment(harness, "strict", base_url=demo_url)
    case = one_step("{{ env.base_url }}/health")
    case["steps"][0]["retry"] = {"attempts": 5, "interval_ms": 1000}
    run = await asyncio.wait_for(harness.run(case, environment="strict"), 4)
    assert LOOPBACK_REFUSED in refused_step(run)
    assert run["steps"][0]["attempts"] == 1


async def test_the_metadata_address_is_refused_even_with_allow_private_network(harness: Harness) -> None:
    # The harness's environment allows private networks, but not this host …
    run = await harness.run(one_step("http://169.254.169.254/latest/meta-data/"))
    assert refused_step(run) == (
        "request to http://169.254.169.254/latest/meta-data/ refused: host '169.254.169.254' is not allowed "
        f"for environment 'sut' (allowed: {urlsplit(harness.base_url).hostname}; add it to allowed_hosts)"
    )
    # … and an environment that names it outright still cannot reach it.
    await add_environment(harness, "cloud", base_url="http://169.254.169.254", allow_private_network=True)
    run = await harness.run(one_step("{{ env.base_url }}/latest/meta-data/"), environment="cloud")
    assert refused_step(run) == (
        "request to http://169.254.169.254/latest/meta-data/ refused: "
        "address 169.254.169.254 (link-local/metadata) is never allowed"
    )


async def test_a_name_resolving_to_loopback_is_refused(harness: Harness, demo_url: str) -> None:
    port = urlsplit(demo_url).port
    await add_environment(harness, "strict", base_url=demo_url, allowed_hosts=["localhost"])
    marker = uuid.uuid4().hex
    run = await harness.run(one_step(f"http://localhost:{port}/health?marker={marker}"), environment="strict")
    error = refused_step(run)
    assert f"(of host 'localhost') is loopback; environment 'strict' {LOOPBACK_REFUSED}" in error
    assert await received(demo_url, marker) == []


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolved by the executor's guard as given here; every other name as the system resolves it."""
    answers: dict[str, list[str]] = {}
    real = egress_http.system_resolve

    async def resolve(host: str, port: int) -> Sequence[str]:
        return answers[host] if host in answers else await real(host, port)

    monkeypatch.setattr(egress_http, "system_resolve", resolve)
    return answers


async def test_a_name_resolving_to_a_private_address_is_refused(
    harness: Harness, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["db.internal.test"] = ["10.0.0.5"]
    await add_environment(harness, "strict", base_url="http://db.internal.test:5000")
    run = await harness.run(one_step("{{ env.base_url }}/x"), environment="strict")
    assert refused_step(run) == (
        "request to http://db.internal.test:5000/x refused: address 10.0.0.5 (of host 'db.internal.test') "
        f"is private; environment 'strict' {LOOPBACK_REFUSED}"
    )


async def test_dns_rebinding_to_the_metadata_address_is_refused(
    harness: Harness, fake_dns: dict[str, list[str]]
) -> None:
    """The answer the connection uses is the answer that was checked: a name that resolves to a public
    address and the metadata address (or rebinds to it) never reaches the latter."""
    fake_dns["rebind.test"] = ["93.184.215.14", "169.254.169.254"]
    await add_environment(harness, "public", base_url="http://rebind.test", allow_private_network=True)
    run = await harness.run(one_step("{{ env.base_url }}/latest/meta-data/"), environment="public")
    assert "address 169.254.169.254 (of host 'rebind.test') (link-local/metadata) is never allowed" in (
        refused_step(run)
    )


@pytest.fixture
async def redirector(demo_url: str) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on 127.0.0.1 that answers every request with a redirect to the demo SUT, named
    ``localhost`` (another host), keeping the path and query; and the requests it received."""
    port = urlsplit(demo_url).port
    requests: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        target = head.split(b" ", 2)[1].decode()
        location = f"http://localhost:{port}{target}"
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", requests
    finally:
        server.close()
        await server.wait_closed()


async def test_a_redirect_to_a_host_that_is_not_allowed_is_refused_at_the_hop(
    harness: Harness, demo_url: str, redirector: tuple[str, list[bytes]]
) -> None:
    url, requests = redirector
    port = urlsplit(demo_url).port
    await add_environment(harness, "hop", base_url=url, allow_private_network=True)
    marker = uuid.uuid4().hex
    case = one_step(f"{{{{ env.base_url }}}}/health?marker={marker}", follow_redirects=True)
    run = await harness.run(case, environment="hop")
    assert refused_step(run) == (
        f"redirect 1 to http://localhost:{port}/health?marker={marker} refused: host 'localhost' is not "
        "allowed for environment 'hop' (allowed: 127.0.0.1; add it to allowed_hosts)"
    )
    assert len(requests) == 1  # the first hop was sent …
    assert await received(demo_url, marker) == []  # … the second never was

    # Allowed, the same redirect is followed to the end.
    response = await harness.api.patch(
        f"/projects/{harness.project}/environments/hop", json={"allowed_hosts": ["localhost"]}
    )
    assert response.status_code == 200, response.text
    run = await harness.run(case, environment="hop")
    assert run["status"] == "PASSED", run["status_reason"]
    assert len(await received(demo_url, marker)) == 1


async def test_a_host_not_in_allowed_hosts_is_refused(harness: Harness) -> None:
    run = await harness.run(one_step("http://api.example.com/x"))
    assert refused_step(run) == (
        "request to http://api.example.com/x refused: host 'api.example.com' is not allowed for environment "
        f"'sut' (allowed: {urlsplit(harness.base_url).hostname}; add it to allowed_hosts)"
    )


async def test_a_host_in_allowed_hosts_is_reached(harness: Harness, demo_url: str) -> None:
    port = urlsplit(demo_url).port
    response = await harness.api.patch(
        f"/projects/{harness.project}/environments/sut", json={"allowed_hosts": ["LOCALHOST"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["allowed_hosts"] == ["localhost"]
    marker = uuid.uuid4().hex
    run = await harness.run(one_step(f"http://localhost:{port}/health?marker={marker}"))
    assert run["status"] == "PASSED", run["status_reason"]
    assert len(await received(demo_url, marker)) == 1


# -- the environments API ------------------------------------------------------------------------------------


async def test_the_egress_fields_are_stored_and_returned(api: httpx.AsyncClient) -> None:
    assert (await api.post("/projects", json={"name": "eg"})).status_code == 201
    url = "/projects/eg/environments"
    created = await api.post(url, json={"name": "plain", "base_url": "https://api.example.com"})
    assert created.status_code == 201, created.text
    assert created.json()["allowed_hosts"] == []
    assert created.json()["allow_private_network"] is False

    body = {
        "name": "full",
        "base_url": "http://127.0.0.1:8080",
        "allowed_hosts": ["Auth.Example.com", "*.cdn.example.com", "auth.example.com", "[::1]", "10.0.0.7"],
        "allow_private_network": True,
    }
    created = await api.post(url, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["allowed_hosts"] == ["auth.example.com", "*.cdn.example.com", "::1", "10.0.0.7"]
    assert created.json()["allow_private_network"] is True

    # PUT keeps what it omits, PATCH changes what it names.
    put = await api.put(f"{url}/full", json={"base_url": "http://127.0.0.1:9090"})
    assert put.status_code == 200, put.text
    assert put.json()["allowed_hosts"] == ["auth.example.com", "*.cdn.example.com", "::1", "10.0.0.7"]
    assert put.json()["allow_private_network"] is True
    patched = await api.patch(f"{url}/full", json={"allow_private_network": False, "allowed_hosts": []})
    assert patched.json()["allowed_hosts"] == []
    assert patched.json()["allow_private_network"] is False
    put = await api.put(
        f"{url}/new",
        json={"base_url": "http://sut:8080", "allowed_hosts": ["db"], "allow_private_network": True},
    )
    assert put.status_code == 201, put.text
    assert (put.json()["allowed_hosts"], put.json()["allow_private_network"]) == (["db"], True)
    got = await api.get(f"{url}/new")
    assert (got.json()["allowed_hosts"], got.json()["allow_private_network"]) == (["db"], True)


@pytest.mark.parametrize(
    ("hosts", "needle"),
    [
        (
            ["https://api.example.com"],
            "allowed_hosts.0: Value error, 'https://api.example.com' must be a host",
        ),
        (
            ["ok.example.com", "api.example.com:8443"],
            "allowed_hosts.1: Value error, 'api.example.com:8443' must",
        ),
        (["api.example.com/v1"], "without scheme, port or path"),
        (["*.com"], "a wildcard must name a domain of two labels or more"),
        (["a b"], "is not a host name"),
        (["0x7f.1"], "an IP address in an unusual form"),
        ([""], "allowed_hosts.0"),
        ("api.example.com", "allowed_hosts: Input should be a valid list"),
        ([f"h{i}.example.com" for i in range(101)], "allowed_hosts: List should have at most 100 items"),
    ],
)
async def test_allowed_hosts_that_are_not_hosts_are_refused_clearly(
    api: httpx.AsyncClient, hosts: Any, needle: str
) -> None:
    assert (await api.post("/projects", json={"name": "eg"})).status_code == 201
    body = {"name": "e", "base_url": "https://api.example.com", "allowed_hosts": hosts}
    assert_problem(await api.post("/projects/eg/environments", json=body), 422, needle)
    put = {key: value for key, value in body.items() if key != "name"}
    assert_problem(await api.put("/projects/eg/environments/e", json=put), 422, needle)
    bad_flag = {"name": "e", "base_url": "https://api.example.com", "allow_private_network": "maybe"}
    assert_problem(await api.post("/projects/eg/environments", json=bad_flag), 422, "allow_private_network")


# -- environments the CLI creates ----------------------------------------------------------------------------


async def test_the_cli_allows_private_networks_for_a_base_url_on_one(
    runtime: Runtime, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["sut"] = ["172.18.0.3"]  # a compose service, say
    fake_dns["api.example.com"] = ["93.184.215.14"]
    backend = LocalBackend(runtime)
    async with runtime.db.transaction(backend.actor.tenant_id) as session:
        await projects.ensure(session, backend.actor, "cli")
    expected = {
        "http://127.0.0.1:8081": True,
        "http://localhost:3000": True,
        "http://sut:8080": True,
        "https://api.example.com": False,
    }
    for index, base_url in enumerate(expected):
        await backend.ensure_environment("cli", f"e{index}", base_url)
    async with runtime.db.transaction(backend.actor.tenant_id) as session:
        found = {
            base_url: (
                await environments.get(session, backend.actor, "cli", f"e{index}")
            ).allow_private_network
            for index, base_url in enumerate(expected)
        }
    assert found == expected
