"""Serving the ai-service: on its own (`orchestra ai`) or beside the API inside `orchestra up`."""

from __future__ import annotations

import asyncio
import socket

import structlog
import uvicorn
from rich.console import Console

from orchestra.ai.app import create_ai_app
from orchestra.cli.serving import Serving, check_port_free, make_server
from orchestra.config import Settings

log = structlog.get_logger(__name__)


def ai_description(settings: Settings) -> str:
    if settings.ollama_url:
        return f"model {settings.ollama_model} at {settings.ollama_url}"
    return "no model: built-in planner and evidence summaries"


async def serve_ai(settings: Settings, console: Console) -> None:
    """`orchestra ai`: the ai-service alone, until Ctrl-C."""
    check_port_free(settings.host, settings.ai_port)
    serving = await Serving.start(create_ai_app(settings), settings.host, settings.ai_port)
    console.print(
        f"Orchestra ai-service serving on http://{settings.host}:{settings.ai_port} "
        f"({ai_description(settings)}) — Ctrl-C to stop"
    )
    await serving.wait()
    console.print("Orchestra ai-service stopped.")


class EmbeddedAi:
    """The ai-service inside `orchestra up`: served in the same event loop, without signal handlers of its
    own (the API's serving owns Ctrl-C), stopped after the API."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], url: str) -> None:
        self.server = server
        self.task = task
        self.url = url

    @classmethod
    async def start(cls, settings: Settings, console: Console) -> EmbeddedAi | None:
        """None when ``ai_url`` points at a separate ai-service. On ``ai_port``, or on a free port when that
        one is taken (another Orchestra on this machine): the caller hands ``url`` to the API, so it never
        asks another process's ai-service."""
        if settings.ai_url:
            console.print(f"ai-service: {settings.ai_url} (external)")
            return None
        host = "127.0.0.1"  # the API reaches it on the loopback; it is not published
        port = settings.ai_port if _port_free(host, settings.ai_port) else 0
        server = make_server(create_ai_app(settings), host, port)
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.started and not task.done():
                await asyncio.sleep(0.05)
        if task.done():
            log.warning("ai.embedded_start_failed", port=port)
            console.print("[yellow]ai-service not started; the built-in planner is used.[/]")
            return None
        url = f"http://{host}:{server.servers[0].sockets[0].getsockname()[1]}"
        taken = "" if port else f"; port {settings.ai_port} is taken"
        console.print(f"ai-service on {url} ({ai_description(settings)}{taken})")
        return cls(server, task, url)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.gather(self.task, return_exceptions=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
