"""`orchestra api` and `orchestra executor`: the services of distributed mode, each started on its own and
sharing PostgreSQL (ORCHESTRA_DATABASE_URL) and RabbitMQ (ORCHESTRA_BROKER_URL). Each imports only what it
serves: the executor does not carry the API's app in its memory."""

from __future__ import annotations

import asyncio
import signal

import structlog
from rich.console import Console

from orchestra.cli.usage import UsageError
from orchestra.config import Settings
from orchestra.db import error_text, open_database
from orchestra.executor.health_app import HealthServer
from orchestra.kit.secret_box import open_context_key
from orchestra.migrate import is_at_head
from orchestra.runtime import Runtime

log = structlog.get_logger(__name__)


def require_broker(settings: Settings, command: str) -> None:
    if not settings.broker_url:
        raise UsageError(
            f"orchestra {command} needs RabbitMQ: set ORCHESTRA_BROKER_URL=amqp://user:pass@host:5672/"
        )


async def serve_api(settings: Settings, console: Console) -> None:
    """REST API + scheduler (one leader among the replicas) + data resolver; publishes run ids."""
    from orchestra.app import create_app
    from orchestra.cli import admin_token
    from orchestra.cli.serving import Serving, check_port_free

    require_broker(settings, "api")
    check_port_free(settings.host, settings.port)
    runtime = await Runtime.start(settings, run_scheduler=True, run_executor=False)
    try:
        await admin_token.announce(runtime, settings, console)
        serving = await Serving.start(create_app(settings, runtime), settings.host, settings.port)
        console.print(f"Orchestra API serving on http://{settings.host}:{settings.port} (Ctrl-C to stop)")
        await serving.wait()
    finally:
        await runtime.stop()
        console.print("Orchestra API stopped.")


async def wait_for_schema(settings: Settings, poll_s: float = 1.0) -> None:
    """An executor never migrates: it waits until an API has brought the database to head."""
    db = open_database(settings, open_context_key(settings), pool_size=1)
    try:
        waited = 0.0
        while True:
            try:
                if await is_at_head(db.engine):
                    return
                reason = "migrations not at head"
            except Exception as error:
                reason = f"database unreachable: {error_text(error)}"
            if waited % 10 == 0:
                log.warning("executor.waiting_for_database", reason=reason)
            await asyncio.sleep(poll_s)
            waited += poll_s
    finally:
        await db.close()


async def serve_executor(settings: Settings, console: Console) -> None:
    """A stateless worker: consumes run ids, leases and executes runs; SIGTERM hands its runs back. Its
    health port listens from the start (live; ready once the executor runs)."""
    require_broker(settings, "executor")
    health = HealthServer(metrics_token=settings.metrics_token)
    if settings.executor_health_port:
        try:
            await health.start(settings.host, settings.executor_health_port)
        except OSError as error:
            raise UsageError(
                f"cannot listen on {settings.host}:{settings.executor_health_port}: {error.strerror} "
                "(use --health-port)"
            ) from None
    try:
        await wait_for_schema(settings)
        runtime = await Runtime.start(settings, run_scheduler=False, run_executor=True, migrate=False)
        try:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            health.attach(runtime.readiness, runtime.executor.owner)
            console.print(f"Orchestra executor {runtime.executor.owner} started (Ctrl-C to stop)")
            await stop.wait()
        finally:
            await runtime.stop()
            console.print("Orchestra executor stopped; its runs were handed back.")
    finally:
        await health.close()
