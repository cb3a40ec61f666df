"""Serving the ai-service: on its own (`orchestra ai`), beside the API inside `orchestra up`, or inside an
embedded `orchestra run`.

The apps and the server are imported when one is served: an embedded `orchestra run` reserves the port of
its ai-service at start, and serves it only when a test asks for a DataPlan.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from orchestra.cli.usage import UsageError
from orchestra.config import Settings

if TYPE_CHECKING:
    import uvicorn
    from rich.console import Console
    from starlette.types import ASGIApp

    from orchestra.runtime import Runtime

LOOPBACK = "127.0.0.1"


def ai_description(settings: Settings) -> str:
    if settings.ollama_url:
        return f"model {settings.ollama_model} at {settings.ollama_url}"
    return "no model: built-in planner and evidence summaries"


async def serve_ai(settings: Settings, console: Console) -> None:
    """`orchestra ai`: the ai-service alone, until Ctrl-C."""
    from orchestra.ai.app import create_ai_app
    from orchestra.cli.serving import Serving, check_port_free

    check_port_free(settings.host, settings.ai_port)
    serving = await Serving.start(create_ai_app(settings), settings.host, settings.ai_port)
    console.print(
        f"Orchestra ai-service serving on http://{settings.host}:{settings.ai_port} "
        f"({ai_description(settings)}) — Ctrl-C to stop"
    )
    await serving.wait()
    console.print("Orchestra ai-service stopped.")


class EmbeddedAi:
    """An ai-service in this process, on the loopback (never published), without signal handlers of its
    own. ``reserve`` binds its port first, so its URL can be handed to the API and the executor before
    either starts; ``start`` then serves it."""

    def __init__(self, listener: socket.socket, wanted_port: int) -> None:
        self.listener = listener
        self.port: int = listener.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.wanted_port = wanted_port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def reserve(cls, port: int) -> EmbeddedAi:
        """On ``port``, or on a free one when it is taken (or 0)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((LOOPBACK, port))
        except OSError:
            listener.bind((LOOPBACK, 0))
        return cls(listener, port)

    async def start(self, app: ASGIApp) -> None:
        from orchestra.cli.serving import make_server

        server = make_server(app, LOOPBACK, self.port)
        task = asyncio.create_task(server.serve(sockets=[self.listener]))
        async with asyncio.timeout(10):
            while not server.started and not task.done():
                await asyncio.sleep(0.02)
        if task.done():
            await task
            raise UsageError(f"the ai-service could not serve on {self.url}")
        self._server, self._task = server, task

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.gather(self._task, return_exceptions=True)
        self.listener.close()


def reserve_embedded_ai(settings: Settings, port: int) -> tuple[Settings, EmbeddedAi | None]:
    """The settings the API and the executor use, pointed at an embedded ai-service reserved on ``port``
    (0: any free port) — unless ``ai_url`` names a separate one."""
    if settings.ai_url:
        return settings, None
    ai = EmbeddedAi.reserve(port)
    return settings.model_copy(update={"ai_url": ai.url}), ai


def in_process_ai_app(settings: Settings, runtime: Runtime) -> ASGIApp:
    """The ai-service of an embedded `orchestra run`, where no API server listens: it reaches the tool
    endpoints of an API app in this process."""
    import httpx

    from orchestra.ai.app import create_ai_app
    from orchestra.app import create_app

    return create_ai_app(settings, api_transport=httpx.ASGITransport(app=create_app(settings, runtime)))


def describe_ai(settings: Settings, ai: EmbeddedAi | None) -> str:
    if ai is None:
        return f"ai-service: {settings.ai_url} (external)"
    moved = f"; port {ai.wanted_port} is taken" if ai.wanted_port not in (0, ai.port) else ""
    return f"ai-service on {ai.url} ({ai_description(settings)}{moved})"
