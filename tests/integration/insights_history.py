"""A crafted history of runs, written straight into the tables (as the executor would have left it), for the
insights tests: a project with an environment and test cases made through the API, then runs and steps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from orchestra.models import Project, StepResult, TestCase, TestCaseVersion, TestRun
from orchestra.models.run_states import RunStatus
from orchestra.runtime import Runtime

LETTERS = {"P": RunStatus.PASSED, "F": RunStatus.FAILED, "E": RunStatus.ERROR, "C": RunStatus.CANCELLED}


def case(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"name": "login", "request": {"url": "{{ env.base_url }}/login"}},
            {"name": "pay", "request": {"url": "{{ env.base_url }}/orders/1/pay"}},
        ],
    }


@dataclass
class History:
    api: httpx.AsyncClient
    runtime: Runtime
    project: str
    environments: dict[str, uuid.UUID] = field(default_factory=dict)
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=2))

    async def setup(self, *cases: str, environments: tuple[str, ...] = ("sut",)) -> None:
        response = await self.api.post("/projects", json={"name": self.project})
        assert response.status_code == 201, response.text
        for name in environments:
            body = {"name": name, "base_url": "http://127.0.0.1:9", "allow_private_network": True}
            response = await self.api.post(f"/projects/{self.project}/environments", json=body)
            assert response.status_code == 201, response.text
            self.environments[name] = uuid.UUID(response.json()["id"])
        body = {"test_cases": [case(name) for name in cases], "suites": []}
        response = await self.api.post(f"/projects/{self.project}/apply", json=body)
        assert response.status_code == 200, response.text

    async def runs(
        self,
        name: str,
        statuses: str,
        environment: str = "sut",
        bodies: list[Any] | None = None,
        variables: dict[str, Any] | None = None,
        at: datetime | None = None,
        errors: list[str] | None = None,
    ) -> list[uuid.UUID]:
        """One run per letter (P passed, F failed, E error, C cancelled), a minute apart, each with the steps
        login (passed) and pay (passed when the run passed; its response body from ``bodies``; with
        ``errors``, a failed run's pay step errs with that run's message)."""
        tenant = self.runtime.tenant_id
        ids = []
        async with self.runtime.db.transaction(tenant) as session:
            found = (
                await session.execute(
                    select(TestCase, TestCaseVersion)
                    .join(TestCaseVersion, TestCaseVersion.test_case_id == TestCase.id)
                    .join(Project, Project.id == TestCase.project_id)
                    .where(
                        Project.name == self.project,
                        TestCase.name == name,
                        TestCaseVersion.version == TestCase.current_version,
                    )
                )
            ).one()
            test_case, version = found
            for index, letter in enumerate(statuses):
                self.clock = (at or self.clock) + timedelta(minutes=1)
                at = None
                status = LETTERS[letter]
                run = TestRun(
                    id=uuid.uuid4(),
                    tenant_id=tenant,
                    project_id=test_case.project_id,
                    test_case_id=test_case.id,
                    test_case_version_id=version.id,
                    environment_id=self.environments[environment],
                    name=name,
                    status=RunStatus.IN_PROGRESS,  # steps are written to a run in progress, its verdict after
                    priority=0,
                    queue_key=0.0,
                    trigger="api",
                    attempt=1,
                    fencing_token=1,
                    cancel_requested=False,
                    variables={},
                    context={"vars": variables or {"order": index}},
                    created_at=self.clock,
                    started_at=self.clock,
                    finished_at=self.clock + timedelta(milliseconds=100 * (index + 1)),
                )
                session.add(run)
                await session.flush()
                passed = status == RunStatus.PASSED
                body = bodies[index] if bodies else {"paid": passed}
                for seq, (step, verdict, path, code) in enumerate(
                    [
                        ("login", "passed", "/login", 200),
                        (
                            "pay",
                            "passed" if passed else "error" if errors else "failed",
                            f"/orders/{index + 10}/pay",
                            200 if passed else 503,
                        ),
                    ]
                ):
                    session.add(
                        StepResult(
                            tenant_id=tenant,
                            test_run_id=run.id,
                            seq=seq,
                            phase="main",
                            name=step,
                            status=verdict,
                            attempts=1,
                            fencing_token=1,
                            request={"method": "POST", "url": f"http://127.0.0.1:9{path}?x=1"},
                            response={"status": code, "body": body},
                            assertions=[
                                {"check": "status", "passed": code == 200, "expected": 200, "actual": code}
                            ],
                            started_at=self.clock,
                            duration_ms=10.0 * (seq + 1),
                            error=errors[index] if errors and step == "pay" and not passed else None,
                        )
                    )
                await session.flush()
                run.status = status
                await session.flush()
                ids.append(run.id)
        return ids
