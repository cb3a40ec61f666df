"""The `orchestra` command. Every command is a thin shell over runner.py, up.py and the services.

Each command imports what it needs when it runs: a long-lived `orchestra executor` does not carry the
client side of `orchestra run` (runner, backends, the API's features) in its memory.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from orchestra import __version__
from orchestra.cli.usage import UsageError
from orchestra.config import Settings
from orchestra.errors import OrchestraError, StartupRefused
from orchestra.kit.logging import configure as configure_logging

if TYPE_CHECKING:
    from orchestra.cli import runner
    from orchestra.cli.backends import Backend
    from orchestra.definitions.loader import LoadedDefinitions
    from orchestra.embedded_pg import EmbeddedPostgres

app = typer.Typer(
    name="orchestra",
    help="Orchestra: API tests as code, run durably and in parallel against a System Under Test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def use_streams() -> None:
    """Make the consoles again for this process's standard streams: a fork of the warm process (cli/warm.py)
    writes to its caller's terminal or pipes, not to the streams the consoles were made for."""
    global console, err_console
    console = Console(highlight=False)
    err_console = Console(stderr=True, highlight=False)


ServerOpt = Annotated[
    str | None, typer.Option("--server", envvar="ORCHESTRA_SERVER", help="URL of a running Orchestra.")
]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="ORCHESTRA_TOKEN", help="API token.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Local data directory (embedded mode).")]
HostOpt = Annotated[
    str | None, typer.Option("--host", help="Address to listen on (default: ORCHESTRA_HOST, else 127.0.0.1).")
]
PortOpt = Annotated[
    int | None,
    typer.Option("--port", min=1, max=65535, help="Port to listen on (default: ORCHESTRA_PORT, else 8000)."),
]


def _settings(**overrides: Any) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = Settings(**values)
    except ValidationError as error:
        from orchestra.cli import runner

        problems = "; ".join(
            f"ORCHESTRA_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            f" (got {item['input']!r})"
            for item in error.errors()
        )
        raise typer.Exit(runner.error_exit(err_console, f"invalid setting: {problems}")) from None
    configure_logging(settings.log_level if overrides.get("verbose") else "warning", settings.log_json)
    return settings


def _version(value: bool) -> None:
    if value:
        console.print(f"orchestra {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Orchestra command line."""


async def _with_backend(
    server: str | None,
    token: str | None,
    settings: Settings,
    work: Callable[[Backend], Awaitable[int]],
    *,
    ai: bool = False,
    embedded_server: EmbeddedPostgres | None = None,
) -> int:
    """``work`` on the server's REST API, or on the embedded engine in this process (with its own
    ai-service on a free loopback port when ``ai``: runs that declare test data ask it for plans; it is
    served when the first of them does, so a run of tests without data never starts it).
    ``embedded_server``: the data directory's PostgreSQL when the command began starting it already."""
    from orchestra.cli.backends import LocalBackend, RemoteBackend

    if server:
        from orchestra.cli.admin_token import token_for

        sent = token_for(server, token, settings)
        remote = RemoteBackend(server, sent.token, sent.describe())
        try:
            await remote.check()
            return await work(remote)
        finally:
            await remote.close()
    from orchestra.cli.ai_service import EmbeddedAi, in_process_ai_app, reserve_embedded_ai
    from orchestra.runtime import Runtime

    embedded_ai: EmbeddedAi | None = None
    if ai:
        settings, embedded_ai = reserve_embedded_ai(settings, 0)
    started: list[Runtime] = []

    async def serve_ai() -> None:
        if embedded_ai is not None:
            await embedded_ai.start(in_process_ai_app(settings, started[0]))

    try:
        # A one-shot command: it runs what it was given, and leaves firing schedules to `orchestra up`.
        runtime = await Runtime.start(
            settings,
            before_first_plan=serve_ai if embedded_ai else None,
            fire_schedules=False,
            embedded_server=embedded_server,
        )
        started.append(runtime)
        try:
            return await work(LocalBackend(runtime))
        finally:
            await runtime.stop()
    finally:
        if embedded_ai is not None:
            await embedded_ai.stop()


_collector_paused = False  # set by the executable's entry point (cli/entry.py)


def _imports_done() -> None:
    """The command's modules are loaded: what they made lives as long as the process, so it is frozen out
    of the collector's generations, and the collector (paused by cli/entry.py meanwhile) runs again."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def _guarded(coroutine: Awaitable[int]) -> int:
    """Run a command; turn every user-facing error into exit code 2 with a one-line (or listed) reason."""
    from orchestra.cli import runner
    from orchestra.cli.backends import BackendError
    from orchestra.definitions.loader import DefinitionError

    _imports_done()
    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except DefinitionError as error:
        err_console.print(f"[red]error:[/] invalid test definition ({len(error.issues)} problem(s)):")
        for issue in error.issues:  # one line each, as written (a program may read them)
            err_console.print(f"  {escape(str(issue))}", highlight=False, soft_wrap=True)
        return runner.EXIT_ERROR
    except (UsageError, BackendError, OrchestraError, StartupRefused) as error:
        return runner.error_exit(err_console, error)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Test-case files, suite files or folders.")],
    server: ServerOpt = None,
    token: TokenOpt = None,
    env: Annotated[
        str | None, typer.Option("--env", help="Environment (of the project) to run against.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Base URL of the system under test.")
    ] = None,
    openapi: Annotated[
        str | None,
        typer.Option(
            "--openapi",
            help="The SUT's OpenAPI description (file or http(s) URL), imported into the environment "
            "first: tests that declare data get it planned from it.",
        ),
    ] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Variable override KEY=VALUE (repeatable).")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            help="Secret of the environment, stored encrypted: NAME=VALUE, or NAME to take the value from "
            "the environment variable NAME (repeatable).",
        ),
    ] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", min=-1000, max=1000, help="Higher runs first.")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Project (default: from the suite or folder).")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")] = None,
    junit_per_step: Annotated[
        bool,
        typer.Option("--junit-per-step", help="In the JUnit report, one <testcase> per step (not per test)."),
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write a self-contained HTML report here (every step, request, response)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="CSV or JSON file of rows: every test case runs once per row, with its values."
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the full result as JSON here.")
    ] = None,
    postman_environment: Annotated[
        Path | None,
        typer.Option("--environment", "-e", help="With a Postman collection: its environment file."),
    ] = None,
    postman_globals: Annotated[
        Path | None, typer.Option("--globals", "-g", help="With a Postman collection: its globals file.")
    ] = None,
    folder: Annotated[
        list[str] | None,
        typer.Option("--folder", help="With a Postman collection: only this folder's requests (repeatable)."),
    ] = None,
    env_defaults: Annotated[
        Path | None,
        typer.Option(
            "--env-defaults",
            help="YAML or JSON file of request defaults (headers, query, auth, timeout_ms) set on the "
            "environment: every request inherits them, under the suite's, the test's and the step's.",
        ),
    ] = None,
    retry_failed: Annotated[
        bool | None,
        typer.Option(
            "--retry-failed/--no-retry-failed",
            help="Run a FAILED test once more (a pass on retry passes, shown as flaky), or never; "
            "default: as the suite or the test case says (retry_failed).",
        ),
    ] = None,
    data_dir: DataDirOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show engine logs.")] = False,
) -> None:
    """Run tests and wait for the verdict: exit 0 all passed, 1 a test failed, 2 the run could not be done.
    A Postman collection (.json) runs as it is, like newman run (see docs/importing.md#postman)."""
    import tempfile

    settings = _settings(data_dir=data_dir, verbose=verbose)
    # The embedded server starts in the background while the engine's modules load and the files are read.
    embedded_server = _embedded_server_early(server, settings)
    try:
        from orchestra.cli import importing, runner

        with tempfile.TemporaryDirectory(prefix="orchestra-collection-") as scratch:
            try:
                paths, converted = importing.collections_as_folders(
                    list(paths),
                    Path(scratch),
                    environment=postman_environment,
                    globals_=postman_globals,
                    folders=folder or [],
                )
            except (UsageError, OrchestraError) as error:
                raise typer.Exit(runner.error_exit(err_console, error)) from None
            found = {s.name: s.value for result in converted for s in result.secrets}
            if converted and not env and not base_url:
                base_url = next((result.base_url for result in converted if result.base_url), None)
            _run(
                paths,
                server,
                token,
                env,
                base_url,
                openapi,
                var,
                secret,
                priority,
                project,
                junit,
                junit_per_step,
                html,
                data,
                env_defaults,
                json_path,
                found,
                settings,
                embedded_server,
                retry_failed=None if retry_failed is None else int(retry_failed),
            )
    finally:
        if embedded_server is not None:
            embedded_server.stop()  # nothing left to stop when the engine ran (it stopped it)


def _embedded_server_early(server: str | None, settings: Settings) -> EmbeddedPostgres | None:
    """The data directory's PostgreSQL, starting in the background (None when the work goes to a server
    or to a configured database)."""
    if server or settings.database_url or settings.migration_database_url:
        return None
    from orchestra.embedded_pg import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.data_dir)
    embedded.start_in_background()
    return embedded


def _run(
    paths: list[Path],
    server: str | None,
    token: str | None,
    env: str | None,
    base_url: str | None,
    openapi: str | None,
    var: list[str] | None,
    secret: list[str] | None,
    priority: int | None,
    project: str | None,
    junit: Path | None,
    junit_per_step: bool,
    html: Path | None,
    data: Path | None,
    env_defaults: Path | None,
    json_path: Path | None,
    found_secrets: dict[str, str],
    settings: Settings,
    embedded_server: EmbeddedPostgres | None,
    *,
    retry_failed: int | None = None,
) -> None:
    from orchestra.cli import runner

    if env and base_url:
        raise typer.Exit(runner.error_exit(err_console, "give either --env or --base-url, not both"))
    if junit_per_step and junit is None:
        raise typer.Exit(runner.error_exit(err_console, "--junit-per-step needs --junit FILE"))
    try:
        options = runner.RunOptions(
            paths=list(paths),
            environment=env,
            base_url=base_url,
            variables=runner.parse_variables(var or []),
            secrets={**found_secrets, **runner.parse_secrets(secret or [], os.environ)},
            priority=priority,
            project=project,
            junit=junit,
            json_path=json_path,
            junit_per_step=junit_per_step,
            html=html,
            data=runner.read_data_file(data) if data is not None else None,
            env_defaults=runner.read_env_defaults(env_defaults) if env_defaults is not None else None,
            openapi=openapi,
            retry_failed=retry_failed,
            poll_s=0.5 if server else 0.2,
        )
    except UsageError as error:
        raise typer.Exit(runner.error_exit(err_console, error)) from None
    # Validate the files before any work: a typo stops the command before the engine starts. What was read
    # is what runs (a long definition is parsed once).
    checked: list[LoadedDefinitions] = []
    code = _guarded(_validate_only(options, checked))
    if code:
        raise typer.Exit(code)
    raise typer.Exit(
        _guarded(
            _with_backend(
                server,
                token,
                settings,
                lambda backend: runner.execute(options, backend, console, loaded=checked[0]),
                ai=True,
                embedded_server=embedded_server,
            )
        )
    )


async def _validate_only(options: runner.RunOptions, checked: list[LoadedDefinitions] | None = None) -> int:
    """0 when the definitions of ``options`` load and name valid projects (appended to ``checked``)."""
    from orchestra.cli import runner
    from orchestra.definitions.loader import load_paths

    loaded = load_paths(options.paths)
    runner.project_groups(loaded, options)
    if checked is not None:
        checked.append(loaded)
    return 0


@app.command()
def apply(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files of test cases and suites.")],
    project: Annotated[
        str | None, typer.Option("--project", help="Project (default: from the suite or folder).")
    ] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Sync test cases and suites into Orchestra: created, or a new version when changed (idempotent).
    Each suite is stored in the project it names, with the test cases it lists (see `orchestra run`)."""
    from orchestra.cli import runner
    from orchestra.definitions.loader import load_paths

    settings = _settings(data_dir=data_dir)
    options = runner.RunOptions(paths=list(paths), project=project)
    code = _guarded(_validate_only(options))
    if code:
        raise typer.Exit(code)

    async def work(backend: Backend) -> int:
        groups = runner.project_groups(load_paths(paths), options)
        if not groups:
            console.print("nothing to apply: no test definitions found in " + ", ".join(map(str, paths)))
            return 0
        results = await backend.apply(groups)
        several = len(results) > 1
        for result in results:
            indent = "  " if several else ""
            if several:
                console.print(f"project {result['project']['name']}:")
            for item in result.get("test_cases", []):
                console.print(
                    f"{indent}test case {item['name']}: {item['result']} (version {item['version']})"
                )
            for item in result.get("suites", []):
                console.print(f"{indent}suite {item['name']}: {item['result']}")
        return 0

    raise typer.Exit(_guarded(_with_backend(server, token, settings, work)))


@app.command()
def up(
    host: HostOpt = None,
    port: PortOpt = None,
    data_dir: DataDirOpt = None,
    no_demo: Annotated[
        bool, typer.Option("--no-demo", help="Do not start the demo SUT and example suite.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show engine logs.")] = False,
) -> None:
    """Start Orchestra embedded (API, scheduler, executor, PostgreSQL) and serve until Ctrl-C."""
    from orchestra.cli.up import serve

    settings = _settings(host=host, port=port, data_dir=data_dir, verbose=verbose)

    async def work() -> int:
        await serve(settings, demo=not no_demo, console=console)
        return 0

    raise typer.Exit(_guarded(work()))


@app.command()
def api(
    host: HostOpt = None,
    port: PortOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show logs at info level.")] = False,
) -> None:
    """Distributed mode: the REST API and the scheduler (needs ORCHESTRA_BROKER_URL; run any number)."""
    from orchestra.cli.distributed import serve_api

    settings = _settings(host=host, port=port, verbose=verbose)

    async def work() -> int:
        await serve_api(settings, console)
        return 0

    raise typer.Exit(_guarded(work()))


@app.command()
def executor(
    health_port: Annotated[
        int | None,
        typer.Option("--health-port", min=0, max=65535, help="Port of /health/live and /health/ready."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=4096, help="Runs at once.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show logs at info level.")] = False,
) -> None:
    """Distributed mode: a stateless worker executing runs (needs ORCHESTRA_BROKER_URL; run any number)."""
    from orchestra.cli.distributed import serve_executor

    settings = _settings(executor_health_port=health_port, executor_concurrency=concurrency, verbose=verbose)

    async def work() -> int:
        await serve_executor(settings, console)
        return 0

    raise typer.Exit(_guarded(work()))


@app.command()
def ai(
    host: HostOpt = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Port to listen on (default: ORCHESTRA_AI_PORT, else 8002)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show logs at info level.")] = False,
) -> None:
    """The ai-service alone (planner, explanations, assistant); the API reaches it at ORCHESTRA_AI_URL."""
    from orchestra.cli.ai_service import serve_ai

    settings = _settings(host=host, ai_port=port, verbose=verbose)

    async def work() -> int:
        await serve_ai(settings, console)
        return 0

    raise typer.Exit(_guarded(work()))


@app.command()
def migrate(
    data_dir: DataDirOpt = None,
    replace_context_key: Annotated[
        bool,
        typer.Option(
            "--replace-context-key",
            help="Make this process's tenant context key (from its secret key) the database's, in place of "
            "another one: services that sign with the other key stop working until they get this one.",
        ),
    ] = False,
) -> None:
    """Apply database migrations up to head as the schema owner (ORCHESTRA_MIGRATION_DATABASE_URL, else
    ORCHESTRA_DATABASE_URL, or the embedded database), and register the tenant context key of the secret
    key (ORCHESTRA_SECRET_KEY) that the services share."""
    from orchestra.db import migration_target, open_database
    from orchestra.kit.secret_box import configured_context_key, open_context_key
    from orchestra.migrate import head_revision, migrate_database

    settings = _settings(data_dir=data_dir)

    async def work() -> int:
        target = migration_target(settings)
        if target is not None:  # the configured database, never an embedded one instead
            # the services' key, never one made up here (it would refuse them): none given, none registered
            context_key = configured_context_key(settings)
            await migrate_database(
                target.url,
                context_key=context_key,
                replace_context_key=replace_context_key,
                label=target.label,
            )
            label = target.label
            if context_key is None:
                err_console.print(
                    "no secret key given (ORCHESTRA_SECRET_KEY): the tenant context key was not registered; "
                    "migrate with the services' key, or let the first `orchestra api` with "
                    "ORCHESTRA_MIGRATION_DATABASE_URL register it (docs/security.md)",
                    soft_wrap=True,
                )
        else:
            context_key = open_context_key(settings)
            db = open_database(settings, context_key, pool_size=1)
            try:
                await migrate_database(
                    db.owner_url,
                    context_key=context_key,
                    replace_context_key=True,
                    app_password=db.app_password,
                    label=db.owner_label,
                )
            finally:
                await db.close()
            label = db.owner_label
        console.print(f"database at revision {head_revision()}: {label}", soft_wrap=True)
        return 0

    raise typer.Exit(_guarded(work()))


@app.command("admin-token")
def admin_token(
    data_dir: DataDirOpt = None,
    new: Annotated[
        bool,
        typer.Option("--new", help="Replace the token even if the data directory holds a valid one."),
    ] = False,
) -> None:
    """Print the local admin token of the database (ORCHESTRA_DATABASE_URL, or the embedded one): the one
    kept in <data-dir>/admin-token while it is valid, else a new one that replaces the previous one on
    every server of the database. The token alone goes to stdout."""
    from orchestra.cli.admin_token import print_admin_token

    settings = _settings(data_dir=data_dir)
    out = Console(highlight=False, soft_wrap=True)
    raise typer.Exit(_guarded(print_admin_token(settings, new, out, err_console)))


warm_app = typer.Typer(
    help="The warm process that runs `orchestra run` without loading its code each time "
    "(docs/configuration.md#the-warm-process).",
    no_args_is_help=True,
)
app.add_typer(warm_app, name="warm")


@warm_app.command("status")
def warm_status() -> None:
    """Say whether a warm process serves this installation, and what it did."""
    from orchestra.cli import warm_control

    console.print(warm_control.describe(), soft_wrap=True)


@warm_app.command("stop")
def warm_stop() -> None:
    """Stop this installation's warm process (after the commands it runs; it stops the embedded PostgreSQL
    it kept when nothing else uses it)."""
    from orchestra.cli import warm_control

    console.print(warm_control.stop(), soft_wrap=True)


admin_app = typer.Typer(
    help="Move a project between installations: export it as one document, import it elsewhere.",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")


@admin_app.command("export")
def admin_export(
    project: Annotated[str, typer.Argument(help="Project (name or id).")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="File to write: JSON, or YAML when it ends in .yaml/.yml.")
    ],
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the project as one versioned document: test cases (current definitions), suites,
    environments (variables, request defaults, allowed hosts, limits; the names of secrets, never their
    values), schedules and the retention policy."""
    from orchestra.cli.transfer import write_document

    async def work(backend: Backend) -> int:
        document = await backend.export_project(project)
        write_document(out, document)
        console.print(
            f"project {escape(project)}: {len(document.get('test_cases', []))} test case(s), "
            f"{len(document.get('suites', []))} suite(s), {len(document.get('environments', []))} "
            f"environment(s), {len(document.get('schedules', []))} schedule(s) written to {escape(str(out))}"
        )
        return 0

    raise typer.Exit(_guarded(_with_backend(server, token, _settings(data_dir=data_dir), work)))


@admin_app.command("import")
def admin_import(
    file: Annotated[Path, typer.Argument(help="A document written by `orchestra admin export`.")],
    project: Annotated[
        str | None, typer.Option("--project", help="Import as this project (default: the document's).")
    ] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create or update a project from an exported document, all or nothing; importing it again changes
    nothing. Lists the secrets to set (values are never exported)."""
    from orchestra.cli.transfer import check_project_name, read_document, report

    async def work() -> int:
        if project is not None:
            check_project_name(project)
        document = read_document(file)  # refused here, before anything starts, when it is not one

        async def send(backend: Backend) -> int:
            report(await backend.import_project(document, project), console)
            return 0

        return await _with_backend(server, token, _settings(data_dir=data_dir), send)

    raise typer.Exit(_guarded(work()))


@app.command("demo-sut")
def demo_sut(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8081,
) -> None:
    """Serve the demo system under test (a small shop API) until Ctrl-C."""
    from orchestra.demo.__main__ import main as demo_main

    _imports_done()
    sys.exit(demo_main(["--host", host, "--port", str(port)]))


import_app = typer.Typer(
    help="Write Orchestra test cases from what other tools hold: curl command lines, HAR files, Postman "
    "collections, an OpenAPI description.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the test cases into.")]
KeepCredentialsOpt = Annotated[
    bool,
    typer.Option(
        "--keep-credentials",
        help="Keep Authorization and Cookie headers (as environment secrets; left out by default).",
    ),
]
ImportEnvOpt = Annotated[
    str | None,
    typer.Option("--env", help="Create or update this environment: the base URL and the secrets found."),
]
ImportProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project", help="Project of --env (default: the name of the --out folder, as `run` takes it)."
    ),
]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace files that exist.")]


def _import(
    convert: Callable[[], Any],
    out: Path,
    overwrite: bool,
    env: str | None,
    project: str | None,
    server: str | None,
    token: str | None,
    data_dir: Path | None,
) -> None:
    from orchestra.cli import importing

    owner = project or out.resolve().name or "default"  # the folder `run` takes the project name from

    async def work() -> int:
        result = convert()
        importing.check_targets(result, out, overwrite=overwrite)
        if env:

            async def store(backend: Backend) -> int:
                await importing.store_environment(backend, owner, env, result)
                return 0

            await _with_backend(server, token, _settings(data_dir=data_dir), store)
        written = importing.write_files(result, out)
        importing.report(result, out, written, console, stored_in=f"{owner}/{env}" if env else None)
        return 0

    raise typer.Exit(_guarded(work()))


@import_app.command("curl")
def import_curl(
    command: Annotated[
        str | None, typer.Argument(help="A curl command line (or give --file).", show_default=False)
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A file of curl commands, one test case each.")
    ] = None,
    out: OutOpt = Path("."),
    keep_credentials: KeepCredentialsOpt = False,
    env: ImportEnvOpt = None,
    project: ImportProjectOpt = None,
    overwrite: OverwriteOpt = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a test case per curl command (method, URL, headers, body; a 2xx status check)."""
    from orchestra.cli import runner

    if (command is None) == (file is None):
        raise typer.Exit(runner.error_exit(err_console, "give a curl command or --file, not both"))

    def convert() -> Any:
        from orchestra.importers.convert import from_curl

        text = command if command is not None else _read_text(file)
        return from_curl(text, keep_credentials=keep_credentials, working_dir=Path.cwd())

    _import(convert, out, overwrite, env, project, server, token, data_dir)


@import_app.command("har")
def import_har(
    file: Annotated[Path, typer.Argument(help="A HAR file (HTTP Archive 1.1 or 1.2).")],
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only requests to this host (repeatable).")
    ] = None,
    out: OutOpt = Path("."),
    keep_credentials: KeepCredentialsOpt = False,
    env: ImportEnvOpt = None,
    project: ImportProjectOpt = None,
    overwrite: OverwriteOpt = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the HAR's requests as one test case, in order, each expecting the status and type seen."""

    def convert() -> Any:
        from orchestra.importers.convert import from_har

        return from_har(_read_bytes(file), name=file.name, include=include, keep_credentials=keep_credentials)

    _import(convert, out, overwrite, env, project, server, token, data_dir)


@import_app.command("openapi")
def import_openapi(
    spec: Annotated[str, typer.Argument(help="The OpenAPI 3.0 / 3.1 description: a file or an http(s) URL.")],
    out: OutOpt = Path("."),
    env: Annotated[
        str | None,
        typer.Option(
            "--env", help="Create or update this environment: the base URL, and the description imported."
        ),
    ] = None,
    project: ImportProjectOpt = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="The SUT's base URL (default: the description's first server)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files edited since they were generated, too.")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a runnable suite: a test per operation (inputs planned from the description, the documented
    status, content type and schema checked), a lifecycle flow per entity, a suite file. Importing again
    updates the generated files and leaves the ones edited since alone."""
    from orchestra.cli import importing

    owner = project or out.resolve().name or "default"

    async def work() -> int:
        from orchestra.importers.openapi_suite import suite_of
        from orchestra.openapi.load import parse_text

        text, source_url = await importing.read_spec(spec)
        result = suite_of(parse_text(text), source_url=source_url, base_url=base_url, project=project)
        writes = importing.suite_writes(result.files, out, overwrite=overwrite)
        if env:

            async def store(backend: Backend) -> int:
                await importing.store_suite_environment(backend, owner, env, result, text)
                return 0

            await _with_backend(server, token, _settings(data_dir=data_dir), store)
        importing.apply_suite_writes(result, writes, out)
        importing.report_suite(result, writes, out, console, stored_in=f"{owner}/{env}" if env else None)
        return 0

    raise typer.Exit(_guarded(work()))


@import_app.command("postman")
def import_postman(
    file: Annotated[Path, typer.Argument(help="A Postman collection (format v2.0 or v2.1).")],
    environment: Annotated[
        Path | None, typer.Option("--environment", "-e", help="A Postman environment file.")
    ] = None,
    globals_file: Annotated[
        Path | None, typer.Option("--globals", "-g", help="A Postman globals file.")
    ] = None,
    out: OutOpt = Path("."),
    env: ImportEnvOpt = None,
    project: ImportProjectOpt = None,
    overwrite: OverwriteOpt = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the collection as one test case: its requests in order, its variables, auth and the test
    scripts that are plain assertions (see docs/importing.md#postman)."""

    def convert() -> Any:
        from orchestra.importers.convert import from_postman
        from orchestra.importers.postman_files import MAX_POSTMAN_BYTES

        return from_postman(
            _read_bytes(file, MAX_POSTMAN_BYTES),
            name=file.name,
            environment=_read_bytes(environment, MAX_POSTMAN_BYTES) if environment else None,
            globals_=_read_bytes(globals_file, MAX_POSTMAN_BYTES) if globals_file else None,
            working_dir=Path.cwd(),  # form-data files, as newman reads them
        )

    _import(convert, out, overwrite, env, project, server, token, data_dir)


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    from orchestra.importers.har import MAX_HAR_BYTES

    try:
        with path.open("rb") as handle:
            return handle.read((limit or MAX_HAR_BYTES) + 1)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _read_text(path: Path | None) -> str:
    from orchestra.importers.curl import MAX_CURL_TEXT

    assert path is not None
    try:
        return _read_bytes(path)[: MAX_CURL_TEXT * 4 + 1].decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
