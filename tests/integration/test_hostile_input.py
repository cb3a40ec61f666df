"""Hostile input to every part of the API: a clear 4xx problem, never a 500, and nothing stored or changed.

Run-specific cases (malformed bodies, oversized bodies, unknown targets) are in test_runs_api_input.py; the
YAML loader's own guards are unit-tested in tests/unit. The last tests talk to a real uvicorn server, since
header limits and raw bytes in the request target are handled there, before the app sees anything.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from orchestra.cli.http_protocol import MAX_HEADER_BYTES
from orchestra.definitions.loader import MAX_DEPTH as MAX_YAML_DEPTH
from orchestra.definitions.loader import parse_document
from orchestra.kit.json_guard import MAX_JSON_DEPTH
from tests.integration.conftest import assert_problem

JSON = {"content-type": "application/json"}
PROJECT = "hostile"
CASE = {"name": "t", "steps": [{"request": {"url": "{{ env.base_url }}/x"}}]}


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """One of everything, so updates have something to (not) change."""
    for method, url, body in [
        ("POST", "/projects", {"name": PROJECT, "description": "before"}),
        ("POST", f"/projects/{PROJECT}/environments", {"name": "e", "base_url": "http://127.0.0.1:9"}),
        (
            "POST",
            f"/projects/{PROJECT}/apply",
            {"test_cases": [CASE], "suites": [{"suite": "s", "tests": ["t"]}]},
        ),
        (
            "POST",
            f"/projects/{PROJECT}/schedules",
            {"name": "nightly", "suite": "s", "environment": "e", "cron": "0 3 * * *", "enabled": False},
        ),
    ]:
        response = await api.request(method, url, json=body)
        assert response.status_code in (200, 201), response.text
    return api


async def snapshot(api: httpx.AsyncClient) -> dict[str, Any]:
    """Everything a client can read back (the audit log aside: refusals may well be audited)."""
    state: dict[str, Any] = {}
    for url in [
        "/projects",
        f"/projects/{PROJECT}",
        f"/projects/{PROJECT}/environments",
        f"/projects/{PROJECT}/test-cases",
        f"/projects/{PROJECT}/test-cases/t/versions",
        f"/projects/{PROJECT}/suites",
        f"/projects/{PROJECT}/schedules",
        "/runs",
        "/suite-runs",
        "/limits",
        "/tenant",
    ]:
        response = await api.get(url)
        state[url] = response.status_code, response.json()
    return state


def nested(depth: int, leaf: str = "1") -> str:
    """``depth`` levels of objects and arrays, alternating."""
    text = leaf
    for level in range(depth):
        text = f'{{"k":{text}}}' if level % 2 else f"[{text}]"
    return text


# Every kind of write, with a body that is valid JSON where the hostile part goes in place of ``{}``.
WRITES = [
    ("POST", "/projects", '{"name": "new", "description": {}}'),
    ("PATCH", f"/projects/{PROJECT}", '{"description": {}}'),
    (
        "POST",
        f"/projects/{PROJECT}/environments",
        '{"name": "e2", "base_url": "http://x", "variables": {"v": {}}}',
    ),
    ("PATCH", f"/projects/{PROJECT}/environments/e", '{"variables": {"v": {}}}'),
    ("PUT", f"/projects/{PROJECT}/test-cases/t", '{"name": "t", "steps": [{"set": {"v": {}}}]}'),
    ("POST", f"/projects/{PROJECT}/apply", '{"test_cases": [{"name": "u", "steps": [{"set": {"v": {}}}]}]}'),
    ("PUT", f"/projects/{PROJECT}/suites/s", '{"suite": "s", "tests": ["t"], "variables": {"v": {}}}'),
    ("PATCH", f"/projects/{PROJECT}/schedules/nightly", '{"variables": {"v": {}}}'),
    ("POST", "/runs", '{"project": "hostile", "environment": "e", "test_case": "t", "variables": {"v": {}}}'),
    (
        "POST",
        "/suite-runs",
        '{"project": "hostile", "environment": "e", "suite": "s", "variables": {"v": {}}}',
    ),
    ("PUT", "/limits", '{"max_active_runs": {}}'),
    ("PATCH", "/tenant", '{"weight": {}}'),
]


async def send_all(api: httpx.AsyncClient, hostile: str | bytes, status: int, needle: str) -> None:
    for method, url, template in WRITES:
        body = template.encode().replace(b"{}", hostile if isinstance(hostile, bytes) else hostile.encode())
        response = await api.request(method, url, content=body, headers=JSON)
        assert_problem(response, status, needle)


async def test_deeply_nested_json_is_400_everywhere_and_stores_nothing(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    # 100,000 levels made Python's json raise RecursionError; 300 parsed but broke pydantic's serialiser.
    for hostile in ["[" * 100_000, "[" * 50_000 + "]" * 50_000, nested(300), nested(MAX_JSON_DEPTH)]:
        await send_all(seeded, hostile, 400, f"nested deeper than {MAX_JSON_DEPTH} levels")
    assert_problem(
        await seeded.post("/projects", content=b"[" * 1_000_000, headers=JSON), 400, "nested deeper"
    )
    assert await snapshot(seeded) == before


async def test_nesting_just_within_the_limit_is_stored_and_read_back(seeded: httpx.AsyncClient) -> None:
    deepest = json.loads(nested(MAX_JSON_DEPTH - 6))  # the environment body wraps it in 6 more levels
    response = await seeded.patch(
        f"/projects/{PROJECT}/environments/e", json={"variables": {"v": [[[[deepest]]]]}}
    )
    assert response.status_code == 200, response.text
    read = await seeded.get(f"/projects/{PROJECT}/environments/e")
    assert read.json()["variables"]["v"] == [[[[deepest]]]]
    # Brackets inside strings are text, not nesting.
    response = await seeded.patch(f"/projects/{PROJECT}", json={"description": "[" * 10_000})
    assert response.status_code == 200, response.text


async def test_the_deepest_yaml_definition_goes_through_apply(seeded: httpx.AsyncClient) -> None:
    """What the loader accepts from a file, ``orchestra apply --server`` can send: the JSON limit is above
    the YAML one plus the two levels of the apply body."""
    levels = MAX_YAML_DEPTH - 5  # name/steps/[0]/set/v take the first levels
    text = "name: deep\nsteps:\n  - set:\n      v: " + "[" * levels + "1" + "]" * levels + "\n"
    definition = parse_document(text, "deep.yaml")
    assert definition is not None
    body = {"test_cases": [definition.model_dump(mode="json", by_alias=True, exclude_unset=True)]}
    response = await seeded.post(f"/projects/{PROJECT}/apply", json=body)
    assert response.status_code == 200, response.text
    assert (await seeded.get(f"/projects/{PROJECT}/test-cases/deep")).status_code == 200


async def test_duplicate_keys_are_422_and_change_nothing(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    await send_all(seeded, '{"a": 1, "a": 2}', 422, "the key 'a' twice")
    response = await seeded.post("/projects", content=b'{"name": "x", "name": "y"}', headers=JSON)
    assert_problem(response, 422, "the key 'name' twice")
    assert await snapshot(seeded) == before


async def test_numbers_too_large_are_4xx_not_database_errors(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    await send_all(seeded, "1" * 5000, 400, "4300 digits")
    for number in (2**31, 2**63, 10**40, -(2**63) - 1):
        for method, url, body in [
            ("POST", "/runs", {"project": PROJECT, "environment": "e", "test_case": "t", "priority": number}),
            (
                "POST",
                "/suite-runs",
                {"project": PROJECT, "environment": "e", "suite": "s", "parallelism": number},
            ),
            ("PUT", "/limits", {"max_active_runs": number}),
            ("PATCH", "/tenant", {"weight": number}),
            ("PATCH", f"/projects/{PROJECT}", {"max_active_runs": number}),
            ("PATCH", f"/projects/{PROJECT}/environments/e", {"max_active_runs": number}),
            ("PATCH", f"/projects/{PROJECT}/schedules/nightly", {"priority": number}),
            # Stored in the definition, then copied to an integer column by every suite run.
            ("PUT", f"/projects/{PROJECT}/suites/s", {"suite": "s", "tests": ["t"], "parallelism": number}),
        ]:
            assert_problem(await seeded.request(method, url, json=body), 422, "than or equal")
        assert_problem(
            await seeded.get(f"/projects/{PROJECT}/test-cases/t/versions/{number}"), 422, "version"
        )
        assert_problem(
            await seeded.get(f"/projects/{PROJECT}/schedules/nightly/next?count={number}"), 422, "count"
        )
    assert await snapshot(seeded) == before


async def test_page_parameters_out_of_range_are_422(seeded: httpx.AsyncClient) -> None:
    lists = ["/projects", f"/projects/{PROJECT}/environments", f"/projects/{PROJECT}/test-cases", "/runs"]
    for url in [*lists, "/suite-runs", f"/projects/{PROJECT}/suites", f"/projects/{PROJECT}/schedules"]:
        for params in [{"limit": -1}, {"limit": 0}, {"limit": 501}, {"limit": 10**30}, {"limit": "1e3"}]:
            assert_problem(await seeded.get(url, params=params), 422, "limit")
        for params in [{"offset": -1}, {"offset": 10**30}, {"offset": "NaN"}]:
            assert_problem(await seeded.get(url, params=params), 422, "offset")


async def test_text_postgresql_cannot_store_is_422(seeded: httpx.AsyncClient) -> None:
    """Python's JSON gives lone surrogates and NUL characters; PostgreSQL's text and jsonb refuse both."""
    before = await snapshot(seeded)
    await send_all(seeded, '"\\ud800"', 422, "")
    await send_all(seeded, '"a\\u0000b"', 422, "")
    response = await seeded.post("/projects", content=b'{"name": "a\\udfff"}', headers=JSON)
    assert_problem(response, 422, "lone surrogate")
    response = await seeded.patch(f"/projects/{PROJECT}", json={"description": "a\u0000b"})
    assert_problem(response, 422, "NUL character")
    response = await seeded.put(
        f"/projects/{PROJECT}/test-cases/t",
        content=b'{"name": "t", "steps": [{"set": {"v": "\\ud800"}}]}',
        headers=JSON,
    )
    assert_problem(response, 422, "lone surrogate")
    assert await snapshot(seeded) == before


async def test_invalid_utf8_and_nul_in_urls_and_bodies(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    for body in [b"\xff\xfe\x00", b'{"name": "\xc3\x28"}', b'{"name": "\xff"}']:
        assert_problem(await seeded.post("/projects", content=body, headers=JSON), 400, "UTF-8")
        apply = await seeded.post(f"/projects/{PROJECT}/apply", content=body, headers=JSON)
        assert_problem(apply, 400, "UTF-8")
    # An encoded surrogate (U+D800 as UTF-8) is decoded by Python's json ('surrogatepass'), then refused.
    encoded_surrogate = b'{"name": "\xed\xa0\x80"}'
    response = await seeded.post("/projects", content=encoded_surrogate, headers=JSON)
    assert_problem(response, 422, "lone surrogate")
    for path in ["%ff%fe", "a%00b", "%ed%a0%80", "x" * 10_000]:
        assert_problem(await seeded.get(f"/projects/{path}"), 404, "does not exist")
        assert_problem(await seeded.get(f"/projects/{PROJECT}/environments/{path}"), 404, "does not exist")
        assert_problem(await seeded.get(f"/projects/{PROJECT}/test-cases/{path}"), 404, "does not exist")
        assert_problem(await seeded.delete(f"/projects/{PROJECT}/suites/{path}"), 404, "does not exist")
        assert_problem(
            await seeded.patch(f"/projects/{path}", json={"description": "x"}), 404, "does not exist"
        )
    for query in ["project=%ff", "project=a%00b", "status=%ff", "suite_run=%00"]:
        response = await seeded.get(f"/runs?{query}")
        assert response.status_code in (404, 422), response.text
        assert_problem(response, response.status_code)
    response = await seeded.get(f"/projects/{PROJECT}/test-cases?tag=%ff%00")
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0
    assert await snapshot(seeded) == before


async def test_overlong_names_are_422(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    long = "n" * 201
    for method, url, body, needle in [
        ("POST", "/projects", {"name": long}, "name"),
        ("POST", f"/projects/{PROJECT}/environments", {"name": long, "base_url": "http://x"}, "name"),
        ("PUT", f"/projects/{PROJECT}/test-cases/{long}", {**CASE, "name": long}, "name"),
        ("POST", f"/projects/{PROJECT}/apply", {"test_cases": [{**CASE, "name": long}]}, "name"),
        ("PUT", f"/projects/{PROJECT}/suites/{long}", {"suite": long, "tests": ["t"]}, "name"),
        ("POST", "/runs", {"project": PROJECT, "environment": "e", "test_case": long}, "test_case"),
        (
            "POST",
            f"/projects/{PROJECT}/schedules",
            {"name": long, "suite": "s", "environment": "e", "cron": "* * * * *"},
            "name",
        ),
        ("POST", f"/projects/{long}/apply", {"test_cases": [CASE]}, "project"),
        ("POST", f"/projects/{PROJECT}%23/apply", {"test_cases": [CASE]}, "invalid project name"),
    ]:
        assert_problem(await seeded.request(method, url, json=body), 422, needle)
    assert_problem(await seeded.get(f"/projects/{PROJECT}/test-cases", params={"tag": long}), 422, "tag")
    assert await snapshot(seeded) == before


async def test_bodies_that_are_not_json_are_415(seeded: httpx.AsyncClient) -> None:
    before = await snapshot(seeded)
    yaml_case = b"name: t\nsteps:\n  - request: {url: http://x}\n"
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "text/yaml",
        None,
    ]:
        headers = {"content-type": content_type} if content_type else {}
        for method, url in [
            ("POST", "/projects"),
            ("PUT", f"/projects/{PROJECT}/test-cases/t"),
            ("POST", f"/projects/{PROJECT}/apply"),
            ("POST", "/runs"),
        ]:
            response = await seeded.request(method, url, content=yaml_case, headers=headers)
            assert_problem(response, 415, "Content-Type: application/json")
    assert await snapshot(seeded) == before


async def test_any_time_is_a_bound_and_what_is_not_a_time_is_422(seeded: httpx.AsyncClient) -> None:
    everything = (await seeded.get("/audit")).json()["total"]
    assert everything > 0
    for since, total in [
        ("9999-12-31T23:59:59-14:00", 0),  # past the year 9999 in UTC
        ("0001-01-01T00:00:00+14:00", everything),  # before the year 1 in UTC
    ]:
        response = await seeded.get("/audit", params={"since": since})
        assert response.status_code == 200, response.text
        assert response.json()["total"] == total
    for since in ["10000-01-01T00:00:00Z", "yesterday"]:
        assert_problem(await seeded.get("/audit", params={"since": since}), 422)


# --- a real server: header limits and raw bytes are handled by uvicorn/h11, before the app ----------------


async def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library would send these) and read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split(" ")[1]), headers, body


def get(path: str, *headers: bytes) -> bytes:
    lines = [
        b"GET " + path.encode("latin-1") + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Connection: close",
        *headers,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def assert_raw_problem(reply: tuple[int, dict[str, str], bytes], status: int, needle: str) -> None:
    code, headers, body = reply
    assert code == status, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert needle in problem["detail"], problem


async def test_huge_headers_are_431_and_the_server_keeps_serving(
    server_port: int, auth_headers: dict[str, str]
) -> None:
    auth = [f"{name}: {value}".encode() for name, value in auth_headers.items()]
    health = "/api/v1/health/live"
    assert (await raw_exchange(server_port, get(health, *auth)))[0] == 200
    one_huge = get(health, *auth, b"X-Big: " + b"a" * 100_000)
    assert_raw_problem(
        await raw_exchange(server_port, one_huge), 431, f"larger than {MAX_HEADER_BYTES} bytes"
    )
    many = get(health, *auth, *(b"X-H-%d: %s" % (i, b"v" * 40) for i in range(1000)))
    assert_raw_problem(await raw_exchange(server_port, many), 431, "larger than")
    small = get(health, *auth, *(b"X-%d: v" % i for i in range(500)))  # many, but within the limit
    assert (await raw_exchange(server_port, small))[0] == 200
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server_port}/api/v1", headers=auth_headers
    ) as client:
        assert (await client.get("/projects")).status_code == 200


async def test_malformed_requests_are_400_from_the_http_layer(
    server_port: int, auth_headers: dict[str, str]
) -> None:
    auth = [f"{name}: {value}".encode() for name, value in auth_headers.items()]
    # Bytes outside ASCII, or NUL, in the request target or a header: refused by h11 before the app.
    for request in [
        get("/api/v1/projects/\xff\xfe", *auth),
        get("/api/v1/projects?x=\xff", *auth),
        get("/api/v1/projects/a\x00b", *auth),
        get("/api/v1/projects", *auth, b"X-Nul: a\x00b"),
        b"GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello sent to the HTTP port
    ]:
        assert_raw_problem(await raw_exchange(server_port, request), 400, "malformed HTTP request")
    # Bytes h11 lets through (obs-text in a header value, percent-encoded invalid UTF-8) reach the app.
    code, _, body = await raw_exchange(
        server_port, get("/api/v1/projects/%ff%00", *auth, b"X-Latin: \xe9t\xe9")
    )
    assert code == 404, body
    for token in [b"Bearer \xe9\xff", b"Bearer " + b"x" * 20_000, b"\xff", b"Basic "]:
        code, _, body = await raw_exchange(server_port, get("/api/v1/projects", b"Authorization: " + token))
        assert code == 401, body
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server_port}/api/v1", headers=auth_headers
    ) as client:
        assert (await client.get("/projects")).json()["total"] == 0
