"""`orchestra up`: everything in one process on embedded defaults, the demo run once, then serve."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from rich.console import Console

from orchestra.app import create_app
from orchestra.cli.backends import LocalBackend
from orchestra.cli.demo_process import DemoProcess
from orchestra.cli.display import print_summary
from orchestra.cli.runner import UsageError, follow_or_cancel
from orchestra.config import Settings
from orchestra.runs.schemas import SuiteRunCreate
from orchestra.runtime import Runtime
from orchestra.testcases.loader import load_paths

DEMO_PROJECT, DEMO_ENVIRONMENT = "examples", "demo"


def examples_dir(settings: Settings) -> Path:
    if settings.examples_dir is not None:
        return settings.examples_dir
    source_tree = Path(__file__).resolve().parents[3] / "examples" / "demo"
    return source_tree if source_tree.is_dir() else Path("examples/demo")


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror} (use --port)") from error


async def load_and_run_demo(runtime: Runtime, demo_url: str, folder: Path, console: Console) -> None:
    loaded = load_paths([folder])
    backend = LocalBackend(runtime)
    await backend.apply(
        DEMO_PROJECT, [case for _, case in loaded.test_cases], [suite for _, suite in loaded.suites]
    )
    await backend.ensure_environment(DEMO_PROJECT, DEMO_ENVIRONMENT, demo_url)
    ids = []
    for _, suite in loaded.suites:
        request = SuiteRunCreate(
            project=DEMO_PROJECT, environment=DEMO_ENVIRONMENT, suite=suite.suite, trigger="manual"
        )
        ids.append(await backend.start_suite_run(request))
    console.print(f"Running the example suite on the demo SUT ({demo_url}) …")
    print_summary(console, await follow_or_cancel(backend, ids, console, poll_s=0.2))


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its shutdown, which would kill us before our own clean-up ran;
    signals are handled in ``serve`` instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, demo: bool, console: Console) -> None:
    check_port_free(settings.host, settings.port)
    console.print(f"Starting Orchestra (data in {settings.data_dir.resolve()}) …")
    runtime = await Runtime.start(settings)
    demo_process: DemoProcess | None = None
    try:
        app = create_app(settings, runtime)
        server = _Server(
            uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="off")
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if serving.done():
            await serving
            return
        url = f"http://{settings.host}:{settings.port}"
        if demo:
            demo_process = await asyncio.to_thread(DemoProcess.start)
            showing = asyncio.create_task(
                load_and_run_demo(runtime, demo_process.url, examples_dir(settings), console)
            )
            await asyncio.wait({showing, serving}, return_when=asyncio.FIRST_COMPLETED)
            if not showing.done():  # stopped (Ctrl-C) while the example suite ran
                showing.cancel()
                await serving
                return
            showing.result()
            console.print(
                f"Demo SUT: {demo_process.url} (environment '{DEMO_ENVIRONMENT}' of project '{DEMO_PROJECT}')"
            )
        console.print(
            f"[bold green]Orchestra is serving on {url}[/] — API docs at {url}/docs — Ctrl-C to stop"
        )
        await serving
    finally:
        if demo_process is not None:
            demo_process.stop()
        await runtime.stop()
        console.print("Orchestra stopped.")
