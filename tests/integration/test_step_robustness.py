"""What a SUT or a test can throw at a step must end as that step's result, never as a lost run."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import pytest

from orchestra.config import Settings
from tests.integration.conftest import Harness
from tests.ports import refused_url
from tests.raw_http import raw_http_server


async def test_odd_characters_in_captured_values_are_stored(harness: Harness) -> None:
    case = {
        "name": "nul capture",
        "steps": [
            {"request": {"url": "{{ env.base_url }}/echo?x=a%00b"}, "capture": {"x": "$.query.x"}},
            {"set": {"y": "{{ x }}!"}},
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "PASSED", run["status_reason"]


async def test_a_request_that_cannot_be_built_is_a_step_error_and_teardown_runs(harness: Harness) -> None:
    case = {
        "name": "bad header",
        "steps": [{"request": {"url": "{{ env.base_url }}/health", "headers": {"X-Name": "José"}}}],
        "teardown": [{"name": "cleanup", "request": {"url": "{{ env.base_url }}/health"}}],
    }
    run = await harness.run(case)
    assert run["status"] == "ERROR"
    assert "cannot build the request: UnicodeEncodeError" in run["status_reason"]
    assert [step["status"] for step in run["steps"]] == ["error", "passed"]


async def test_secrets_are_masked_in_urls_and_teardown_reasons(harness: Harness) -> None:
    await harness.api.patch(
        f"/projects/{harness.project}/environments/sut", json={"secrets": {"odd": "p@ss w0rd!"}}
    )
    case = {
        "name": "odd secret",
        "steps": [
            {
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"pw": "{{ secrets.odd }}"},
                    "form": {"pw": "{{ secrets.odd }}"},
                    "headers": {"Authorization": "Basic dTpwQHNzIHcwcmQh"},
                }
            }
        ],
        "teardown": [{"name": "cleanup", "request": {"url": refused_url() + "/x?t={{ secrets.odd }}"}}],
    }
    run = await harness.run(case)
    stored = json.dumps(run)
    for leaked in ("p@ss w0rd!", "p%40ss+w0rd%21", "p%40ss%20w0rd%21", "p@ss%20w0rd!", "p@ss+w0rd!"):
        assert leaked not in stored
    assert run["status"] == "FAILED"
    assert run["status_reason"].startswith("teardown step 'cleanup': cannot connect")
    assert run["steps"][0]["request"]["headers"]["authorization"] == "Basic ********"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_response_bytes": 1_000_000})


@pytest.fixture
async def gzip_url() -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 sending gzip bodies: /small inflates to 512 KiB, /bomb to 8 MiB."""
    bodies = {b"/small": gzip.compress(b"a" * 512 * 1024), b"/bomb": gzip.compress(b"\0" * 8 * 1024 * 1024)}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        body = bodies[request.split(b" ")[1]]
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    async with raw_http_server(answer) as url:
        yield url


async def test_the_response_limit_counts_decompressed_bytes(harness: Harness, gzip_url: str) -> None:
    small = await harness.run({"name": "small", "steps": [{"request": {"url": f"{gzip_url}/small"}}]})
    assert small["status"] == "PASSED", small["status_reason"]
    assert small["steps"][0]["response"]["body_bytes"] == 512 * 1024
    assert small["steps"][0]["response"]["headers"]["content-encoding"] == "gzip"
    bomb = await harness.run({"name": "bomb", "steps": [{"request": {"url": f"{gzip_url}/bomb"}}]})
    assert bomb["status"] == "ERROR"
    assert "response body is larger than 1000000 bytes" in bomb["status_reason"]
