"""Serve the demo SUT: ``python -m orchestra.demo [--host 127.0.0.1] [--port 8081]``.

Prints ``demo SUT listening on http://HOST:PORT`` once the socket accepts connections (``--port 0``
picks a free port and prints it), then serves until SIGTERM or SIGINT and exits 0.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from types import FrameType

import uvicorn
from fastapi import FastAPI

from orchestra.demo.sut import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


def listening_url(host: str, port: int) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{port}"


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints its URL on stdout once it is actually listening."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or not self.servers:
            return
        listeners = self.servers[0].sockets
        port = listeners[0].getsockname()[1] if listeners else self.config.port
        sys.stdout.write(f"demo SUT listening on {listening_url(self.config.host, port)}\n")
        sys.stdout.flush()


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestra.demo", description="Serve the demo SUT.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to bind, 0 for a free one (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default warning)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, app_factory: Callable[[], FastAPI] = create_app) -> int:
    """Serve the app ``app_factory`` makes (the demo SUT; a test may serve a variant of it)."""
    args = parse_args(argv)
    # uvicorn handles SIGINT/SIGTERM while serving, then re-raises the signal against the handlers that
    # were installed before it started; these turn that (or an early signal) into a clean exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    config = uvicorn.Config(
        app_factory(),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    AnnouncingServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
