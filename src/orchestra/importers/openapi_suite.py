"""An OpenAPI 3.0 / 3.1 description written as a runnable suite of Orchestra test cases.

- **One test per operation.** Its inputs come from the DataPlan machinery: the test declares
  ``data: {operations: [<operationId>]}``, and before each run the planner (built-in or the ai-service)
  plans valid inputs from the environment's imported description, creating what they refer to first
  (an item for ``GET /items/{item_id}``) and deleting it afterwards. An operation without inputs declares
  no data. The step checks the documented success status, content type and response schema
  (``openapi_checks``). Safe methods follow redirects and are tried up to three times (a 503 with
  ``Retry-After`` is not a contract failure).
- **A lifecycle flow per entity** whose producer and item path are evident (``openapi_flows``).
- **Authentication** as ``openapi_auth`` maps the security schemes: secrets by name, never values.
- **A suite file** (``suite.yaml``) that runs every test of the folder.

Every file starts with comment lines and a marker holding the hash of what was generated (see
``generated_files``), so a re-import can tell an edited file from an untouched one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from orchestra.definitions.loader import DefinitionError, parse_document
from orchestra.definitions.yaml_text import dump
from orchestra.importers.generated_files import with_marker
from orchestra.importers.openapi_auth import (
    Credentials,
    NeededSecret,
    login_body,
    login_inputs,
    token_operation,
)
from orchestra.importers.openapi_checks import expectations
from orchestra.importers.openapi_flows import lifecycle_flows
from orchestra.importers.openapi_writer import SuiteWriter, file_stem, id_variable, key, path_url
from orchestra.importers.requests import ImportRefused, escape_template
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.entities import entity_of, id_field, is_collection_post, token_field
from orchestra.testdata.planner.login import signs_in
from orchestra.testdata.planner.plan_state import binding_name

MAX_OPERATIONS = 1000
MAX_OPERATION_ID = 200  # as a test's data requirement names it
MAX_FILE_CHARS = 1_000_000  # below the loader's 1 MiB per file
SUITE_FILE = "suite.yaml"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_IGNORED_HEADERS = {"authorization", "content-type", "accept"}  # described by other means (OpenAPI 3)


@dataclass
class GeneratedFile:
    name: str  # e.g. "get-item.yaml"
    text: str  # the YAML, marker included


@dataclass
class SuiteImport:
    title: str
    files: list[GeneratedFile]
    base_url: str | None
    secrets: list[NeededSecret]
    notes: list[str] = field(default_factory=list)


def base_url_of(document: dict[str, Any], source_url: str | None) -> str | None:
    """The first server's URL (its variables at their defaults), joined to the description's own URL when
    relative; the origin of that URL when no server is listed."""
    servers = document.get("servers")
    first: dict[str, Any] = {}
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        first = servers[0]
    url = first.get("url")
    if isinstance(url, str) and url:
        variables = first.get("variables")
        for name, spec in variables.items() if isinstance(variables, dict) else []:
            default = spec.get("default") if isinstance(spec, dict) else None
            if isinstance(default, str):
                url = url.replace("{" + str(name) + "}", default)
        if source_url and not urlsplit(url).scheme:
            url = urljoin(source_url, url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname and "{" not in url:
            return str(url).rstrip("/")
    if source_url:
        parts = urlsplit(source_url)
        return f"{parts.scheme}://{parts.netloc}"
    return None  # no server, no URL: the user gives --base-url


def _operation_test(writer: SuiteWriter, operation: Operation) -> dict[str, Any] | None:
    """The test of one operation (see the module docstring); None, with a note, when none can be written."""
    if operation.request_schema is None and writer.raw_body_required(operation):
        writer.notes.append(
            f"{operation.operation_id}: its request body is not JSON (no form in the test language "
            "to plan it): no test written"
        )
        return None
    if len(operation.operation_id) > MAX_OPERATION_ID:
        writer.notes.append(
            f"{operation.operation_id[:60]}…: an operationId longer than {MAX_OPERATION_ID} characters "
            "cannot be planned: no test written"
        )
        return None
    cookies = [p.name for p in operation.parameters if p.location == "cookie" and p.required]
    if cookies:
        writer.notes.append(
            f"{operation.operation_id}: the required cookie(s) {', '.join(cookies)} are not planned; "
            "add them to the test"
        )
    binding = binding_name(operation.operation_id)
    inputs = f"data.{binding}"
    paths = {p.name: p for p in operation.parameters if p.location == "path"}
    query = [p for p in operation.parameters if p.location == "query" and p.required]
    headers = [
        p
        for p in operation.parameters
        if p.location == "header" and p.required and p.name.lower() not in _IGNORED_HEADERS
    ]
    needs_data = bool(paths or query or headers or operation.request_schema is not None)
    request: dict[str, Any] = {
        "method": operation.method,
        "url": path_url(
            operation.path,
            {name: "{{ " + f"{inputs}.path[{key(name)}] | urlencode" + " }}" for name in paths},
        ),
    }
    if headers:
        request["headers"] = {
            escape_template(p.name): "{{ " + f"{inputs}.headers[{key(p.name)}]" + " }}" for p in headers
        }
    if query:
        request["query"] = {
            escape_template(p.name): "{{ " + f"{inputs}.query[{key(p.name)}]" + " }}" for p in query
        }
    if operation.request_schema is not None:
        request["json"] = "{{ " + f"{inputs}.body" + " }}"
    step: dict[str, Any] = {
        "name": escape_template(f"{operation.method} {operation.path}")[:200],
        "request": request,
        "expect": expectations(operation, writer.media(operation), writer.version),
    }
    if operation.method in _SAFE_METHODS:
        request["follow_redirects"] = True
        step["retry"] = {"attempts": 3, "interval_ms": 200}
    credentials = writer.credentials(operation)
    if (
        is_collection_post(operation)
        and "{" not in operation.path
        and token_field(operation) is None
        and not signs_in(operation)
    ):
        deleter = writer.item_operations(operation).get("DELETE")
        if deleter is not None:
            variable = id_variable(entity_of(operation))
            step["capture"] = {variable: "$." + id_field(operation)}
            step["cleanup"] = writer.cleanup(deleter[0], deleter[1], variable, credentials)
    definition = writer.test_case(
        f"{operation.operation_id}: {operation.method} {operation.path}",
        _description(operation),
        ["openapi", *operation.tags],
        [operation.operation_id] if needs_data else [],
        credentials,
        [*_refused_without_credentials(operation, request, credentials), step],
    )
    login = token_operation(writer.catalogue)
    if login is not None and login.operation_id == operation.operation_id and operation.request_schema:
        request["json"] = login_body(login)  # the environment's own credentials, never generated ones
        for name in login_inputs(login):
            purpose = f"sent to the log-in {operation.operation_id} for a token"
            writer.secrets.setdefault(name, NeededSecret(name, purpose))
        definition.pop("data", None)
    return definition


def _refused_without_credentials(
    operation: Operation, request: dict[str, Any], credentials: Credentials | None
) -> list[dict[str, Any]]:
    """When the operation documents a 401 or 403: the same request without credentials first, expecting
    that refusal (before the real call, which may use up what the plan created)."""
    codes = [int(code) for code in ("401", "403") if code in operation.responses]
    if credentials is None or not codes:
        return []
    bare = {name: value for name, value in request.items() if name != "follow_redirects"}
    bare["auth"] = None
    removed = dict.fromkeys(credentials.headers) if credentials.auth is None else {}
    if removed or "headers" in bare:
        bare["headers"] = {**bare.get("headers", {}), **removed}
    return [
        {
            "name": escape_template(f"{operation.method} {operation.path} without credentials")[:200],
            "request": bare,
            "expect": {"status": codes[0] if len(codes) == 1 else codes},
        }
    ]


def _description(operation: Operation) -> str:
    text = " ".join((operation.summary or operation.description or "").split())[:500]
    return escape_template(text or f"{operation.method} {operation.path}")


def _text_of(header: list[str], definition: dict[str, Any], name: str) -> str:
    text = with_marker(header, dump(definition))
    if len(text) > MAX_FILE_CHARS:
        for step in definition.get("steps", []):
            step.get("expect", {}).pop("schema", None)
        text = with_marker(header, dump(definition))
    try:
        parse_document(text, name)
    except DefinitionError as error:
        raise ImportRefused(f"{name}: {error}") from None
    return text


def suite_of(
    document: dict[str, Any],
    *,
    source_url: str | None = None,
    base_url: str | None = None,
    project: str | None = None,
) -> SuiteImport:
    """The generated files of a checked description (``openapi.load.check_document``); ``project``: the
    suite names it, so the folder's tests run there (otherwise in the project named after the folder)."""
    catalogue = build_catalogue(document)
    if len(catalogue.operations) > MAX_OPERATIONS:
        raise ImportRefused(
            f"the description has {len(catalogue.operations):,} operations; at most {MAX_OPERATIONS:,} "
            "are imported at once"
        )
    if not catalogue.operations:
        raise ImportRefused("the description has no operations to import")
    writer = SuiteWriter(document, catalogue)
    files: list[GeneratedFile] = []
    used: set[str] = {SUITE_FILE.removesuffix(".yaml")}
    for operation in sorted(catalogue.operations.values(), key=lambda op: (op.path, op.method)):
        definition = _operation_test(writer, operation)
        if definition is None:
            continue
        stem = _unique(file_stem(operation.operation_id), used)
        what = f"{operation.operation_id} ({operation.method} {operation.path})"
        files.append(GeneratedFile(f"{stem}.yaml", _text_of(writer.header(what), definition, stem)))
    for stem, what, definition in lifecycle_flows(writer):
        stem = _unique(stem, used)
        files.append(GeneratedFile(f"{stem}.yaml", _text_of(writer.header(what), definition, stem)))
    suite: dict[str, Any] = {"suite": escape_template(catalogue.title or "openapi")[:200]}
    if project:
        suite["project"] = project
    suite["description"] = f"Every test generated from the OpenAPI description {writer.label}."
    suite["tests"] = ["*"]
    files.append(GeneratedFile(SUITE_FILE, _text_of(writer.header("the suite"), suite, SUITE_FILE)))
    return SuiteImport(
        title=writer.title,
        files=files,
        base_url=base_url or base_url_of(document, source_url),
        secrets=list(writer.secrets.values()),
        notes=writer.notes,
    )


def _unique(stem: str, used: set[str]) -> str:
    name = stem
    number = 1
    while name in used:
        number += 1
        name = f"{stem}-{number}"
    used.add(name)
    return name
