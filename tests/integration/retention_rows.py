"""A large history of finished runs written with SQL (``generate_series``), for the retention test on a
million step rows and ``bench/retention.py``: runs of a project's test cases (made through the API) on its
first environment, all older than ``older_than_days``, each with ``steps`` step rows."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

RUNS = """
WITH c AS (SELECT row_number() OVER (ORDER BY t.id) - 1 AS n, t.id AS case_id, v.id AS version_id
           FROM test_cases t
           JOIN test_case_versions v ON v.test_case_id = t.id AND v.version = t.current_version
           WHERE t.project_id = :project),
     k AS (SELECT count(*) AS cases FROM c),
     e AS (SELECT id FROM environments WHERE project_id = :project ORDER BY name LIMIT 1)
INSERT INTO test_runs (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, name,
                       status, priority, queue_key, trigger, attempt, fencing_token, cancel_requested,
                       variables, context, created_at, started_at, finished_at)
SELECT gen_random_uuid(), :tenant, :project, c.case_id, c.version_id, e.id, 'generated',
       CASE WHEN s.i % 10 = 0 THEN 'FAILED' ELSE 'PASSED' END, 0, 0, 'api', 1, 1, false, '{}', '{}',
       s.at, s.at, s.at + interval '250 ms'
FROM (SELECT i, now() - make_interval(days => :older_than_days)
                - (i::float / :runs) * interval '30 days' AS at
      FROM generate_series(1, :runs) i) s
CROSS JOIN e JOIN c ON c.n = s.i % (SELECT cases FROM k)
"""
STEPS = """
INSERT INTO step_results (tenant_id, test_run_id, seq, phase, name, status, attempts, fencing_token, request,
                          response, assertions, started_at, duration_ms)
SELECT r.tenant_id, r.id, g.seq, 'main', 'step ' || g.seq, 'passed', 1, 1,
       json_build_object('method', 'GET', 'url', 'http://sut/orders/' || g.seq),
       json_build_object('status', 200, 'body', '{"id": 1, "status": "paid", "items": []}'), '[]',
       r.created_at, 12.5
FROM test_runs r CROSS JOIN generate_series(0, :steps - 1) g(seq) WHERE r.project_id = :project
"""


async def generate(
    owner: AsyncEngine, tenant: uuid.UUID, project: uuid.UUID, runs: int, steps: int, older_than_days: int = 2
) -> None:
    """As the tables' owner (row-level security does not apply): ``runs`` runs, ``runs * steps`` steps."""
    params = {"tenant": tenant, "project": project}
    async with owner.begin() as conn:
        await conn.execute(text(RUNS), {**params, "runs": runs, "older_than_days": older_than_days})
        await conn.execute(text(STEPS), {**params, "steps": steps})
    async with owner.connect() as conn:
        await conn.execute(text("COMMIT"))
        await conn.execute(text("ANALYZE test_runs"))
        await conn.execute(text("ANALYZE step_results"))
