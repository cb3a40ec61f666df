"""Cookies a SUT sets go back to it within the run that received them — as a browser, Postman or newman
keeps them for one session — and never to another run, of the same project or of another tenant: one HTTP
client sends every run's requests, and it keeps no cookies of its own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.conftest import Harness
from tests.raw_http import raw_http_server


@pytest.fixture
async def cookie_sut() -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1: ``/login?name=N`` sets the cookie ``session=N``; ``/whoami``
    answers the Cookie header it was sent (``{"cookie": …}``)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        target = head.split(" ")[1]
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:] if line)
        }
        extra = ""
        if target.startswith("/login?name="):
            extra = f"Set-Cookie: session={target.split('=', 1)[1]}; Path=/; HttpOnly\r\n"
        body = json.dumps({"cookie": headers.get("cookie", "")}).encode()
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    async with raw_http_server(answer) as url:
        yield url


def whoami(expected: str, **request: Any) -> dict[str, Any]:
    return {
        "request": {"url": "{{ vars.sut }}/whoami", **request},
        "expect": {"json": {"$.cookie": expected}},
    }


async def test_a_cookie_goes_back_within_its_run_and_never_to_another_run(
    harness: Harness, cookie_sut: str
) -> None:
    session = {
        "name": "session",
        "variables": {"sut": cookie_sut},
        "steps": [{"request": {"url": "{{ vars.sut }}/login?name=alice"}}, whoami("session=alice")],
    }
    run = await harness.run(session)
    assert run["status"] == "PASSED", run["status_reason"]

    stranger = {"name": "stranger", "variables": {"sut": cookie_sut}, "steps": [whoami("")]}
    other = await harness.run(stranger)
    assert other["status"] == "PASSED", other["status_reason"]  # alice's session is not sent

    again = await harness.run(session)  # a run of its own: logs in again, its own cookie
    assert again["status"] == "PASSED", again["status_reason"]


async def test_a_cookie_header_the_step_writes_wins_over_the_runs_cookies(
    harness: Harness, cookie_sut: str
) -> None:
    case = {
        "name": "written",
        "variables": {"sut": cookie_sut},
        "steps": [
            {"request": {"url": "{{ vars.sut }}/login?name=alice"}},
            whoami("session=bob", headers={"Cookie": "session=bob"}),
            whoami("session=alice"),
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "PASSED", run["status_reason"]
