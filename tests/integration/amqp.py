"""Helpers for tests against a real RabbitMQ, for the broker tests and the chaos tests: the URL fixture, a
throwaway queue per test, a raw aio-pika channel to look behind the broker's back, outages through a TCP proxy
(``amqp_proxy``), and server-side connection kills with rabbitmqctl (of named connections only: other test
sessions may use the same RabbitMQ).

Which RabbitMQ: ``ORCHESTRA_TEST_AMQP_URL`` when set (CI sets it; unreachable is a failure), else the local
one at ``amqp://guest:guest@127.0.0.1:5672/`` when it answers, else none and the tests are skipped, the
summary says how many and why. ``ORCHESTRA_TEST_AMQP_URL=off`` skips them whatever runs locally.

Import the fixtures explicitly (``from tests.integration.amqp import amqp_queue, amqp_url  # noqa: F401``)
and add ``# ruff: noqa: F811`` to the test module, since each test parameter redefines an imported fixture.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from orchestra.broker.rabbitmq import redact_url

AMQP_URL_VARIABLE = "ORCHESTRA_TEST_AMQP_URL"
LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
SKIPPED = "RabbitMQ: "  # how the skip reasons of the RabbitMQ tests start (the summary counts them)
_RABBITMQCTL_TIMEOUT_S = 60.0


def configured_amqp_url() -> str | None:
    """``ORCHESTRA_TEST_AMQP_URL`` (None when unset or empty; "off" when the tests are turned off)."""
    return os.environ.get(AMQP_URL_VARIABLE, "").strip() or None


async def connection_problem(url: str, timeout_s: float) -> str | None:
    """Why no AMQP connection to ``url`` can be made (None: it can)."""
    try:
        async with asyncio.timeout(timeout_s):
            connection = await aio_pika.connect(url)
            await connection.close()
    except Exception as error:
        return f"{type(error).__name__}: {error}".rstrip(": ")
    return None


@pytest.fixture(scope="session")
async def amqp_url() -> str:
    """The RabbitMQ to test against: the configured one (a failure when unreachable: CI sets it), else the
    local one when it answers, else skipped with the reason."""
    configured = configured_amqp_url()
    if configured == "off":
        pytest.skip(f"{SKIPPED}turned off ({AMQP_URL_VARIABLE}=off)")
    url = configured or LOCAL_AMQP_URL
    problem = await connection_problem(url, timeout_s=10 if configured else 5)
    if problem is None:
        return url
    if configured:
        pytest.fail(
            f"{AMQP_URL_VARIABLE} is set but RabbitMQ at {redact_url(url)} is unreachable: {problem}",
            pytrace=False,
        )
    pytest.skip(
        f"{SKIPPED}{AMQP_URL_VARIABLE} is not set and no RabbitMQ answers at {redact_url(url)} ({problem}); "
        f"start one there or set {AMQP_URL_VARIABLE}=amqp://USER:PASSWORD@HOST:5672/ to run them"
    )


def rabbitmq_summary(stats: dict[str, list[Any]]) -> str | None:
    """One line for the end of the session: how many RabbitMQ tests ran, against which broker, or how many
    were skipped and why (the tests are marked ``rabbitmq`` at collection)."""
    ran: set[str] = set()
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in stats.get(outcome, []):
            if "rabbitmq" not in getattr(report, "keywords", {}):
                continue
            if report.skipped:
                longrepr = report.longrepr
                reason = str(longrepr[2] if isinstance(longrepr, tuple | list) else longrepr)
                skipped[report.nodeid] = reason.removeprefix("Skipped: ")
            elif report.failed and report.when == "setup":
                failed[report.nodeid] = str(report.longrepr)
            elif report.when == "call":
                ran.add(report.nodeid)
    broker = [reason for reason in skipped.values() if reason.startswith(SKIPPED)]
    if broker:
        return f"RabbitMQ tests: {len(broker)} skipped — {broker[0].removeprefix(SKIPPED)}"
    configured = configured_amqp_url()
    unreachable = [
        line for text in failed.values() for line in text.splitlines() if line.startswith(AMQP_URL_VARIABLE)
    ]
    if unreachable:
        return f"RabbitMQ tests: {len(unreachable)} failed to start — {unreachable[0]}"
    if not ran:
        return None
    where = (
        f"{redact_url(configured)} ({AMQP_URL_VARIABLE})"
        if configured
        else f"{redact_url(LOCAL_AMQP_URL)} (found locally; {AMQP_URL_VARIABLE} names another, =off: none)"
    )
    return f"RabbitMQ tests: {len(ran)} ran against {where}"


@pytest.fixture
async def amqp_queue(amqp_url: str) -> AsyncIterator[str]:
    """A queue name of this test's own; the queue is deleted at the end whatever the test did with it."""
    name = unique_queue_name()
    yield name
    await delete_queue(amqp_url, name)


@pytest.fixture
async def amqp_proxy(amqp_url: str) -> AsyncIterator[OutageProxy]:
    """A TCP proxy in front of the test RabbitMQ that a test can take down and bring back."""
    proxy = OutageProxy(amqp_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


class OutageProxy:
    """Forwards TCP to RabbitMQ. ``cut()`` drops every connection, and new ones at once, until ``restore()``:
    an outage that touches only the clients behind this proxy (unlike rabbitmqctl, which needs root)."""

    def __init__(self, amqp_url: str) -> None:
        parts = urlsplit(amqp_url)
        self._amqp_url = amqp_url
        self._target = (parts.hostname or "localhost", parts.port or 5672)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.up = True

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    def url(self, **query: str) -> str:
        """The RabbitMQ URL, through this proxy, with extra query parameters (e.g. reconnect_interval)."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(self._amqp_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
        pairs = [*parse_qsl(parts.query), *query.items()]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs)))

    def cut(self) -> None:
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        writers = [client_writer]
        self._writers.add(client_writer)
        try:
            if self.up:
                server_reader, server_writer = await asyncio.open_connection(*self._target)
                writers.append(server_writer)
                self._writers.add(server_writer)
                await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))
        except OSError:
            pass
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.transport.abort()
            self._handlers.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until either side goes away, then drop both directions."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()


def unique_queue_name() -> str:
    return f"orchestra.test.{uuid.uuid4().hex}"


def with_connection_name(url: str, name: str) -> str:
    """The URL with a connection name RabbitMQ shows (and ``kill_connections`` finds)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("name", name)])))


@asynccontextmanager
async def raw_channel(url: str) -> AsyncIterator[AbstractChannel]:
    """A plain (not robust) aio-pika channel on a connection of its own, closed on exit."""
    connection = await aio_pika.connect(url, timeout=10)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


async def delete_queue(url: str, name: str) -> None:
    async with raw_channel(url) as channel:
        await channel.queue_delete(name, if_unused=False, if_empty=False)


async def ready_count(url: str, name: str) -> int:
    """Messages in the queue that no consumer holds (un-acked deliveries are not counted)."""
    async with raw_channel(url) as channel:
        queue = await channel.declare_queue(name, passive=True)
        count = queue.declaration_result.message_count
        assert count is not None
        return count


async def publish_raw(url: str, name: str, body: bytes) -> None:
    async with raw_channel(url) as channel:
        await channel.default_exchange.publish(aio_pika.Message(body), routing_key=name)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0, what: str = "") -> None:
    """Poll ``check`` until it holds (for states that send no event), failing after ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await check():
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"not within {timeout_s:g} s: {what or check}")


def rabbitmqctl_available() -> bool:
    return shutil.which("rabbitmqctl") is not None


def _rabbitmqctl(*args: str) -> str:
    result = subprocess.run(
        ["rabbitmqctl", "-q", *args],
        capture_output=True,
        text=True,
        timeout=_RABBITMQCTL_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def connection_pids(name: str) -> list[str]:
    """Server-side ids of the open connections with this connection name."""
    listing = _rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
    needle = f'{{"connection_name",{json.dumps(name)}}}'
    return [line.split("\t", 1)[0] for line in listing.splitlines() if needle in line]


async def kill_connections(name: str, reason: str = "test") -> int:
    """Close, from the server side, every connection with this name (and no one else's); how many."""
    pids = await asyncio.to_thread(connection_pids, name)
    for pid in pids:
        await asyncio.to_thread(_rabbitmqctl, "close_connection", pid, reason)
    return len(pids)
