"""Every route of the app against every kind of caller: who may call it, who is refused (401 without a token,
403 with one), and what a project-scoped token sees of another project (nothing: 404).

The matrix is keyed by the app's own route table, so a new endpoint without an entry here fails
``test_every_route_has_an_expectation``. One runtime (no scheduler, no executor) serves the whole module;
every case that changes or consumes something works on a throwaway object made for it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import update

from orchestra.app import create_app
from orchestra.auth.local_admin import ensure_local_admin_token
from orchestra.config import Settings
from orchestra.environments.schemas import EnvironmentCreate
from orchestra.models import TestRun
from orchestra.models.run_states import RunStatus
from orchestra.runtime import Runtime
from tests.conftest import admin_execute, app_url, with_database
from tests.ports import refused_url

V1 = "/api/v1"
RARE = "0 3 1 1 *"  # once a year
STEP = {"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {"/health": {"get": {"responses": {}}}},
}

CALLERS = ("anonymous", "viewer", "editor", "admin", "scoped", "platform")
ALL = frozenset(CALLERS)
SIGNED_IN = ALL - {"anonymous"}
EDITORS = frozenset({"editor", "admin", "scoped", "platform"})
TENANT_EDITORS = EDITORS - {"scoped"}  # a project-scoped token cannot create projects
ADMINS = frozenset({"admin", "platform"})
PLATFORM = frozenset({"platform"})  # the local admin: platform admin, and the only token that manages tokens


def env_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "base_url": "http://127.0.0.1:9"}
    if "allow_private_network" in EnvironmentCreate.model_fields:
        body["allow_private_network"] = True
    return body


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Objects:
    """One project and one of each of its objects; ``ref`` is how paths name the project."""

    project: str
    project_id: str = ""
    environment: str = "staging"
    test_case: str = "health"
    suite: str = "smoke"
    schedule: str = "nightly"
    run_id: str = ""  # ended (cancelled)
    suite_run_id: str = ""  # ended (cancelled)
    mute_id: str = ""  # of the test case on the environment
    webhook: str = "chat"
    delivery_id: str = ""  # a test delivery of the webhook (never sent: no deliverer runs here)
    ref: str = ""

    def by_id(self) -> Objects:
        return Objects(**{**self.__dict__, "ref": self.project_id})


@dataclass
class World:
    runtime: Runtime
    platform: httpx.AsyncClient
    callers: dict[str, httpx.AsyncClient]
    a: Objects
    b: Objects
    token_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    path: str
    json: Any = None
    params: dict[str, str] | None = None


# ``real``: make the throwaway objects the request consumes; False when the caller is to be refused before
# any lookup, so a made-up name does.
Build = Callable[[World, Objects, bool], Awaitable[Request]]


@dataclass(frozen=True)
class Entry:
    allowed: frozenset[str]
    build: Build
    ok: int = 200
    # What a project-scoped token of project A gets for the same request on project B's objects (None: the
    # request names no project's object).
    other_project: int | None = None


# -- throwaway objects (made by the platform admin) -------------------------------------------------------


async def created(w: World, path: str, body: Any, key: str = "id") -> str:
    response = await w.platform.post(path, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()[key])


async def new_project(w: World) -> str:
    return await created(w, f"{V1}/projects", {"name": uniq("p")}, "name")


async def new_environment(w: World, o: Objects) -> str:
    return await created(w, f"{V1}/projects/{o.ref}/environments", env_body(uniq("env")), "name")


async def new_test_case(w: World, o: Objects) -> str:
    return await created(
        w, f"{V1}/projects/{o.ref}/test-cases", {"name": uniq("tc"), "steps": [STEP]}, "name"
    )


async def new_suite(w: World, o: Objects) -> str:
    body = {"suite": uniq("s"), "tests": [o.test_case]}
    return await created(w, f"{V1}/projects/{o.ref}/suites", body, "name")


async def new_schedule(w: World, o: Objects) -> str:
    body = {"name": uniq("sch"), "suite": o.suite, "environment": o.environment, "cron": RARE}
    return await created(w, f"{V1}/projects/{o.ref}/schedules", body, "name")


def run_body(o: Objects) -> dict[str, Any]:
    return {"project": o.ref, "environment": o.environment, "test_case": o.test_case}


def suite_run_body(o: Objects) -> dict[str, Any]:
    return {"project": o.ref, "environment": o.environment, "suite": o.suite}


async def pending_run(w: World, o: Objects) -> str:
    return await created(w, f"{V1}/runs", run_body(o))


async def pending_suite_run(w: World, o: Objects) -> str:
    return await created(w, f"{V1}/suite-runs", suite_run_body(o))


async def new_token(w: World) -> str:
    return await created(w, f"{V1}/tokens", {"name": uniq("t"), "role": "viewer"})


async def new_document(w: World, o: Objects) -> str:
    body = {"title": uniq("d"), "text": "# Doc\n\nText."}
    return await created(w, f"{V1}/projects/{o.ref}/documents", body)


async def b_document(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/documents/{await new_document(w, o) if real else uuid.uuid4()}")


# -- sample requests --------------------------------------------------------------------------------------


def fixed(path: str) -> Build:
    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(path)

    return build


def in_project(suffix: str, body: Callable[[Objects], Any] | None = None) -> Build:
    """``/projects/{ref}<suffix>``, the suffix formatted with the objects (e.g. ``{o.environment}``)."""

    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(f"{V1}/projects/{o.ref}" + suffix.format(o=o), body(o) if body else None)

    return build


async def b_create_project(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects", {"name": uniq("p")})


async def b_delete_project(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{await new_project(w) if real else uniq('p')}")


async def b_create_environment(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/environments", env_body(uniq("env")))


async def b_put_environment(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/environments/{uniq('env')}", {"base_url": "http://127.0.0.1:9"})


async def b_delete_environment(w: World, o: Objects, real: bool) -> Request:
    return Request(
        f"{V1}/projects/{o.ref}/environments/{await new_environment(w, o) if real else uniq('env')}"
    )


async def b_create_test_case(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/test-cases", {"name": uniq("tc"), "steps": [STEP]})


async def b_put_test_case(w: World, o: Objects, real: bool) -> Request:
    name = uniq("tc")
    return Request(f"{V1}/projects/{o.ref}/test-cases/{name}", {"name": name, "steps": [STEP]})


async def b_delete_test_case(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/test-cases/{await new_test_case(w, o) if real else uniq('tc')}")


async def b_create_suite(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/suites", {"suite": uniq("s"), "tests": [o.test_case]})


async def b_put_suite(w: World, o: Objects, real: bool) -> Request:
    name = uniq("s")
    return Request(f"{V1}/projects/{o.ref}/suites/{name}", {"suite": name, "tests": [o.test_case]})


async def b_delete_suite(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/suites/{await new_suite(w, o) if real else uniq('s')}")


async def b_apply(w: World, o: Objects, real: bool) -> Request:
    body = {"test_cases": [{"name": uniq("tc"), "steps": [STEP]}], "suites": []}
    return Request(f"{V1}/projects/{o.ref}/apply", body)


async def b_put_test_case_yaml(w: World, o: Objects, real: bool) -> Request:
    name = uniq("tc")
    content = f"name: {name}\nsteps:\n  - request: {{url: '{{{{ env.base_url }}}}/health'}}\n"
    return Request(f"{V1}/projects/{o.ref}/test-cases/{name}/yaml", {"content": content})


async def b_apply_files(w: World, o: Objects, real: bool) -> Request:
    name = uniq("tc")
    content = f"name: {name}\nsteps:\n  - request: {{url: '{{{{ env.base_url }}}}/health'}}\n"
    return Request(f"{V1}/projects/{o.ref}/apply/files", {"files": [{"name": "a.yaml", "content": content}]})


async def b_import_curl(w: World, o: Objects, real: bool) -> Request:
    body = {
        "text": "curl -H 'X-Api-Key: k' https://h.example/x",
        "project": o.ref,
        "environment": uniq("env"),
    }
    return Request(f"{V1}/import/curl", body)


async def b_import_har(w: World, o: Objects, real: bool) -> Request:
    entry = {"request": {"method": "GET", "url": "https://h.example/x"}, "response": {"status": 200}}
    har = {"log": {"version": "1.2", "entries": [entry]}}
    return Request(f"{V1}/import/har", {"har": har, "project": o.ref, "environment": uniq("env")})


async def b_import_openapi(w: World, o: Objects, real: bool) -> Request:
    document = {"openapi": "3.1.0", "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    body = {"document": document, "base_url": "https://h.example", "project": o.ref}
    return Request(f"{V1}/import/openapi", {**body, "environment": uniq("env")})


async def b_import_postman(w: World, o: Objects, real: bool) -> Request:
    collection = {
        "info": {
            "name": "c",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [{"name": "x", "request": {"method": "GET", "url": "https://h.example/x"}}],
    }
    body = {"collection": collection, "project": o.ref, "environment": uniq("env")}
    return Request(f"{V1}/import/postman", body)


async def b_import_project(w: World, o: Objects, real: bool) -> Request:
    document = {"format": "orchestra.project", "version": 1, "project": {"name": "imported"}}
    return Request(f"{V1}/import", document, {"project": uniq("p")})


async def b_apply_projects(w: World, o: Objects, real: bool) -> Request:
    case = {"name": uniq("tc"), "steps": [STEP]}
    return Request(f"{V1}/apply", {"projects": [{"project": o.ref, "test_cases": [case]}]})


async def b_create_schedule(w: World, o: Objects, real: bool) -> Request:
    body = {"name": uniq("sch"), "suite": o.suite, "environment": o.environment, "cron": RARE}
    return Request(f"{V1}/projects/{o.ref}/schedules", body)


async def b_delete_schedule(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/schedules/{await new_schedule(w, o) if real else uniq('sch')}")


async def new_webhook(w: World, o: Objects) -> str:
    body = {"name": uniq("wh"), "url": "https://hooks.example.com/y"}
    return await created(w, f"{V1}/projects/{o.ref}/webhooks", body, "name")


async def b_create_webhook(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/webhooks", {"name": uniq("wh"), "url": "https://e.example/h"})


async def b_delete_webhook(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/projects/{o.ref}/webhooks/{await new_webhook(w, o) if real else uniq('wh')}")


async def b_create_run(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/runs", run_body(o))


async def b_cancel_run(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/runs/{await pending_run(w, o) if real else uuid.uuid4()}/cancel")


def of_run(suffix: str = "", params: dict[str, str] | None = None) -> Build:
    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(f"{V1}/runs/{o.run_id}{suffix}", params=params)

    return build


async def b_compare_runs(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/runs/{o.run_id}/compare", params={"with": o.run_id})


def mute_body(o: Objects, test_case: str) -> dict[str, Any]:
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return {"test_case": test_case, "environment": o.environment, "reason": "matrix", "expires_at": expires}


async def b_create_mute(w: World, o: Objects, real: bool) -> Request:
    test_case = await new_test_case(w, o) if real else uniq("tc")
    return Request(f"{V1}/projects/{o.ref}/mutes", mute_body(o, test_case))


async def b_delete_mute(w: World, o: Objects, real: bool) -> Request:
    made = (
        await created(w, f"{V1}/projects/{o.ref}/mutes", mute_body(o, await new_test_case(w, o)))
        if real
        else uuid.uuid4()
    )
    return Request(f"{V1}/projects/{o.ref}/mutes/{made}")


async def failure_group_id(w: World, o: Objects) -> str:
    response = await w.platform.get(f"{V1}/insights/failure-groups", params={"project": o.ref})
    assert response.status_code == 200, response.text
    return str(response.json()["items"][0]["id"])


def failure_group(suffix: str = "", body: Any = None) -> Build:
    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(f"{V1}/insights/failure-groups/{await failure_group_id(w, o)}{suffix}", body)

    return build


def insights(kind: str) -> Build:
    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(f"{V1}/insights/{kind}", params={"project": o.ref})

    return build


async def b_create_suite_run(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/suite-runs", suite_run_body(o))


async def b_cancel_suite_run(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/suite-runs/{await pending_suite_run(w, o) if real else uuid.uuid4()}/cancel")


def of_suite_run(suffix: str = "", params: dict[str, str] | None = None) -> Build:
    async def build(w: World, o: Objects, real: bool) -> Request:
        return Request(f"{V1}/suite-runs/{o.suite_run_id}{suffix}", params=params)

    return build


async def b_create_token(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/tokens", {"name": uniq("t"), "role": "viewer"})


async def b_revoke_token(w: World, o: Objects, real: bool) -> Request:
    return Request(f"{V1}/tokens/{await new_token(w) if real else uuid.uuid4()}")


P = "/api/v1/projects/{project}"
ENV, TC, SUITE, SCHED = f"{P}/environments", f"{P}/test-cases", f"{P}/suites", f"{P}/schedules"
HOOKS = f"{P}/webhooks"
MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", f"{P}/documents"): Entry(SIGNED_IN, in_project("/documents"), other_project=404),
    ("POST", f"{P}/documents"): Entry(
        EDITORS, in_project("/documents", lambda o: {"title": "matrix", "text": "# Doc\n\nText."}), 201, 404
    ),
    ("GET", f"{P}/documents/search"): Entry(
        SIGNED_IN, in_project("/documents/search?q=doc"), other_project=404
    ),
    ("GET", f"{P}/documents/{{document}}"): Entry(SIGNED_IN, b_document, other_project=404),
    ("DELETE", f"{P}/documents/{{document}}"): Entry(EDITORS, b_document, 204, other_project=404),
    # documentation and probes
    ("GET", "/api/v1/openapi.json"): Entry(ALL, fixed("/api/v1/openapi.json")),
    ("GET", "/docs"): Entry(ALL, fixed("/docs")),
    ("GET", "/docs/oauth2-redirect"): Entry(ALL, fixed("/docs/oauth2-redirect")),
    ("GET", "/redoc"): Entry(ALL, fixed("/redoc")),
    ("GET", "/api/v1/health"): Entry(ALL, fixed(f"{V1}/health")),
    ("GET", "/api/v1/health/ready"): Entry(ALL, fixed(f"{V1}/health/ready")),
    ("GET", "/api/v1/health/live"): Entry(ALL, fixed(f"{V1}/health/live")),
    ("GET", "/api/v1/schemas/testcase.json"): Entry(ALL, fixed(f"{V1}/schemas/testcase.json")),
    ("GET", "/api/v1/schemas/suite.json"): Entry(ALL, fixed(f"{V1}/schemas/suite.json")),
    ("GET", "/api/v1/schemas/dataplan.json"): Entry(ALL, fixed(f"{V1}/schemas/dataplan.json")),
    ("GET", "/api/v1/me"): Entry(SIGNED_IN, fixed(f"{V1}/me")),
    ("GET", "/api/v1/auth/options"): Entry(ALL, fixed(f"{V1}/auth/options")),
    # projects
    ("GET", "/api/v1/projects"): Entry(SIGNED_IN, fixed(f"{V1}/projects")),
    ("POST", "/api/v1/projects"): Entry(TENANT_EDITORS, b_create_project, 201),
    ("GET", P): Entry(SIGNED_IN, in_project(""), other_project=404),
    ("PATCH", P): Entry(ADMINS, in_project("", lambda o: {"description": "matrix"})),
    ("DELETE", P): Entry(ADMINS, b_delete_project, 204),
    ("GET", f"{P}/retention"): Entry(SIGNED_IN, in_project("/retention"), other_project=404),
    ("PUT", f"{P}/retention"): Entry(ADMINS, in_project("/retention", lambda o: {"keep_days": 3650})),
    ("GET", f"{P}/export"): Entry(SIGNED_IN, in_project("/export"), other_project=404),
    ("POST", "/api/v1/import"): Entry(ADMINS, b_import_project),
    # environments
    ("GET", ENV): Entry(SIGNED_IN, in_project("/environments"), other_project=404),
    ("POST", ENV): Entry(EDITORS, b_create_environment, 201, other_project=404),
    ("GET", f"{ENV}/{{environment}}"): Entry(
        SIGNED_IN, in_project("/environments/{o.environment}"), other_project=404
    ),
    ("PUT", f"{ENV}/{{name}}"): Entry(EDITORS, b_put_environment, 201, other_project=404),
    ("PATCH", f"{ENV}/{{environment}}"): Entry(
        EDITORS, in_project("/environments/{o.environment}", lambda o: {"variables": {"k": "v"}}), 200, 404
    ),
    ("DELETE", f"{ENV}/{{environment}}"): Entry(EDITORS, b_delete_environment, 204, other_project=404),
    # an environment's OpenAPI description (populate imports one for o.environment)
    ("PUT", f"{ENV}/{{environment}}/openapi"): Entry(
        EDITORS, in_project("/environments/{o.environment}/openapi", lambda o: {"document": SPEC}), 200, 404
    ),
    ("GET", f"{ENV}/{{environment}}/openapi"): Entry(
        SIGNED_IN, in_project("/environments/{o.environment}/openapi"), other_project=404
    ),
    ("GET", f"{ENV}/{{environment}}/openapi/document"): Entry(
        SIGNED_IN, in_project("/environments/{o.environment}/openapi/document"), other_project=404
    ),
    ("GET", f"{ENV}/{{environment}}/openapi/operations"): Entry(
        SIGNED_IN, in_project("/environments/{o.environment}/openapi/operations"), other_project=404
    ),
    ("GET", f"{ENV}/{{environment}}/openapi/operations/{{operation_id}}"): Entry(
        SIGNED_IN,
        in_project("/environments/{o.environment}/openapi/operations/get_health"),
        other_project=404,
    ),
    ("GET", f"{ENV}/{{environment}}/ledger"): Entry(
        SIGNED_IN, in_project("/environments/{o.environment}/ledger"), other_project=404
    ),
    ("POST", f"{ENV}/{{environment}}/sweep"): Entry(
        EDITORS, in_project("/environments/{o.environment}/sweep"), 200, 404
    ),
    # test cases
    ("GET", TC): Entry(SIGNED_IN, in_project("/test-cases"), other_project=404),
    ("POST", TC): Entry(EDITORS, b_create_test_case, 201, other_project=404),
    ("GET", f"{TC}/{{test_case}}"): Entry(
        SIGNED_IN, in_project("/test-cases/{o.test_case}"), other_project=404
    ),
    ("PUT", f"{TC}/{{name}}"): Entry(EDITORS, b_put_test_case, 201, other_project=404),
    ("DELETE", f"{TC}/{{test_case}}"): Entry(EDITORS, b_delete_test_case, 204, other_project=404),
    ("GET", f"{TC}/{{test_case}}/versions"): Entry(
        SIGNED_IN, in_project("/test-cases/{o.test_case}/versions"), other_project=404
    ),
    ("GET", f"{TC}/{{test_case}}/versions/{{version}}"): Entry(
        SIGNED_IN, in_project("/test-cases/{o.test_case}/versions/1"), other_project=404
    ),
    ("GET", f"{TC}/{{test_case}}/yaml"): Entry(
        SIGNED_IN, in_project("/test-cases/{o.test_case}/yaml"), other_project=404
    ),
    ("PUT", f"{TC}/{{name}}/yaml"): Entry(EDITORS, b_put_test_case_yaml, 201, other_project=404),
    # suites
    ("GET", SUITE): Entry(SIGNED_IN, in_project("/suites"), other_project=404),
    ("POST", SUITE): Entry(EDITORS, b_create_suite, 201, other_project=404),
    ("GET", f"{SUITE}/{{suite}}"): Entry(SIGNED_IN, in_project("/suites/{o.suite}"), other_project=404),
    ("PUT", f"{SUITE}/{{name}}"): Entry(EDITORS, b_put_suite, 201, other_project=404),
    ("DELETE", f"{SUITE}/{{suite}}"): Entry(EDITORS, b_delete_suite, 204, other_project=404),
    ("GET", f"{SUITE}/{{suite}}/yaml"): Entry(
        SIGNED_IN, in_project("/suites/{o.suite}/yaml"), other_project=404
    ),
    # apply: project B is invisible to the scoped token (by id: 404), and it may not create a project of
    # that name (403)
    ("POST", f"{P}/apply"): Entry(EDITORS, b_apply, 200, other_project=404),
    ("POST", f"{P}/apply/files"): Entry(EDITORS, b_apply_files, 200, other_project=404),
    ("POST", "/api/v1/apply"): Entry(EDITORS, b_apply_projects, 200, other_project=404),
    # importers: the secrets found go to an environment of the project named
    ("POST", "/api/v1/import/curl"): Entry(EDITORS, b_import_curl, 200, other_project=404),
    ("POST", "/api/v1/import/har"): Entry(EDITORS, b_import_har, 200, other_project=404),
    ("POST", "/api/v1/import/openapi"): Entry(EDITORS, b_import_openapi, 200, other_project=404),
    ("POST", "/api/v1/import/postman"): Entry(EDITORS, b_import_postman, 200, other_project=404),
    # runs
    ("POST", "/api/v1/runs"): Entry(EDITORS, b_create_run, 201, other_project=404),
    ("GET", "/api/v1/runs"): Entry(SIGNED_IN, fixed(f"{V1}/runs")),
    ("GET", "/api/v1/runs/{run_id}"): Entry(SIGNED_IN, of_run(), other_project=404),
    ("GET", "/api/v1/runs/{run_id}/ledger"): Entry(SIGNED_IN, of_run("/ledger"), other_project=404),
    ("POST", "/api/v1/runs/{run_id}/cancel"): Entry(EDITORS, b_cancel_run, 200, other_project=404),
    ("POST", "/api/v1/runs/{run_id}/rerun"): Entry(EDITORS, of_run("/rerun"), 201, other_project=404),
    ("GET", "/api/v1/runs/{run_id}/report"): Entry(
        SIGNED_IN, of_run("/report", {"format": "junit"}), other_project=404
    ),
    ("GET", "/api/v1/runs/{run_id}/events"): Entry(SIGNED_IN, of_run("/events"), other_project=404),
    # insights from history
    ("GET", "/api/v1/runs/{run_id}/compare"): Entry(SIGNED_IN, b_compare_runs, other_project=404),
    ("GET", "/api/v1/insights/flakiness"): Entry(SIGNED_IN, insights("flakiness"), other_project=404),
    ("GET", "/api/v1/insights/trends"): Entry(SIGNED_IN, insights("trends"), other_project=404),
    ("GET", "/api/v1/insights/operations"): Entry(SIGNED_IN, insights("operations"), other_project=404),
    # mutes
    ("GET", f"{P}/mutes"): Entry(SIGNED_IN, in_project("/mutes"), other_project=404),
    ("POST", f"{P}/mutes"): Entry(EDITORS, b_create_mute, 201, other_project=404),
    ("GET", f"{P}/mutes/{{mute_id}}"): Entry(SIGNED_IN, in_project("/mutes/{o.mute_id}"), other_project=404),
    ("DELETE", f"{P}/mutes/{{mute_id}}"): Entry(EDITORS, b_delete_mute, 204, other_project=404),
    ("GET", "/api/v1/insights/failure-groups"): Entry(
        SIGNED_IN, insights("failure-groups"), other_project=404
    ),
    ("GET", "/api/v1/insights/failure-groups/{group_id}"): Entry(
        SIGNED_IN, failure_group(), other_project=404
    ),
    ("PUT", "/api/v1/insights/failure-groups/{group_id}/issue"): Entry(
        EDITORS, failure_group("/issue", {"url": "https://issues.example.com/1"}), other_project=404
    ),
    ("DELETE", "/api/v1/insights/failure-groups/{group_id}/issue"): Entry(
        EDITORS, failure_group("/issue"), 204, other_project=404
    ),
    # suite runs
    ("POST", "/api/v1/suite-runs"): Entry(EDITORS, b_create_suite_run, 201, other_project=404),
    ("GET", "/api/v1/suite-runs"): Entry(SIGNED_IN, fixed(f"{V1}/suite-runs")),
    ("GET", "/api/v1/suite-runs/{suite_run_id}"): Entry(
        SIGNED_IN, of_suite_run("", {"steps": "true"}), other_project=404
    ),
    ("POST", "/api/v1/suite-runs/{suite_run_id}/cancel"): Entry(
        EDITORS, b_cancel_suite_run, 200, other_project=404
    ),
    ("POST", "/api/v1/suite-runs/{suite_run_id}/rerun"): Entry(
        EDITORS, of_suite_run("/rerun"), 201, other_project=404
    ),
    ("GET", "/api/v1/suite-runs/{suite_run_id}/report"): Entry(
        SIGNED_IN, of_suite_run("/report"), other_project=404
    ),
    ("GET", "/api/v1/suite-runs/{suite_run_id}/events"): Entry(
        SIGNED_IN, of_suite_run("/events"), other_project=404
    ),
    # schedules
    ("GET", SCHED): Entry(SIGNED_IN, in_project("/schedules"), other_project=404),
    ("POST", SCHED): Entry(EDITORS, b_create_schedule, 201, other_project=404),
    ("GET", f"{SCHED}/{{schedule}}"): Entry(
        SIGNED_IN, in_project("/schedules/{o.schedule}"), other_project=404
    ),
    ("PATCH", f"{SCHED}/{{schedule}}"): Entry(
        EDITORS, in_project("/schedules/{o.schedule}", lambda o: {"priority": 5}), 200, 404
    ),
    ("DELETE", f"{SCHED}/{{schedule}}"): Entry(EDITORS, b_delete_schedule, 204, other_project=404),
    ("POST", f"{SCHED}/{{schedule}}/enable"): Entry(
        EDITORS, in_project("/schedules/{o.schedule}/enable"), 200, 404
    ),
    ("POST", f"{SCHED}/{{schedule}}/disable"): Entry(
        EDITORS, in_project("/schedules/{o.schedule}/disable"), 200, 404
    ),
    ("GET", f"{SCHED}/{{schedule}}/next"): Entry(
        SIGNED_IN, in_project("/schedules/{o.schedule}/next"), other_project=404
    ),
    ("GET", f"{SCHED}/{{schedule}}/fires"): Entry(
        SIGNED_IN, in_project("/schedules/{o.schedule}/fires"), other_project=404
    ),
    # webhooks
    ("GET", HOOKS): Entry(SIGNED_IN, in_project("/webhooks"), other_project=404),
    ("POST", HOOKS): Entry(EDITORS, b_create_webhook, 201, other_project=404),
    ("GET", f"{HOOKS}/{{webhook}}"): Entry(SIGNED_IN, in_project("/webhooks/{o.webhook}"), other_project=404),
    ("PATCH", f"{HOOKS}/{{webhook}}"): Entry(
        EDITORS, in_project("/webhooks/{o.webhook}", lambda o: {"enabled": True}), 200, 404
    ),
    ("DELETE", f"{HOOKS}/{{webhook}}"): Entry(EDITORS, b_delete_webhook, 204, other_project=404),
    ("POST", f"{HOOKS}/{{webhook}}/rotate-secret"): Entry(
        EDITORS, in_project("/webhooks/{o.webhook}/rotate-secret"), 200, 404
    ),
    ("POST", f"{HOOKS}/{{webhook}}/ping"): Entry(EDITORS, in_project("/webhooks/{o.webhook}/ping"), 202, 404),
    ("GET", f"{HOOKS}/{{webhook}}/deliveries"): Entry(
        SIGNED_IN, in_project("/webhooks/{o.webhook}/deliveries"), other_project=404
    ),
    ("GET", f"{HOOKS}/{{webhook}}/deliveries/{{delivery}}"): Entry(
        SIGNED_IN, in_project("/webhooks/{o.webhook}/deliveries/{o.delivery_id}"), other_project=404
    ),
    # limits and the tenant
    ("GET", "/api/v1/limits"): Entry(SIGNED_IN, fixed(f"{V1}/limits")),
    ("PUT", "/api/v1/limits"): Entry(PLATFORM, fixed(f"{V1}/limits")),
    ("GET", "/api/v1/tenant"): Entry(SIGNED_IN, fixed(f"{V1}/tenant")),
    ("PATCH", "/api/v1/tenant"): Entry(PLATFORM, fixed(f"{V1}/tenant")),
    # tokens and the audit log
    ("GET", "/api/v1/tokens"): Entry(PLATFORM, fixed(f"{V1}/tokens")),
    ("POST", "/api/v1/tokens"): Entry(PLATFORM, b_create_token, 201),
    ("DELETE", "/api/v1/tokens/{token_id}"): Entry(PLATFORM, b_revoke_token),
    ("GET", "/api/v1/audit"): Entry(ADMINS, fixed(f"{V1}/audit")),
}


# -- the AI side: tool endpoints (ids, not names), DataPlan review, assistant (no ai-service runs here) ------


async def object_ids(w: World, o: Objects) -> dict[str, str]:
    environment = await w.platform.get(f"{V1}/projects/{o.ref}/environments/{o.environment}")
    test_case = await w.platform.get(f"{V1}/projects/{o.ref}/test-cases/{o.test_case}")
    return {
        "environment": environment.json()["id"],
        "test_case": test_case.json()["id"],
        "run": o.run_id,
        "project": o.project_id,
    }


def tool(suffix: str, body: Callable[[dict[str, str]], Any] | None = None, **params: str) -> Build:
    """``/tools<suffix>`` with the objects' ids in place of ``{environment}``, ``{test_case}``, ``{run}``."""

    async def build(w: World, o: Objects, real: bool) -> Request:
        ids = await object_ids(w, o)
        query = {key: value.format(**ids) for key, value in params.items()} or None
        return Request(f"{V1}/tools" + suffix.format(**ids), body(ids) if body else None, query)

    return build


def dataplan(suffix: str = "", body: Any = None, *, pinned: bool = False, own: bool = False) -> Build:
    """The DataPlan of the test case in the environment; ``pinned``: pin one first (as the platform);
    ``own``: of a new test case, so that callers running at once do not unpin each other's pin."""

    async def build(w: World, o: Objects, real: bool) -> Request:
        test_case = await new_test_case(w, o) if own and real else o.test_case
        path = f"{V1}/projects/{o.ref}/test-cases/{test_case}/dataplan"
        params = {"environment": o.environment}
        if pinned and real:
            response = await w.platform.put(path, json={"version": 1}, params=params)
            assert response.status_code == 200, response.text
        return Request(path + suffix, body, params)

    return build


CHAT = {"messages": [{"role": "user", "content": "hi"}]}
MATRIX.update(
    {
        ("GET", "/api/v1/tools/environments/{environment_id}"): Entry(
            SIGNED_IN, tool("/environments/{environment}"), other_project=404
        ),
        ("GET", "/api/v1/tools/environments/{environment_id}/catalogue"): Entry(
            SIGNED_IN, tool("/environments/{environment}/catalogue"), other_project=404
        ),
        ("GET", "/api/v1/tools/environments/{environment_id}/entities"): Entry(
            SIGNED_IN, tool("/environments/{environment}/entities"), other_project=404
        ),
        ("POST", "/api/v1/tools/dataplans/validate"): Entry(
            SIGNED_IN,
            tool("/dataplans/validate", lambda ids: {"environment_id": ids["environment"], "plan": {}}),
            other_project=404,
        ),
        ("GET", "/api/v1/tools/search"): Entry(
            SIGNED_IN, tool("/search", project_id="{project}", q="health"), other_project=404
        ),
        ("GET", "/api/v1/tools/runs/{run_id}/evidence"): Entry(
            SIGNED_IN, tool("/runs/{run}/evidence"), other_project=404
        ),
        ("GET", "/api/v1/tools/testcases/{test_case_id}"): Entry(
            SIGNED_IN, tool("/testcases/{test_case}"), other_project=404
        ),
        ("GET", f"{TC}/{{test_case}}/dataplan"): Entry(SIGNED_IN, dataplan(pinned=True), other_project=404),
        ("PUT", f"{TC}/{{test_case}}/dataplan"): Entry(
            EDITORS, dataplan(body={"version": 1}), other_project=404
        ),
        # the matrix's test case declares no data needs: 409 once the caller is let through
        ("POST", f"{TC}/{{test_case}}/dataplan/generate"): Entry(
            EDITORS, dataplan("/generate"), 409, other_project=404
        ),
        ("DELETE", f"{TC}/{{test_case}}/dataplan/pin"): Entry(
            EDITORS, dataplan("/pin", pinned=True, own=True), 204, other_project=404
        ),
        # no ai-service is running: 503 once the caller is let through and the objects were found
        ("POST", "/api/v1/runs/{run_id}/explain"): Entry(
            SIGNED_IN, of_run("/explain"), 503, other_project=404
        ),
        ("POST", f"{P}/assistant/suggest"): Entry(
            SIGNED_IN,
            in_project("/assistant/suggest", lambda o: {"environment": o.environment, "operation_id": "x"}),
            503,
            other_project=404,
        ),
        ("POST", f"{P}/assistant/chat"): Entry(
            SIGNED_IN, in_project("/assistant/chat", lambda o: CHAT), 503, other_project=404
        ),
    }
)
# Bodies of the fixed-path writes.
FIXED_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/limits"): {"max_active_runs": None},
    ("PATCH", "/api/v1/tenant"): {"weight": 1},
}


async def send(
    client: httpx.AsyncClient, method: str, key: tuple[str, str], request: Request
) -> httpx.Response:
    body = request.json if request.json is not None else FIXED_BODIES.get(key)
    return await client.request(method, request.path, json=body, params=request.params)


# -- the world ---------------------------------------------------------------------------------------------


async def populate(platform: httpx.AsyncClient, o: Objects) -> None:
    async def post(path: str, body: Any, status: int = 201) -> dict[str, Any]:
        response = await platform.post(f"{V1}{path}", json=body)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    o.project_id = (await post("/projects", {"name": o.project}))["id"]
    o.ref = o.project
    await post(f"/projects/{o.ref}/environments", env_body(o.environment))
    spec = await platform.put(
        f"{V1}/projects/{o.ref}/environments/{o.environment}/openapi", json={"document": SPEC}
    )
    assert spec.status_code == 200, spec.text
    await post(f"/projects/{o.ref}/test-cases", {"name": o.test_case, "steps": [STEP]})
    await post(f"/projects/{o.ref}/suites", {"suite": o.suite, "tests": [o.test_case]})
    schedule = {"name": o.schedule, "suite": o.suite, "environment": o.environment, "cron": RARE}
    await post(f"/projects/{o.ref}/schedules", schedule)
    o.run_id = (await post("/runs", run_body(o)))["id"]
    assert (await post(f"/runs/{o.run_id}/cancel", None, 200))["status"] == "CANCELLED"
    o.mute_id = (await post(f"/projects/{o.ref}/mutes", mute_body(o, o.test_case)))["id"]
    o.suite_run_id = (await post("/suite-runs", suite_run_body(o)))["id"]
    assert (await post(f"/suite-runs/{o.suite_run_id}/cancel", None, 200))["status"] == "CANCELLED"
    await post(f"/projects/{o.ref}/webhooks", {"name": o.webhook, "url": "https://hooks.example.com/x"})
    o.delivery_id = (await post(f"/projects/{o.ref}/webhooks/{o.webhook}/ping", None, 202))["id"]


@pytest.fixture(scope="module")
async def world(
    pg_server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    name = f"orchestra_test_{uuid.uuid4().hex[:12]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    owner_url = with_database(pg_server_url, name)
    data_dir: Path = tmp_path_factory.mktemp("matrix") / "data"
    settings = Settings(
        database_url=app_url(owner_url),
        migration_database_url=owner_url,
        data_dir=data_dir,
        executor_concurrency=2,
        ai_url=refused_url(),  # the assistant's 503, whatever serves on the default port
    )
    runtime = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        app = create_app(settings, runtime)
        token = (await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir)).token
        assert token is not None
        transport = httpx.ASGITransport(app=app)

        def client(token: str | None) -> httpx.AsyncClient:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.AsyncClient(transport=transport, base_url="http://orchestra.test", headers=headers)

        platform = client(token)
        w = World(
            runtime,
            platform,
            {"anonymous": client(None), "platform": platform},
            Objects("alpha"),
            Objects("beta"),
        )
        try:
            await populate(platform, w.a)
            await populate(platform, w.b)
            for objects in (w.a, w.b):  # a failure to group: a run marked as failed, as an executor would
                failed = uuid.UUID(await pending_run(w, objects))
                async with runtime.db.transaction(runtime.tenant_id) as session:
                    await session.execute(
                        update(TestRun).where(TestRun.id == failed).values(status=RunStatus.FAILED)
                    )
            for caller, body in {
                "viewer": {"role": "viewer"},
                "editor": {"role": "editor"},
                "admin": {"role": "admin"},
                "scoped": {"role": "editor", "project": w.a.project},
            }.items():
                response = await platform.post(f"{V1}/tokens", json={"name": caller, **body})
                assert response.status_code == 201, response.text
                w.token_ids[caller] = response.json()["id"]
                w.callers[caller] = client(response.json()["token"])
            yield w
        finally:
            for each in w.callers.values():
                await each.aclose()
    finally:
        await runtime.stop()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the tests ---------------------------------------------------------------------------------------------


def route_table(app_routes: list[Any]) -> set[tuple[str, str]]:
    """The API's routes. Two need no role: the web application served beside it, outside /api (web.py), and
    /metrics, which answers only the scraper's own token (test_metrics.py)."""
    table: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app_routes):
        path = route.path
        assert isinstance(path, str), route
        if path in ("/{path:outside_api}", "/metrics"):
            continue
        for method in route.methods or ():
            if method != "HEAD":  # Starlette adds HEAD to every GET route
                table.add((method, path))
    return table


async def test_every_route_has_an_expectation(world: World) -> None:
    app = create_app(world.runtime.settings, world.runtime)
    routes = route_table(list(app.routes))
    assert len(routes) >= 60
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"routes without an entry in the role matrix: {missing}"
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    assert set(FIXED_BODIES) <= set(MATRIX)


async def check(world: World, key: tuple[str, str], caller: str) -> str | None:
    """None when ``caller`` gets what the matrix says for the route, else what went wrong."""
    entry = MATRIX[key]
    request = await entry.build(world, world.a, caller in entry.allowed)
    response = await send(world.callers[caller], key[0], key, request)
    if caller in entry.allowed:
        expected = entry.ok
    elif caller == "anonymous":
        expected = 401
        if response.headers.get("www-authenticate") != 'Bearer realm="orchestra"':
            return f"{caller}: no bare Bearer challenge ({response.headers.get('www-authenticate')!r})"
    else:
        expected = 403
    if response.status_code != expected:
        return f"{caller}: expected {expected}, got {response.status_code} {response.text[:300]}"
    if expected >= 400 and not response.headers["content-type"].startswith("application/problem+json"):
        return f"{caller}: the refusal is not a problem+json"
    return None


ROUTES = list(MATRIX)


@pytest.mark.parametrize("key", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_role_matrix(world: World, key: tuple[str, str]) -> None:
    """Each kind of caller, at once: allowed ones get the route's success status, others 401/403."""
    results = await asyncio.gather(*(check(world, key, caller) for caller in CALLERS))
    failures = [result for result in results if result is not None]
    assert not failures, "\n".join(failures)


OTHER_PROJECT = [
    key for key, entry in MATRIX.items() if entry.other_project is not None and "scoped" in entry.allowed
]


@pytest.mark.parametrize("key", OTHER_PROJECT, ids=[f"{m} {p}" for m, p in OTHER_PROJECT])
async def test_project_scoped_token_cannot_reach_another_project(world: World, key: tuple[str, str]) -> None:
    """Project B's objects (by name and by id) do not exist for a token of project A; the same request by
    the platform admin succeeds afterwards (so it was valid, and the refused one changed nothing)."""
    entry = MATRIX[key]
    method = key[0]

    async def attempt(other: Objects) -> None:
        request = await entry.build(world, other, True)
        response = await send(world.callers["scoped"], method, key, request)
        # apply by an unknown name would create that project, which a scoped token may not (403); by an
        # unknown id it is simply not found (404).
        applying = key[1].endswith(("/apply", "/apply/files"))
        allowed = {entry.other_project, 403} if applying else {entry.other_project}
        assert response.status_code in allowed, response.text
        response = await send(world.platform, method, key, request)
        assert response.status_code == entry.ok, response.text

    await asyncio.gather(attempt(world.b), attempt(world.b.by_id()))


async def test_project_scoped_lists_show_only_its_project(world: World) -> None:
    scoped = world.callers["scoped"]
    projects = (await scoped.get(f"{V1}/projects")).json()
    assert [item["name"] for item in projects["items"]] == [world.a.project]
    assert projects["total"] == 1
    everything = (await world.platform.get(f"{V1}/projects", params={"limit": 500})).json()
    assert {world.a.project, world.b.project} <= {item["name"] for item in everything["items"]}

    runs = (await scoped.get(f"{V1}/runs", params={"limit": 500})).json()
    assert runs["total"] == len(runs["items"]) > 0
    assert {item["project_id"] for item in runs["items"]} == {world.a.project_id}
    suite_runs = (await scoped.get(f"{V1}/suite-runs", params={"limit": 500})).json()
    assert suite_runs["total"] == len(suite_runs["items"]) > 0
    assert {item["project_id"] for item in suite_runs["items"]} == {world.a.project_id}
    for ref in (world.b.project, world.b.project_id):
        assert (await scoped.get(f"{V1}/runs", params={"project": ref})).status_code == 404
        assert (await scoped.get(f"{V1}/suite-runs", params={"project": ref})).status_code == 404
    of_b = await scoped.get(f"{V1}/runs", params={"suite_run": world.b.suite_run_id})
    assert of_b.status_code == 200
    assert of_b.json()["items"] == []
    # creating a project of B's name is refused, as is any project
    assert (await scoped.post(f"{V1}/projects", json={"name": world.b.project})).status_code == 403


async def test_denied_writes_change_nothing(world: World) -> None:
    """A refused DELETE leaves the object in place (the role is checked before the route runs)."""
    victim = await new_environment(world, world.a)
    for caller in ("anonymous", "viewer"):
        response = await world.callers[caller].delete(f"{V1}/projects/{world.a.ref}/environments/{victim}")
        assert response.status_code in (401, 403)
    assert (await world.platform.get(f"{V1}/projects/{world.a.ref}/environments/{victim}")).status_code == 200
    project = await new_project(world)
    for caller in ("anonymous", "viewer", "editor", "scoped"):
        assert (await world.callers[caller].delete(f"{V1}/projects/{project}")).status_code in (401, 403)
    assert (await world.platform.get(f"{V1}/projects/{project}")).status_code == 200
    token = await new_token(world)
    for caller in ("viewer", "editor", "admin", "scoped"):
        assert (await world.callers[caller].delete(f"{V1}/tokens/{token}")).status_code == 403
    listed = (await world.platform.get(f"{V1}/tokens", params={"limit": 500})).json()["items"]
    assert next(item for item in listed if item["id"] == token)["revoked_at"] is None
