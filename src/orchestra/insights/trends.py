"""Trends as SQL aggregates: pass rate and duration percentiles over time buckets, failures by step, and
per SUT operation (method + path template) latency percentiles and error rates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestra.insights.repository import VERDICTS

# An id-like path segment (digits, a UUID, a long hex string) becomes {id} in an operation's path template.
UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ID_SEGMENT = rf"/([0-9]+|{UUID}|[0-9a-fA-F]{{16,}})(?=/|$)"
PATH_OF_URL = r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which runs: a project's, in the window, optionally of one environment, test case or suite."""

    tenant_id: uuid.UUID
    project_id: uuid.UUID
    since: datetime
    environment_id: uuid.UUID | None = None
    test_case_id: uuid.UUID | None = None
    suite_id: uuid.UUID | None = None

    def where(self, alias: str = "r") -> tuple[str, dict[str, Any]]:
        clauses = [
            f"{alias}.tenant_id = :tenant",
            f"{alias}.project_id = :project",
            f"{alias}.created_at >= :since",
            f"{alias}.status IN ({', '.join(repr(status) for status in VERDICTS)})",
        ]
        params: dict[str, Any] = {"tenant": self.tenant_id, "project": self.project_id, "since": self.since}
        if self.environment_id is not None:
            clauses.append(f"{alias}.environment_id = :environment")
            params["environment"] = self.environment_id
        if self.test_case_id is not None:
            clauses.append(f"{alias}.test_case_id = :test_case")
            params["test_case"] = self.test_case_id
        if self.suite_id is not None:
            clauses.append(
                f"{alias}.suite_run_id IN "
                "(SELECT id FROM suite_runs WHERE tenant_id = :tenant AND suite_id = :suite)"
            )
            params["suite"] = self.suite_id
        return " AND ".join(clauses), params

    def where_deleted(self, alias: str = "v") -> str:
        """The same scope over the compact verdicts of deleted runs (run_verdicts; same parameters)."""
        clauses = [
            f"{alias}.tenant_id = :tenant",
            f"{alias}.project_id = :project",
            f"{alias}.created_at >= :since",
            f"{alias}.status IN ({', '.join(repr(status) for status in VERDICTS)})",
        ]
        if self.environment_id is not None:
            clauses.append(f"{alias}.environment_id = :environment")
        if self.test_case_id is not None:
            clauses.append(f"{alias}.test_case_id = :test_case")
        if self.suite_id is not None:
            clauses.append(f"{alias}.suite_id = :suite")
        return " AND ".join(clauses)


def buckets_sql(scope: Scope, bucket: str) -> tuple[str, dict[str, Any]]:
    """Pass rate and duration per bucket (of UTC days and weeks), over the kept runs and the verdicts of
    deleted ones."""
    where, params = scope.where()
    duration = "extract(epoch FROM finished_at - started_at) * 1000"
    sql = f"""
        WITH verdicts AS (
            SELECT r.created_at, r.status, r.started_at, r.finished_at FROM test_runs r WHERE {where}
            UNION ALL
            SELECT v.created_at, v.status, v.started_at, v.finished_at FROM run_verdicts v
            WHERE {scope.where_deleted()}
        )
        SELECT date_trunc(:bucket, created_at, 'UTC') AS start,
               count(*) AS runs,
               count(*) FILTER (WHERE status = 'PASSED') AS passes,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {duration}) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {duration}) AS p95
        FROM verdicts
        GROUP BY 1 ORDER BY 1"""
    return sql, {**params, "bucket": bucket}


def failures_by_step_sql(scope: Scope, limit: int = 50) -> tuple[str, dict[str, Any]]:
    where, params = scope.where()
    sql = f"""
        SELECT s.phase, s.name, count(*) AS failures
        FROM test_runs r JOIN step_results s ON s.test_run_id = r.id
        WHERE {where} AND r.status <> 'PASSED' AND s.status IN ('failed', 'error')
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT {int(limit)}"""
    return sql, params


def operations_sql(scope: Scope, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    where, params = scope.where()
    sql = f"""
        WITH calls AS (
            SELECT upper(coalesce(s.request->>'method', 'GET')) AS method,
                   regexp_replace(
                       regexp_replace(regexp_replace(s.request->>'url', :origin, ''), '[?#].*$', ''),
                       :id_segment, '/{{id}}', 'g') AS path,
                   s.duration_ms,
                   (s.response->>'status') ~ '^[0-9]+$' AND (s.response->>'status')::int < 500 AS answered
            FROM test_runs r JOIN step_results s ON s.test_run_id = r.id
            WHERE {where} AND s.request->>'url' IS NOT NULL AND s.status <> 'skipped'
        )
        SELECT method, CASE WHEN path = '' THEN '/' ELSE path END AS path, count(*) AS calls,
               count(*) FILTER (WHERE answered IS NOT TRUE) AS errors,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
               count(*) OVER () AS total
        FROM calls GROUP BY 1, 2 ORDER BY calls DESC, 1, 2 LIMIT {int(limit)} OFFSET {int(offset)}"""
    return sql, {**params, "origin": PATH_OF_URL, "id_segment": ID_SEGMENT}
