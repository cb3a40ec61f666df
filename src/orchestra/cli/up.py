"""`orchestra up`: everything in one process on embedded defaults, the demo run once, then serve."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from orchestra.app import create_app
from orchestra.cli import admin_token
from orchestra.cli.ai_service import EmbeddedAi
from orchestra.cli.backends import LocalBackend
from orchestra.cli.demo_process import DemoProcess
from orchestra.cli.display import print_summary
from orchestra.cli.runner import follow_or_cancel
from orchestra.cli.serving import Serving, check_port_free
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


async def serve(settings: Settings, demo: bool, console: Console) -> None:
    check_port_free(settings.host, settings.port)
    console.print(f"Starting Orchestra (data in {settings.data_dir.resolve()}) …")
    runtime = await Runtime.start(settings)
    demo_process: DemoProcess | None = None
    ai: EmbeddedAi | None = None
    try:
        await admin_token.announce(runtime, settings, console)
        serving = await Serving.start(create_app(settings, runtime), settings.host, settings.port)
        ai = await EmbeddedAi.start(settings, console)
        url = f"http://{settings.host}:{settings.port}"
        if demo:
            demo_process = await asyncio.to_thread(DemoProcess.start)
            showing = asyncio.create_task(
                load_and_run_demo(runtime, demo_process.url, examples_dir(settings), console)
            )
            await asyncio.wait({showing, serving.task}, return_when=asyncio.FIRST_COMPLETED)
            if not showing.done():  # stopped (Ctrl-C) while the example suite ran
                showing.cancel()
                await asyncio.gather(showing, return_exceptions=True)
                await serving.wait()
                return
            showing.result()
            console.print(
                f"Demo SUT: {demo_process.url} (environment '{DEMO_ENVIRONMENT}' of project '{DEMO_PROJECT}')"
            )
        console.print(
            f"[bold green]Orchestra is serving on {url}[/] — API docs at {url}/docs — Ctrl-C to stop"
        )
        await serving.wait()
    finally:
        if demo_process is not None:
            demo_process.stop()
        if ai is not None:
            await ai.stop()
        await runtime.stop()
        console.print("Orchestra stopped.")
