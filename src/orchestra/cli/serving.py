"""Serving an ASGI app until SIGINT/SIGTERM, with our own clean-up running before the process exits."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp

from orchestra.cli.http_protocol import MAX_HEADER_BYTES, OrchestraH11Protocol
from orchestra.cli.usage import UsageError


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its shutdown, which would kill us before our own clean-up ran;
    signals are handled by ``Serving`` instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server with Orchestra's HTTP limits (see ``http_protocol``); ``serve()`` runs it."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        http=OrchestraH11Protocol,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    return _Server(config)


@contextlib.asynccontextmanager
async def served_here(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, sockets: list[socket.socket] | None = None
) -> AsyncIterator[int]:
    """``app`` served in this event loop while the block runs (tests, benchmarks), on ``port`` (0: a free
    one) or on the given listening ``sockets``; yields the port it listens on. A server that cannot start
    within 10 s raises."""
    server = make_server(app, host, port)
    task = asyncio.create_task(server.serve(sockets=sockets))
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                await task
                raise RuntimeError(f"could not serve on {host}:{port}")
            await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror} (use --port)") from error


class Serving:
    """``await Serving.start(app, host, port)``, then ``await serving.wait()`` until a stop signal."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task

    @classmethod
    async def start(cls, app: ASGIApp, host: str, port: int) -> Serving:
        server = make_server(app, host, port)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, cls._stop_on_signal, server)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if task.done():
            await task
            raise UsageError(f"could not serve on {host}:{port}")
        return cls(server, task)

    @staticmethod
    def _stop_on_signal(server: uvicorn.Server) -> None:
        server.should_exit = True

    def stop(self) -> None:
        self.server.should_exit = True

    async def wait(self) -> None:
        await self.task
