"""`orchestra run`: load definitions, sync them, start the runs, follow them, report, exit with a verdict.

Exit codes: 0 every test passed (a muted test's failure aside; a pass on retry passes, flaky); 1 a test
failed (FAILED, ERROR, TIMED_OUT or CANCELLED) and was not muted; 2 the run could not be carried out
(invalid definition, unreachable server or SUT, bad arguments).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from orchestra.cli.backends import Backend, BackendError
from orchestra.cli.display import (
    finished_line,
    phase_line,
    print_failures,
    print_skipped,
    print_summary,
    tests_of,
)
from orchestra.cli.usage import UsageError
from orchestra.definitions.data_rows import DataFileError, Row, load_rows
from orchestra.definitions.loader import DefinitionError, LoadedDefinitions, load_model_file, load_paths
from orchestra.definitions.projects import ProjectDefinitions, group_by_project
from orchestra.definitions.testcase_model import NAME_RULE, RequestDefaults, is_valid_name
from orchestra.environments.schemas import EnvironmentUpdate
from orchestra.errors import OrchestraError
from orchestra.models.run_states import TERMINAL, RunStatus
from orchestra.runs.schemas import SuiteRunCreate, SuiteRunOut

if TYPE_CHECKING:
    from orchestra.environments.openapi_schemas import SpecImport

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass
class RunOptions:
    paths: list[Path]
    environment: str | None = None
    base_url: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    priority: int | None = None
    project: str | None = None
    junit: Path | None = None
    json_path: Path | None = None
    junit_per_step: bool = False
    html: Path | None = None
    data: list[Row] | None = None  # --data: every test case runs once per row
    env_defaults: dict[str, Any] | None = None  # --env-defaults: the environment's request defaults
    retry_failed: int | None = None  # --retry-failed (1) / --no-retry-failed (0); None: as defined
    openapi: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    poll_s: float = 0.2


def parse_variables(items: list[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UsageError(f"--var expects KEY=VALUE with KEY an identifier, got {item!r}")
        variables[name.strip()] = value
    return variables


def read_data_file(path: Path) -> list[Row]:
    """``--data FILE``: the rows of a CSV or JSON file; its problems stop the command before anything runs."""
    try:
        return load_rows(path)
    except DataFileError as error:
        raise UsageError(f"--data {path}: {error}") from None


def read_env_defaults(path: Path) -> dict[str, Any]:
    """``--env-defaults FILE``: request defaults (headers, query, auth, timeout_ms) in a YAML or JSON file,
    set on the environment before the runs start; its problems stop the command before anything runs."""
    try:
        defaults = load_model_file(path, RequestDefaults, "request defaults")
    except DefinitionError as error:
        raise UsageError(f"--env-defaults: {'; '.join(str(issue) for issue in error.issues)}") from None
    return defaults.model_dump(mode="json", by_alias=True, exclude_unset=True)


def parse_secrets(items: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``--secret NAME=VALUE``, or ``--secret NAME`` with the value in the environment variable NAME (which
    keeps it out of the shell history and the process list)."""
    secrets: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise UsageError(f"--secret expects NAME or NAME=VALUE with NAME an identifier, got {name!r}")
        if not sep:
            if name not in environ:
                raise UsageError(f"--secret {name}: the environment variable {name} is not set")
            value = environ[name]
        secrets[name] = value
    try:
        EnvironmentUpdate.model_validate({"secrets": secrets})
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'][1:])) or 'secrets'}: {e['msg']}" for e in error.errors()
        )
        raise UsageError(f"--secret: {reasons}") from None
    return secrets


def adhoc_environment_name(base_url: str) -> str:
    """One environment per base URL, so runs against different URLs never overwrite each other's."""
    parts = urlsplit(base_url)
    return "url-" + re.sub(r"[^A-Za-z0-9._-]+", "-", f"{parts.netloc}{parts.path}").strip("-")[:180]


def check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an absolute http(s) URL, got {base_url!r}")


def check_reachable(base_url: str, timeout_s: float = 3.0) -> None:
    """Fail fast on a typo'd or stopped SUT instead of reporting every test as an error."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            pass
    except OSError as error:
        raise UsageError(
            f"cannot reach the system under test at {base_url}: {error.strerror or error}"
        ) from error


def openapi_source(source: str) -> SpecImport:
    """What ``--openapi`` names: a URL (fetched by Orchestra, under the environment's egress policy) or a
    local file, read and checked here so that a bad description stops the command before anything is
    stored."""
    from orchestra.environments.openapi_schemas import MAX_URL, SpecImport
    from orchestra.openapi.catalogue import build_catalogue
    from orchestra.openapi.load import MAX_DOCUMENT_BYTES, parse_text

    if urlsplit(source).scheme in ("http", "https"):
        try:
            return SpecImport(url=source)
        except ValidationError:
            raise UsageError(f"--openapi: the URL is longer than {MAX_URL} characters") from None
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"--openapi: no such file: {source} (give a file, or an http(s) URL)")
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise UsageError(f"--openapi: {source} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--openapi: cannot read {source}: {error}") from None
    if not text.strip():
        raise UsageError(f"--openapi: {source} is empty")
    try:
        build_catalogue(parse_text(text))
    except OrchestraError as error:
        raise UsageError(f"--openapi: {source}: {error}") from None
    return SpecImport(text=text)


def project_groups(loaded: LoadedDefinitions, options: RunOptions) -> list[ProjectDefinitions]:
    """The definitions of each project (see ``definitions/projects.py``); a project name that cannot be
    stored, or a suite that names another project than ``--project``, stops the command here."""
    if options.project is not None and not is_valid_name(options.project):
        raise UsageError(f"--project: invalid project name {options.project[:200]!r}: {NAME_RULE}")
    groups = group_by_project(loaded, options.paths, options.project)
    for group in groups:
        if not is_valid_name(group.project):  # only the folder's name can be: the others were checked
            raise UsageError(
                f"the folder's name {group.project[:200]!r} is not a valid project name ({NAME_RULE}): "
                "give --project NAME, or name the project in a suite ('project:')"
            )
    return groups


def targets_of(
    definitions: ProjectDefinitions | LoadedDefinitions, options: RunOptions
) -> list[tuple[str | None, list[str] | None, str]]:
    """(suite, tests, name) of each suite run to start in one project: every suite found, and the test
    cases no suite covers together as one more run (all of them when there is no suite)."""
    targets: list[tuple[str | None, list[str] | None, str]] = [
        (suite.suite, None, suite.suite) for _, suite in definitions.suites
    ]
    covered = {name for _, suite in definitions.suites for name in suite.tests}
    if "*" in covered:
        return targets
    rest = [case.name for _, case in definitions.test_cases if case.name not in covered]
    if rest:
        first = options.paths[0]
        name = first.stem if first.is_file() else first.resolve().name
        targets.append((None, rest, f"{name} (not in a suite)" if targets else name))
    return targets


async def base_urls_of(
    groups: list[ProjectDefinitions], options: RunOptions, backend: Backend
) -> tuple[str, dict[str, str]]:
    """The environment the run uses and its base URL in each project (each project has its own)."""
    if options.base_url:
        check_base_url(options.base_url)
        return adhoc_environment_name(options.base_url), {group.project: options.base_url for group in groups}
    if not options.environment:
        raise UsageError("give the system under test: --env NAME or --base-url URL")
    environment = options.environment
    if not is_valid_name(environment):
        raise UsageError(f"--env: invalid environment name {environment[:200]!r}: {NAME_RULE}")
    urls = {}
    for group in groups:
        try:
            urls[group.project] = await backend.environment_base_url(group.project, environment)
        except (BackendError, OrchestraError) as error:
            if len(groups) == 1:
                raise
            projects = ", ".join(f"'{group.project}'" for group in groups)
            raise UsageError(
                f"{error}: the suites found name {len(groups)} projects ({projects}), and each project runs "
                f"in an environment '{environment}' of its own — create it there, or give --base-url URL"
            ) from None
    return environment, urls


async def execute(
    options: RunOptions, backend: Backend, console: Console, loaded: LoadedDefinitions | None = None
) -> int:
    """Run the definitions of ``options`` (``loaded``: as already read from its paths) and report them."""
    if loaded is None:
        loaded = load_paths(options.paths)
    if not loaded.test_cases:
        raise UsageError("no test definitions found in " + ", ".join(str(path) for path in options.paths))
    # Everything that can be refused is checked before anything is stored.
    groups = project_groups(loaded, options)
    environment, base_urls = await base_urls_of(groups, options, backend)
    spec = openapi_source(options.openapi) if options.openapi else None
    for base_url in dict.fromkeys(base_urls.values()):
        check_reachable(base_url)
    await backend.apply(groups)
    for group in groups:
        await prepare_environment(backend, group.project, environment, options, spec, console)
    ids: list[uuid.UUID] = []
    projects: dict[uuid.UUID, str] = {}
    for group in groups:
        for suite, tests, name in targets_of(group, options):
            target: dict[str, Any] = {"suite": suite} if suite else {"tests": tests, "name": name}
            request = SuiteRunCreate(
                project=group.project,
                environment=environment,
                **target,
                priority=options.priority,
                trigger="manual",
                variables=dict(options.variables),
                data=options.data,
                retry_failed=options.retry_failed,
            )
            ids.append(await backend.start_suite_run(request))
            projects[ids[-1]] = group.project
    for group in groups:
        console.print(
            f"[bold]Orchestra[/] running {len(group.test_cases)} test case(s) "
            f"of project '{group.project}' on {base_urls[group.project]}"
        )
    results = await follow_or_cancel(backend, ids, console, options.poll_s)
    print_summary(console, results)
    # With their steps: what did not pass, and what was skipped and why, are shown step by step.
    detailed = [await backend.suite_run(suite_run_id, with_steps=True) for suite_run_id in ids]
    print_skipped(console, detailed)
    print_failures(console, detailed)
    await write_reports(backend, ids, options)
    write_step_reports(detailed, projects, options)
    return verdict(results)


async def prepare_environment(
    backend: Backend,
    project: str,
    environment: str,
    options: RunOptions,
    spec: SpecImport | None,
    console: Console,
) -> None:
    """The project's environment as the options ask: created for ``--base-url``, its secrets and request
    defaults set, its OpenAPI description imported."""
    if options.base_url:
        await backend.ensure_environment(project, environment, options.base_url)
    if options.secrets:
        await backend.set_secrets(project, environment, options.secrets)
    if options.env_defaults is not None:
        await backend.set_request_defaults(project, environment, options.env_defaults)
    if spec is not None:
        try:
            summary = await backend.import_openapi(project, environment, spec)
        except (OrchestraError, BackendError) as error:
            raise UsageError(f"--openapi {options.openapi}: {error}") from None
        console.print(
            f"OpenAPI description '{summary.title}': {summary.operation_count} operation(s), "
            f"imported into environment '{environment}' of project '{project}'"
        )


async def follow(
    backend: Backend, ids: list[uuid.UUID], console: Console, poll_s: float
) -> list[SuiteRunOut]:
    """Show progress until every suite run has ended; print each test as it finishes."""
    reported: set[uuid.UUID] = set()
    with _progress(console) as progress:
        task = progress.add_task("running", total=None)
        while True:
            results = [await backend.suite_run(suite_run_id) for suite_run_id in ids]
            runs = [run for result in results for run in result.runs]
            for run in runs:
                if run.status in TERMINAL and run.id not in reported:
                    reported.add(run.id)
                    progress.console.print(finished_line(run))
            for phase in [phase for result in results for phase in (result.setup, result.teardown) if phase]:
                if phase.status in TERMINAL and phase.id not in reported:
                    reported.add(phase.id)
                    progress.console.print(phase_line(phase))
            active = sum(1 for run in runs if run.status == RunStatus.IN_PROGRESS)
            waiting = sum(1 for run in runs if run.status in (RunStatus.PENDING, RunStatus.QUEUED))
            held = next((result.waiting_for for result in results if result.waiting_for), None)
            description = f"running: {active} · waiting: {waiting}" + (f" — {held}" if held else "")
            done = sum(1 for run in runs if run.id in reported)
            progress.update(task, total=len(runs), completed=done, description=description)
            if all(result.status in TERMINAL for result in results):
                return results
            await backend.wait_for_change(ids, poll_s)


class _Lines:
    """What ``follow`` uses of a progress display, where none is shown: the lines it prints."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def update(self, task: int, **changes: Any) -> None:
        pass


def _progress(console: Console) -> AbstractContextManager[Any]:
    """A live progress line on a terminal. Elsewhere (a CI log, a pipe) a transient display shows nothing
    but the lines printed through it, so those are printed alone, without loading Rich's live display."""
    if not console.is_terminal:
        return nullcontext(_Lines(console))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


async def follow_or_cancel(
    backend: Backend, ids: list[uuid.UUID], console: Console, poll_s: float
) -> list[SuiteRunOut]:
    """Follow the runs; on Ctrl-C cancel what this command started, so nothing is left behind."""
    try:
        return await follow(backend, ids, console, poll_s)
    except asyncio.CancelledError:
        for suite_run_id in ids:
            try:
                await backend.cancel_suite_run(suite_run_id)
            except (BackendError, OrchestraError):
                pass  # already finished
        console.print("interrupted: the runs this command started were cancelled")
        raise


def write_step_reports(
    detailed: list[SuiteRunOut], projects: dict[uuid.UUID, str], options: RunOptions
) -> None:
    """The reports made here from the runs with their steps: the HTML page, a JUnit file per step."""
    if options.html is not None:
        from orchestra.runs.html_report import html_report

        options.html.parent.mkdir(parents=True, exist_ok=True)
        options.html.write_bytes(html_report(detailed))
    if options.junit is not None and options.junit_per_step:
        from orchestra.runs.reports import suite_run_junit

        documents = [
            suite_run_junit(suite_run, projects[suite_run.id], per_step=True) for suite_run in detailed
        ]
        options.junit.parent.mkdir(parents=True, exist_ok=True)
        options.junit.write_bytes(merge_junit(documents))


async def write_reports(backend: Backend, ids: list[uuid.UUID], options: RunOptions) -> None:
    if options.junit is not None and not options.junit_per_step:
        documents = [await backend.report(suite_run_id, "junit") for suite_run_id in ids]
        options.junit.parent.mkdir(parents=True, exist_ok=True)
        options.junit.write_bytes(merge_junit([doc for doc in documents if isinstance(doc, bytes)]))
    if options.json_path is not None:
        reports: list[Any] = [await backend.report(suite_run_id, "json") for suite_run_id in ids]
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        document = reports[0] if len(reports) == 1 else {"kind": "suite_runs", "suite_runs": reports}
        options.json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def merge_junit(documents: list[bytes]) -> bytes:
    """Several suite runs in one file: their <testsuite> elements under one <testsuites>."""
    if len(documents) == 1:
        return documents[0]
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="orchestra")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for document in documents:
        for suite in ET.fromstring(document).iter("testsuite"):
            root.append(suite)
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
            seconds += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def verdict(results: list[SuiteRunOut]) -> int:
    # A retried run does not count: its retry's verdict is the test's (a pass on retry passes, flaky).
    statuses = {run.status for result in results for run in tests_of(result) if not run.muted}
    # A suite's setup or teardown that did not pass fails the command too.
    statuses |= {phase.status for result in results for phase in (result.setup, result.teardown) if phase}
    return EXIT_PASSED if statuses <= {RunStatus.PASSED} else EXIT_FAILED


def error_exit(console: Console, error: Exception | str) -> int:
    """The reason on one line (never wrapped at the terminal's width: it may be read by a program)."""
    console.print(f"[red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    return EXIT_ERROR


__all__ = ["BackendError", "RunOptions", "UsageError", "execute", "parse_variables"]
