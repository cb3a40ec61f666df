"""`orchestra up`: everything in one process on embedded defaults, the demo run once, then serve."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from orchestra.actor import Actor
from orchestra.ai.app import create_ai_app
from orchestra.app import create_app
from orchestra.cli import admin_token
from orchestra.cli.ai_service import describe_ai, reserve_embedded_ai
from orchestra.cli.backends import LocalBackend
from orchestra.cli.demo_process import DemoProcess
from orchestra.cli.display import print_summary
from orchestra.cli.runner import follow_or_cancel, read_env_defaults
from orchestra.cli.serving import Serving, check_port_free
from orchestra.config import Settings
from orchestra.definitions.loader import load_paths
from orchestra.definitions.projects import ProjectDefinitions
from orchestra.demo.sut_store import DEMO_PASSWORD, DEMO_USERNAME
from orchestra.environments import openapi_service as openapi
from orchestra.environments import service as environments
from orchestra.environments.openapi_schemas import SpecImport
from orchestra.environments.schemas import EnvironmentUpdate
from orchestra.runs.schemas import SuiteRunCreate
from orchestra.runtime import Runtime

DEMO_PROJECT, DEMO_ENVIRONMENT = "examples", "demo"
TEST_DATA_PROJECT = "test-data"  # its own project: the demo suite's "*" means every test of its project
TOUR_PROJECT = "language-tour"  # examples/language-tour: stored with its environment, not run at start


def examples_dir(settings: Settings) -> Path:
    if settings.examples_dir is not None:
        return settings.examples_dir
    source_tree = Path(__file__).resolve().parents[3] / "examples" / "demo"
    return source_tree if source_tree.is_dir() else Path("examples/demo")


async def prepare_demo_test_data(runtime: Runtime, project: str, demo_url: str) -> None:
    """What test data planning needs of the demo environment: the SUT's OpenAPI description and the
    credentials its token operation takes (the password as a secret, so it is never shown or planned)."""
    actor = Actor(tenant_id=runtime.tenant_id)
    async with runtime.db.transaction(actor.tenant_id) as session:
        environment = await environments.get(session, actor, project, DEMO_ENVIRONMENT)
        variables = {**environment.variables, "username": DEMO_USERNAME}
        change = EnvironmentUpdate(variables=variables, secrets={"password": DEMO_PASSWORD})
        await environments.update(session, actor, project, DEMO_ENVIRONMENT, change, runtime.secrets)
    spec = SpecImport(url=f"{demo_url}/openapi.json")
    await openapi.import_spec(
        runtime.db.transactions(actor.tenant_id), actor, project, DEMO_ENVIRONMENT, spec
    )


async def apply_examples(backend: LocalBackend, project: str, folder: Path) -> list[str]:
    """Load and store the folder's test cases and suites; the names of its suites."""
    loaded = load_paths([folder])
    await backend.apply([ProjectDefinitions(project, loaded.test_cases, loaded.suites)])
    return [suite.suite for _, suite in loaded.suites]


async def run_suites(
    backend: LocalBackend, project: str, suites: list[str], console: Console, title: str
) -> None:
    ids = []
    for suite in suites:
        request = SuiteRunCreate(project=project, environment=DEMO_ENVIRONMENT, suite=suite, trigger="manual")
        ids.append(await backend.start_suite_run(request))
    console.print(title)
    print_summary(console, await follow_or_cancel(backend, ids, console, poll_s=0.2))


async def load_and_run_demo(runtime: Runtime, demo_url: str, folder: Path, console: Console) -> None:
    backend = LocalBackend(runtime)
    suites = await apply_examples(backend, DEMO_PROJECT, folder)
    await backend.ensure_environment(DEMO_PROJECT, DEMO_ENVIRONMENT, demo_url)
    title = f"Running the example suite on the demo SUT ({demo_url}) …"
    await run_suites(backend, DEMO_PROJECT, suites, console, title)
    test_data = folder.parent / "test-data"
    if test_data.is_dir():
        suites = await apply_examples(backend, TEST_DATA_PROJECT, test_data)
        await backend.ensure_environment(TEST_DATA_PROJECT, DEMO_ENVIRONMENT, demo_url)
        await prepare_demo_test_data(runtime, TEST_DATA_PROJECT, demo_url)
        title = (
            f"Running the test-data examples (project '{TEST_DATA_PROJECT}': data planned, then cleaned up) …"
        )
        await run_suites(backend, TEST_DATA_PROJECT, suites, console, title)
    tour = folder.parent / "language-tour"
    if tour.is_dir():
        await prepare_language_tour(backend, tour, demo_url)


async def prepare_language_tour(backend: LocalBackend, folder: Path, demo_url: str) -> None:
    """The language tour stored in its project, whose environment 'demo' has what the tour needs (the
    password secret, the request defaults of its env-defaults.yaml), so that `orchestra run examples
    --env demo` runs it too."""
    await apply_examples(backend, TOUR_PROJECT, folder)
    await backend.ensure_environment(TOUR_PROJECT, DEMO_ENVIRONMENT, demo_url)
    await backend.set_secrets(TOUR_PROJECT, DEMO_ENVIRONMENT, {"password": DEMO_PASSWORD})
    defaults = folder / "env-defaults.yaml"
    if defaults.is_file():
        await backend.set_request_defaults(TOUR_PROJECT, DEMO_ENVIRONMENT, read_env_defaults(defaults))


async def serve(settings: Settings, demo: bool, console: Console) -> None:
    check_port_free(settings.host, settings.port)
    console.print(f"Starting Orchestra (data in {settings.data_dir.resolve()}) …")
    settings, ai = reserve_embedded_ai(settings, settings.ai_port)
    demo_process: DemoProcess | None = None
    runtime: Runtime | None = None
    try:
        runtime = await Runtime.start(settings)
        await admin_token.announce(runtime, settings, console)
        serving = await Serving.start(create_app(settings, runtime), settings.host, settings.port)
        if ai is not None:
            await ai.start(create_ai_app(settings))  # it reaches the API just started, over the loopback
        console.print(describe_ai(settings, ai))
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
        if runtime is not None:
            await runtime.stop()
        if ai is not None:
            await ai.stop()
        console.print("Orchestra stopped.")
