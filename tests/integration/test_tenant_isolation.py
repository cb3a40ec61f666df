"""Two tenants with the same names for everything: the second one, with the strongest credentials a tenant
can hold, reaches none of the first one's objects through any endpoint, by name or by id, and the first
tenant's rows are byte-for-byte unchanged afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.app import create_app
from orchestra.auth import api_tokens
from orchestra.config import Settings
from orchestra.environments.schemas import EnvironmentCreate
from orchestra.models import Base
from orchestra.models.run_states import TERMINAL
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant

RARE = "0 3 1 1 *"  # once a year: never fires during the test
SLOW_MS = 30_000  # the longest the demo SUT waits
# Creating a run, suite run or schedule naming something missing may be invalid input rather than not found.
MAY_BE_INVALID = frozenset(
    {"/runs", "/suite-runs", "/projects/shop/schedules", "/projects/shop/schedules/nightly"}
)
TENANT_TABLES = [table.name for table in Base.metadata.sorted_tables if "tenant_id" in table.c]


def env_body(name: str, base_url: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "base_url": base_url, **fields}
    if "allow_private_network" in EnvironmentCreate.model_fields:
        body["allow_private_network"] = True
    return body


def case(name: str, path: str = "/health") -> dict[str, Any]:
    request = {"url": "{{ env.base_url }}" + path, "timeout_ms": 60_000}
    return {"name": name, "steps": [{"request": request, "expect": {"status": 200}}]}


@dataclass
class Tenant:
    api: httpx.AsyncClient
    tenant_id: uuid.UUID
    ids: dict[str, str]


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json() if status != 204 else {}
    return body


async def populate(api: httpx.AsyncClient, base_url: str, who: str, extra: bool) -> dict[str, str]:
    """The same names in both tenants: project shop, environment sut, test case health, suite smoke and
    schedule nightly. ``extra``: also objects whose names only this tenant has."""
    ids = {"project": (await ok(await api.post("/projects", json={"name": "shop"}), 201))["id"]}
    secrets = {"api_password": "demo-password", "marker": f"{who}-secret-marker"}
    body = env_body("sut", base_url, variables={"who": who}, secrets=secrets)
    ids["environment"] = (await ok(await api.post("/projects/shop/environments", json=body), 201))["id"]
    cases = [case("health")] + ([case("slow", f"/slow?ms={SLOW_MS}")] if extra else [])
    suites = [{"suite": "smoke", "tests": ["health"]}] + (
        [{"suite": "hidden", "tests": ["slow"]}] if extra else []
    )
    await ok(await api.post("/projects/shop/apply", json={"test_cases": cases, "suites": suites}))
    ids["test_case"] = (await ok(await api.get("/projects/shop/test-cases/health")))["id"]
    ids["suite"] = (await ok(await api.get("/projects/shop/suites/smoke")))["id"]
    schedule = {"name": "nightly", "suite": "smoke", "environment": "sut", "cron": RARE}
    ids["schedule"] = (await ok(await api.post("/projects/shop/schedules", json=schedule), 201))["id"]
    if extra:
        body = env_body("private", base_url)
        ids["private"] = (await ok(await api.post("/projects/shop/environments", json=body), 201))["id"]
    return ids


async def wait(api: httpx.AsyncClient, path: str, done: frozenset[str] = TERMINAL) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            body = await ok(await api.get(path))
            if body["status"] in done:
                return body
            await asyncio.sleep(0.05)


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


async def snapshot(owner: AsyncEngine, tenant_id: uuid.UUID, running: str) -> dict[str, list[str]]:
    """Every row of the tenant, as JSON text (the run still in progress aside: its lease moves on)."""
    rows: dict[str, list[str]] = {}
    async with owner.connect() as conn:
        for table in TENANT_TABLES:
            where = "tenant_id = :tenant"
            if table == "test_runs":
                where += " AND id <> :running"
            elif table == "step_results":
                where += " AND test_run_id <> :running"
            result = await conn.execute(
                text(f"SELECT to_jsonb(t)::text FROM {table} t WHERE {where} ORDER BY 1"),
                {"tenant": tenant_id, "running": running},
            )
            rows[table] = list(result.scalars())
        result = await conn.execute(
            text("SELECT to_jsonb(t)::text FROM tenants t WHERE id = :t"), {"t": tenant_id}
        )
        rows["tenants"] = list(result.scalars())
    return rows


@pytest.fixture
async def second(settings: Settings, runtime: Runtime) -> AsyncIterator[Tenant]:
    """Tenant "other", signed in with a token as strong as any: admin of every project, platform admin, and
    of the local-admin kind (so it may manage tokens too)."""
    async with runtime.db.transaction(None) as session:
        tenant_id = await ensure_tenant(session, "other")
    assert tenant_id != runtime.tenant_id
    token, row = api_tokens.issue(
        tenant_id,
        name="other admin",
        role="admin",
        created_by="test",
        kind="local-admin",
        platform_admin=True,
    )
    async with runtime.db.transaction(tenant_id) as session:
        session.add(row)
    transport = httpx.ASGITransport(app=create_app(settings, runtime))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://orchestra.test/api/v1",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield Tenant(client, tenant_id, {})


async def test_a_tenant_reaches_nothing_of_another(
    api: httpx.AsyncClient, second: Tenant, runtime: Runtime, demo_url: str, owner: AsyncEngine
) -> None:
    # -- tenant 1: objects, a finished run, a finished suite run and a run in progress -------------------
    one = await populate(api, demo_url, "tenant-one", extra=True)
    run = await ok(
        await api.post("/runs", json={"project": "shop", "environment": "sut", "test_case": "health"}), 201
    )
    one["run"] = run["id"]
    suite_run = await ok(
        await api.post("/suite-runs", json={"project": "shop", "environment": "sut", "suite": "smoke"}), 201
    )
    one["suite_run"] = suite_run["id"]
    slow = await ok(
        await api.post("/runs", json={"project": "shop", "environment": "sut", "test_case": "slow"}), 201
    )
    one["slow"] = slow["id"]
    assert (await wait(api, f"/runs/{one['run']}"))["status"] == "PASSED"
    assert (await wait(api, f"/suite-runs/{one['suite_run']}"))["status"] == "PASSED"
    await wait(api, f"/runs/{one['slow']}", frozenset({"IN_PROGRESS"}))
    tokens = (await ok(await api.get("/tokens")))["items"]
    one["token"] = tokens[0]["id"]
    before = await snapshot(owner, runtime.tenant_id, one["slow"])
    assert before["step_results"], "the finished runs recorded their steps"
    assert before["audit_events"]

    # -- tenant 2: the same names ---------------------------------------------------------------------
    two = second.api
    mine = await populate(two, "http://127.0.0.1:9", "tenant-two", extra=False)
    assert not set(mine.values()) & set(one.values())

    # -- every endpoint on tenant 1's objects: 404 ---------------------------------------------------
    p1, e1, tc1, s1, sch1 = (one[key] for key in ("project", "environment", "test_case", "suite", "schedule"))
    env_patch = {"variables": {"who": "pwned"}, "secrets": {"marker": "pwned"}}
    attempts: list[tuple[str, str, Any]] = [
        ("GET", f"/projects/{p1}", None),
        ("PATCH", f"/projects/{p1}", {"description": "pwned"}),
        ("DELETE", f"/projects/{p1}", None),
        ("GET", f"/projects/{p1}/environments", None),
        ("POST", f"/projects/{p1}/environments", env_body("x", "http://127.0.0.1:9")),
        ("PUT", f"/projects/{p1}/environments/sut", {"base_url": "http://127.0.0.1:9"}),
        ("GET", f"/projects/{p1}/test-cases", None),
        ("POST", f"/projects/{p1}/test-cases", case("x")),
        ("PUT", f"/projects/{p1}/test-cases/health", case("health", "/pwned")),
        ("GET", f"/projects/{p1}/suites", None),
        ("POST", f"/projects/{p1}/suites", {"suite": "x", "tests": ["health"]}),
        ("PUT", f"/projects/{p1}/suites/smoke", {"suite": "smoke", "tests": ["*"]}),
        ("GET", f"/projects/{p1}/schedules", None),
        (
            "POST",
            f"/projects/{p1}/schedules",
            {"name": "x", "suite": "smoke", "environment": "sut", "cron": RARE},
        ),
        ("GET", "/projects/shop/environments/private", None),  # a name only tenant 1 has
        ("GET", "/projects/shop/test-cases/slow", None),
        ("GET", "/projects/shop/suites/hidden", None),
    ]
    for project_ref, env_ref, tc_ref, suite_ref, schedule_ref in (
        (p1, "sut", "health", "smoke", "nightly"),  # tenant 1's project by id, its objects by name
        ("shop", e1, tc1, s1, sch1),  # tenant 2's own project, tenant 1's objects by id
        (p1, e1, tc1, s1, sch1),
    ):
        base = f"/projects/{project_ref}"
        attempts += [
            ("GET", f"{base}/environments/{env_ref}", None),
            ("PATCH", f"{base}/environments/{env_ref}", env_patch),
            ("DELETE", f"{base}/environments/{env_ref}", None),
            ("GET", f"{base}/test-cases/{tc_ref}", None),
            ("DELETE", f"{base}/test-cases/{tc_ref}", None),
            ("GET", f"{base}/test-cases/{tc_ref}/versions", None),
            ("GET", f"{base}/test-cases/{tc_ref}/versions/1", None),
            ("GET", f"{base}/suites/{suite_ref}", None),
            ("DELETE", f"{base}/suites/{suite_ref}", None),
            ("GET", f"{base}/schedules/{schedule_ref}", None),
            ("PATCH", f"{base}/schedules/{schedule_ref}", {"enabled": False, "cron": "* * * * *"}),
            ("POST", f"{base}/schedules/{schedule_ref}/disable", None),
            ("POST", f"{base}/schedules/{schedule_ref}/enable", None),
            ("GET", f"{base}/schedules/{schedule_ref}/next", None),
            ("GET", f"{base}/schedules/{schedule_ref}/fires", None),
            ("DELETE", f"{base}/schedules/{schedule_ref}", None),
        ]
    for run_id in (one["run"], one["slow"]):
        attempts += [
            ("GET", f"/runs/{run_id}", None),
            ("GET", f"/runs/{run_id}/report", None),
            ("GET", f"/runs/{run_id}/report?format=junit", None),
            ("GET", f"/runs/{run_id}/events", None),
            ("POST", f"/runs/{run_id}/cancel", None),
        ]
    sr1 = one["suite_run"]
    attempts += [
        ("GET", f"/suite-runs/{sr1}", None),
        ("GET", f"/suite-runs/{sr1}?steps=true", None),
        ("GET", f"/suite-runs/{sr1}/report", None),
        ("GET", f"/suite-runs/{sr1}/report?format=junit", None),
        ("GET", f"/suite-runs/{sr1}/events", None),
        ("POST", f"/suite-runs/{sr1}/cancel", None),
        ("GET", f"/runs?project={p1}", None),
        ("GET", f"/suite-runs?project={p1}", None),
        ("DELETE", f"/tokens/{one['token']}", None),
    ]
    # runs and schedules of tenant 2 that name tenant 1's project, environment, test case or suite
    run_bodies = [
        {"project": p1, "environment": "sut", "test_case": "health"},
        {"project": "shop", "environment": e1, "test_case": "health"},
        {"project": "shop", "environment": "private", "test_case": "health"},
        {"project": "shop", "environment": "sut", "test_case": "slow"},
        {"project": "shop", "environment": "sut", "test_case": tc1},
    ]
    attempts += [("POST", "/runs", body) for body in run_bodies]
    suite_bodies = [
        {"project": p1, "environment": "sut", "suite": "smoke"},
        {"project": "shop", "environment": e1, "suite": "smoke"},
        {"project": "shop", "environment": "sut", "suite": s1},
        {"project": "shop", "environment": "sut", "suite": "hidden"},
        {"project": "shop", "environment": "sut", "tests": ["slow"], "name": "x"},
    ]
    attempts += [("POST", "/suite-runs", body) for body in suite_bodies]
    schedule_bodies = [
        {"name": "x1", "suite": s1, "environment": "sut", "cron": RARE},
        {"name": "x2", "suite": "smoke", "environment": e1, "cron": RARE},
        {"name": "x3", "suite": "hidden", "environment": "sut", "cron": RARE},
    ]
    attempts += [("POST", "/projects/shop/schedules", body) for body in schedule_bodies]
    attempts += [
        ("PATCH", "/projects/shop/schedules/nightly", {"environment": e1}),
        ("PATCH", "/projects/shop/schedules/nightly", {"suite": s1}),
        ("PATCH", "/projects/shop/schedules/nightly", {"environment": "private"}),
    ]

    failures = []
    statuses: dict[int, int] = {}
    for method, path, body in attempts:
        response = await two.request(method, path, json=body)
        # 422 only where a body names a test case or reference the tenant does not have; never 2xx/403/409
        allowed = {404, 422} if body is not None and path in MAY_BE_INVALID else {404}
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code not in allowed:
            failures.append(f"{method} {path} {body}: {response.status_code} {response.text[:200]}")
        for secret in ("tenant-one", "tenant-one-secret-marker", demo_url):
            if secret in response.text:
                failures.append(f"{method} {path}: the response shows tenant 1's {secret!r}")
    assert not failures, "\n".join(failures)
    assert statuses[404] >= len(attempts) - 2, statuses  # 422: only the two bodies naming a missing test case

    # -- by name, tenant 2 gets its own objects; lists hold only its own ------------------------------
    assert (await ok(await two.get("/projects/shop")))["id"] == mine["project"]
    env = await ok(await two.get("/projects/shop/environments/sut"))
    assert (env["id"], env["variables"], env["base_url"]) == (
        mine["environment"],
        {"who": "tenant-two"},
        "http://127.0.0.1:9",
    )
    assert (await ok(await two.get("/projects/shop/test-cases/health")))["id"] == mine["test_case"]
    assert (await ok(await two.get("/projects/shop/suites/smoke")))["id"] == mine["suite"]
    assert (await ok(await two.get("/projects/shop/schedules/nightly")))["id"] == mine["schedule"]
    projects = await ok(await two.get("/projects"))
    assert [item["id"] for item in projects["items"]] == [mine["project"]]
    assert [item["id"] for item in (await ok(await two.get("/projects/shop/environments")))["items"]] == [
        mine["environment"]
    ]
    assert (await ok(await two.get("/projects/shop/test-cases")))["total"] == 1
    assert (await ok(await two.get("/projects/shop/suites")))["total"] == 1
    assert (await ok(await two.get("/projects/shop/schedules")))["total"] == 1
    assert (await ok(await two.get("/runs")))["total"] == 0
    assert (await ok(await two.get(f"/runs?suite_run={sr1}")))["total"] == 0
    assert (await ok(await two.get("/suite-runs")))["total"] == 0
    assert (await ok(await two.get("/tenant")))["name"] == "other"
    audit = (await ok(await two.get("/audit", params={"limit": 500})))["items"]
    assert audit
    assert {event["actor"] for event in audit} == {"token:other admin"}
    tokens_two = (await ok(await two.get("/tokens")))["items"]
    assert [item["name"] for item in tokens_two] == ["other admin"]

    # -- tenant 2 changes and runs its own objects by the shared names --------------------------------
    await ok(await two.patch("/projects/shop", json={"description": "tenant two"}))
    await ok(await two.patch("/projects/shop/environments/sut", json={"variables": {"who": "two again"}}))
    await ok(await two.put("/projects/shop/test-cases/health", json=case("health", "/changed")))
    await ok(await two.patch("/projects/shop/schedules/nightly", json={"enabled": False}))
    await ok(await two.patch("/tenant", json={"weight": 7}))
    own_run = await ok(
        await two.post("/runs", json={"project": "shop", "environment": "sut", "test_case": "health"}), 201
    )
    own_suite_run = await ok(
        await two.post("/suite-runs", json={"project": "shop", "environment": "sut", "suite": "smoke"}), 201
    )
    await wait(two, f"/runs/{own_run['id']}")
    await wait(two, f"/suite-runs/{own_suite_run['id']}")
    await ok(await two.delete("/projects/shop/schedules/nightly"), 204)
    async with owner.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT tenant_id, project_id, environment_id, test_case_id FROM test_runs"
                    " WHERE tenant_id = :t"
                ),
                {"t": second.tenant_id},
            )
        ).all()
        assert len(rows) == 2
        for row in rows:
            assert (str(row.project_id), str(row.environment_id), str(row.test_case_id)) == (
                mine["project"],
                mine["environment"],
                mine["test_case"],
            )
        # nothing of tenant 2 points at anything of tenant 1
        foreign = await conn.execute(
            text(
                """SELECT
                    (SELECT count(*) FROM test_runs WHERE tenant_id = :two
                        AND (project_id = :p OR environment_id = :e OR test_case_id = :tc)) +
                    (SELECT count(*) FROM suite_runs WHERE tenant_id = :two
                        AND (project_id = :p OR environment_id = :e OR suite_id = :s)) +
                    (SELECT count(*) FROM schedules WHERE tenant_id = :two
                        AND (environment_id = :e OR suite_id = :s)) +
                    (SELECT count(*) FROM environments WHERE tenant_id = :two AND project_id = :p)"""
            ),
            {"two": second.tenant_id, "p": p1, "e": e1, "tc": tc1, "s": s1},
        )
        assert foreign.scalar_one() == 0

    # -- tenant 1 is exactly as it was ----------------------------------------------------------------
    after = await snapshot(owner, runtime.tenant_id, one["slow"])
    for table in before:
        assert after[table] == before[table], f"tenant 1's {table} changed"
    async with owner.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status, cancel_requested, tenant_id FROM test_runs WHERE id = :id"),
                {"id": one["slow"]},
            )
        ).one()
    assert (row.status, row.cancel_requested, row.tenant_id) == ("IN_PROGRESS", False, runtime.tenant_id)
    # tenant 1 still sees all of its own, unchanged by tenant 2's work
    assert (await ok(await api.get("/projects/shop")))["description"] is None
    environment = await ok(await api.get("/projects/shop/environments/sut"))
    assert environment["variables"] == {"who": "tenant-one"}
    assert environment["secret_names"] == ["api_password", "marker"]
    assert (await ok(await api.get("/tenant")))["weight"] == 1
    assert (await ok(await api.get("/runs")))["total"] == 3
    assert (await ok(await api.get("/projects/shop/schedules/nightly")))["enabled"] is True
    cancelled = await ok(await api.post(f"/runs/{one['slow']}/cancel"))
    assert cancelled["cancel_requested"] is True


async def test_apply_to_another_tenants_project_id_stays_in_its_own_tenant(
    api: httpx.AsyncClient, second: Tenant, owner: AsyncEngine, runtime: Runtime
) -> None:
    project = await ok(await api.post("/projects", json={"name": "shop"}), 201)
    documents = {"test_cases": [case("intruder")], "suites": []}
    await second.api.post(f"/projects/{project['id']}/apply", json=documents)
    async with owner.connect() as conn:
        touched = await conn.execute(
            text("SELECT count(*) FROM test_cases WHERE tenant_id = :t OR project_id = :p"),
            {"t": runtime.tenant_id, "p": project["id"]},
        )
        assert touched.scalar_one() == 0
    assert (await ok(await api.get("/projects/shop/test-cases")))["total"] == 0


async def test_apply_to_an_unknown_project_id_is_404(api: httpx.AsyncClient, second: Tenant) -> None:
    project = await ok(await api.post("/projects", json={"name": "shop"}), 201)
    documents = {"test_cases": [case("intruder")], "suites": []}
    response = await second.api.post(f"/projects/{project['id']}/apply", json=documents)
    assert response.status_code == 404, response.text
    assert (await ok(await second.api.get("/projects")))["total"] == 0


async def test_a_name_shaped_like_an_id_stays_reachable(api: httpx.AsyncClient) -> None:
    name = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    await ok(await api.post("/projects", json={"name": name}), 201)
    assert (await ok(await api.get(f"/projects/{name}")))["name"] == name
