"""Rows of one tenant in every tenant-owned table, and how a test reads them as the application role:
what the row-level security tests (test_row_level_security.py, test_tenant_context.py) attack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orchestra.db import enter_params
from orchestra.models import Base
from orchestra.runtime import Runtime
from orchestra.tenant_context import ContextKey
from tests.integration.conftest import Harness

TENANT_TABLES = sorted(table.name for table in Base.metadata.sorted_tables if "tenant_id" in table.c)
SECRET = "rls-secret-value"


async def count(conn: AsyncConnection, table: str, where: str = "true", **params: Any) -> int:
    return int((await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)).scalar_one())


async def set_tenant(
    conn: AsyncConnection, key: ContextKey, tenant: uuid.UUID | str, project: uuid.UUID | str | None = None
) -> None:
    """Enter ``tenant`` (and ``project``) for the rest of the session, as the executor does; "" leaves."""
    if tenant == "":
        await conn.execute(text("SELECT set_config('orchestra.context', '', false)"))
        return
    tenant_id = uuid.UUID(str(tenant))
    project_id = uuid.UUID(str(project)) if project else None
    params = enter_params(key, tenant_id, project_id, whole_session=True)
    await conn.execute(text("SELECT orchestra_enter(:tenant, :project, :proof, :whole_session)"), params)


async def fill_every_tenant_table(
    harness: Harness, api: httpx.AsyncClient, runtime: Runtime, owner: AsyncEngine
) -> dict[str, Any]:
    """Tenant 1 with a row in every tenant-owned table, through the API where it can be."""
    project = harness.project
    response = await api.patch(
        f"/projects/{project}/environments/sut",
        json={"secrets": {"marker": SECRET}, "variables": {"v": SECRET}},
    )
    assert response.status_code == 200, response.text
    case = {
        "name": "health",
        "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
    }
    run = await harness.run(case)
    assert run["status"] == "PASSED", run
    await harness.apply(case, suites=[{"suite": "smoke", "tests": ["health"]}])
    body = {"project": project, "environment": "sut", "suite": "smoke"}
    response = await api.post("/suite-runs", json=body)
    assert response.status_code == 201, response.text
    await harness.wait(uuid.UUID(response.json()["runs"][0]))
    schedule = {"name": "nightly", "suite": "smoke", "environment": "sut", "cron": "0 3 1 1 *"}
    response = await api.post(f"/projects/{project}/schedules", json=schedule)
    assert response.status_code == 201, response.text
    response = await api.post("/tokens", json={"name": "ci", "role": "viewer", "project": project})
    assert response.status_code == 201, response.text
    document = {"title": "guide", "text": "# Guide\n\nHow the shop is tested."}
    response = await api.post(f"/projects/{project}/documents", json=document)
    assert response.status_code == 201, response.text
    spec = {"openapi": "3.1.0", "info": {"title": "sut", "version": "1"}, "paths": {}}
    response = await api.put(f"/projects/{project}/environments/sut/openapi", json={"document": spec})
    assert response.status_code == 200, response.text
    plan_url = f"/projects/{project}/test-cases/health/dataplan"
    response = await api.put(plan_url, params={"environment": "sut"}, json={"version": 1})
    assert response.status_code == 200, response.text
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"test_case": "health", "environment": "sut", "reason": "rls", "expires_at": expires}
    response = await api.post(f"/projects/{project}/mutes", json=body)
    assert response.status_code == 201, response.text
    # disabled: its delivery stays in the outbox, unsent (no deliverer adds attempts meanwhile)
    body = {"name": "hook", "url": "https://hooks.example.com/rls", "kind": "slack", "enabled": False}
    response = await api.post(f"/projects/{project}/webhooks", json=body)
    assert response.status_code == 201, response.text
    response = await api.post(f"/projects/{project}/webhooks/hook/ping")  # a delivery in the outbox
    assert response.status_code == 202, response.text
    response = await api.put(f"/projects/{project}/retention", json={"keep_days": 3650})
    assert response.status_code == 200, response.text
    project_row = (await api.get(f"/projects/{project}")).json()
    environment = (await api.get(f"/projects/{project}/environments/sut")).json()
    schedule_id = (await api.get(f"/projects/{project}/schedules/nightly")).json()["id"]
    tenant = runtime.tenant_id
    async with owner.connect() as conn:
        # the two tables no API call of a short test fills
        await conn.execute(
            text(
                "INSERT INTO environment_rate_slots (tenant_id, environment_id, next_at)"
                " VALUES (:t, :e, now())"
            ),
            {"t": tenant, "e": environment["id"]},
        )
        await conn.execute(
            text("INSERT INTO schedule_fires (tenant_id, schedule_id, fire_time) VALUES (:t, :s, now())"),
            {"t": tenant, "s": schedule_id},
        )
        await conn.execute(
            text(
                "INSERT INTO data_ledger (id, tenant_id, project_id, environment_id, step_seq, source, label,"
                " operation, method, resource, undo) VALUES (gen_random_uuid(), :t, :p, :e, 0, 'step', 'x',"
                " 'DELETE', 'DELETE', 'http://sut/x', 'sealed')"
            ),
            {"t": tenant, "p": project_row["id"], "e": environment["id"]},
        )
        # a failure group (what grouping a failed run makes: insights/grouping.py)
        await conn.execute(
            text(
                "INSERT INTO failure_groups (id, tenant_id, project_id, fingerprint, signature, embedding,"
                " first_run_id, first_seen_at, last_seen_at, failures) VALUES (gen_random_uuid(), :t, :p,"
                " 'f', 's', array_fill(0.0::real, ARRAY[512])::vector, :r, now(), now(), 1)"
            ),
            {"t": tenant, "p": project_row["id"], "r": run["id"]},
        )
        # an attempt of the delivery (what a deliverer logs)
        await conn.execute(
            text(
                "INSERT INTO webhook_attempts (tenant_id, project_id, webhook_id, delivery_id, attempt, at,"
                " duration_ms, status_code) SELECT tenant_id, project_id, webhook_id, id, 1, now(), 1.0, 200"
                " FROM webhook_deliveries WHERE tenant_id = :t"
            ),
            {"t": tenant},
        )
        # a run whose verdict the reaper gave, its calls not in the operations rollup (migration 0028)
        await conn.execute(
            text(
                "INSERT INTO operation_backlog (test_run_id, tenant_id, project_id)"
                " SELECT id, tenant_id, project_id FROM test_runs WHERE id = :r"
            ),
            {"r": run["id"]},
        )
        # the compact verdict of a run deleted by retention (retention/sweep.py)
        await conn.execute(
            text(
                "INSERT INTO run_verdicts (id, tenant_id, project_id, test_case_id, test_case_version_id,"
                " environment_id, status, trigger, attempt, created_at) SELECT gen_random_uuid(), tenant_id,"
                " project_id, test_case_id, test_case_version_id, environment_id, status, trigger, attempt,"
                " created_at FROM test_runs WHERE id = :r"
            ),
            {"r": run["id"]},
        )
        counts = {table: await count(conn, table, "tenant_id = :t", t=tenant) for table in TENANT_TABLES}
    assert all(counts.values()), f"tenant 1 has no rows in {[t for t, n in counts.items() if not n]}"
    return {
        "key": runtime.db.context_key,
        "tenant": tenant,
        "counts": counts,
        "project": project_row["id"],
        "environment": environment["id"],
        "run": run["id"],
    }
