"""Where `orchestra run` and `orchestra apply` send their work: the embedded engine or a server's REST API.

Both backends offer the same operations, so the command logic is written once (see runner.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx

from orchestra.actor import Actor
from orchestra.apply.service import apply_definition_groups
from orchestra.cli.suite_run_feeds import SuiteRunFeeds
from orchestra.definitions.projects import ProjectDefinitions
from orchestra.environments import service as environments
from orchestra.environments.schemas import EnvironmentUpdate
from orchestra.kit.egress_http import points_at_private_network
from orchestra.runs import service as runs
from orchestra.runs.schemas import SuiteRunCreate, SuiteRunOut

if TYPE_CHECKING:
    from orchestra.environments.openapi_schemas import SpecImport, SpecSummary
    from orchestra.runtime import Runtime
    from orchestra.transfer.schemas import ImportResult, ProjectDocument


class BackendError(Exception):
    """The backend refused or could not do the operation; the message is one line for the user."""


class Backend(Protocol):
    async def apply(self, groups: Sequence[ProjectDefinitions]) -> list[dict[str, Any]]:
        """Store each project's test cases and suites (projects created if missing), all or nothing."""

    async def ensure_environment(self, project: str, name: str, base_url: str) -> None:
        """Create or update the environment. A base URL on a loopback or private address (as resolved
        here) was pointed at explicitly by the user, so the environment allows private networks."""

    async def environment_base_url(self, project: str, name: str) -> str: ...

    async def import_openapi(self, project: str, environment: str, spec: SpecImport) -> SpecSummary:
        """Import (or replace) the environment's OpenAPI description, which test data is planned from."""

    async def set_secrets(self, project: str, environment: str, secrets: dict[str, str]) -> None:
        """Set these secrets of the environment (stored encrypted); its other secrets are kept."""

    async def set_request_defaults(self, project: str, environment: str, defaults: dict[str, Any]) -> None:
        """Set the environment's request defaults (they replace the ones it had)."""

    async def start_suite_run(self, request: SuiteRunCreate) -> uuid.UUID: ...

    async def suite_run(self, suite_run_id: uuid.UUID, with_steps: bool = False) -> SuiteRunOut: ...

    async def report(self, suite_run_id: uuid.UUID, fmt: str) -> bytes | dict[str, Any]: ...

    async def cancel_suite_run(self, suite_run_id: uuid.UUID) -> None: ...

    async def wait_for_change(self, suite_run_ids: Sequence[uuid.UUID], timeout_s: float) -> None:
        """Return when a run of these suite runs may have changed, at the latest after ``timeout_s``."""

    async def export_project(self, project: str) -> dict[str, Any]:
        """The project as one document (transfer/schemas.py), as JSON data."""

    async def import_project(self, document: ProjectDocument, project: str | None) -> ImportResult:
        """Create or update a project from a document (as ``project``, else its own name)."""


class LocalBackend:
    """The embedded engine in this process (scheduler + executor running in ``runtime``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.actor = Actor(tenant_id=runtime.tenant_id)

    async def apply(self, groups: Sequence[ProjectDefinitions]) -> list[dict[str, Any]]:
        definitions = [
            (group.project, [case for _, case in group.test_cases], [suite for _, suite in group.suites])
            for group in groups
        ]
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            results = await apply_definition_groups(session, self.actor, definitions)
        return [result.model_dump(mode="json") for result in results]

    async def ensure_environment(self, project: str, name: str, base_url: str) -> None:
        private = await points_at_private_network(base_url)
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            await environments.ensure(
                session, self.actor, project, name, base_url, allow_private_network=private
            )

    async def environment_base_url(self, project: str, name: str) -> str:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            return (await environments.get(session, self.actor, project, name)).base_url

    async def import_openapi(self, project: str, environment: str, spec: SpecImport) -> SpecSummary:
        from orchestra.environments import openapi_service as openapi
        from orchestra.environments.openapi_schemas import SpecSummary

        transactions = self.runtime.db.transactions(self.actor.tenant_id)
        return SpecSummary.of(await openapi.import_spec(transactions, self.actor, project, environment, spec))

    async def set_secrets(self, project: str, environment: str, secrets: dict[str, str]) -> None:
        change = EnvironmentUpdate.model_validate({"secrets": secrets})
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            await environments.update(session, self.actor, project, environment, change, self.runtime.secrets)

    async def set_request_defaults(self, project: str, environment: str, defaults: dict[str, Any]) -> None:
        change = EnvironmentUpdate.model_validate({"defaults": defaults})
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            await environments.update(session, self.actor, project, environment, change, self.runtime.secrets)

    async def start_suite_run(self, request: SuiteRunCreate) -> uuid.UUID:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            created = await runs.create_suite_run(session, self.actor, request)
        self.runtime.scheduler.wake()
        return created.id

    async def suite_run(self, suite_run_id: uuid.UUID, with_steps: bool = False) -> SuiteRunOut:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            return await runs.get_suite_run(
                session,
                self.actor,
                suite_run_id,
                with_steps=with_steps,
                global_default=self.runtime.settings.max_active_runs,
            )

    async def report(self, suite_run_id: uuid.UUID, fmt: str) -> bytes | dict[str, Any]:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            content, _ = await runs.suite_run_report(session, self.actor, suite_run_id, fmt)
        return content

    async def cancel_suite_run(self, suite_run_id: uuid.UUID) -> None:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            await runs.cancel_suite_run(session, self.actor, suite_run_id)

    async def wait_for_change(self, suite_run_ids: Sequence[uuid.UUID], timeout_s: float) -> None:
        """Until a run of this process's executor finishes (the last one of a test ends the command at
        once, not at the next poll), or ``timeout_s`` for the progress of the others."""
        finished = self.runtime.run_finished
        try:
            await asyncio.wait_for(finished.wait(), timeout_s)
        except TimeoutError:
            pass
        finished.clear()

    async def export_project(self, project: str) -> dict[str, Any]:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            from orchestra.transfer import service as transfer  # only when asked: it loads the schedules

            document = await transfer.export_project(session, self.actor, project, datetime.now(UTC))
        return document.model_dump(mode="json")

    async def import_project(self, document: ProjectDocument, project: str | None) -> ImportResult:
        async with self.runtime.db.transaction(self.actor.tenant_id) as session:
            from orchestra.transfer import service as transfer

            return await transfer.import_project(
                session, self.actor, self.runtime.secrets, document, project, datetime.now(UTC)
            )


def _problem_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    detail = body.get("detail") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    text = f"HTTP {response.status_code}: {detail or body}"
    if isinstance(errors, list) and errors:
        text += "\n" + "\n".join(f"  {item}" for item in errors[:20])
    return text


def _segment(name: str) -> str:
    """A name as one path segment, whatever it holds: a '/', '?', '#' or '..' never changes the URL."""
    text = quote(name, safe="")
    return text.replace(".", "%2E") if set(name) <= {"."} else text


def _environment_path(project: str, environment: str) -> str:
    return f"/projects/{_segment(project)}/environments/{_segment(environment)}"


class RemoteBackend:
    """A running Orchestra reached through its REST API (``--server`` / ORCHESTRA_SERVER)."""

    def __init__(self, server: str, token: str | None, token_note: str = "") -> None:
        """``token_note``: which token was sent and where it came from, added to a 401's message."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.token_note = token_note
        self.client = httpx.AsyncClient(
            base_url=server.rstrip("/") + "/api/v1", headers=headers, timeout=30.0, trust_env=False
        )
        self.feeds = SuiteRunFeeds(self.client)

    async def close(self) -> None:
        await self.feeds.close()
        await self.client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise BackendError(
                f"cannot reach the Orchestra server at {self.client.base_url}: {error}"
            ) from error
        if response.status_code == 401 and self.token_note:
            raise BackendError(f"{_problem_text(response)} — {self.token_note}")
        if response.status_code >= 400:
            raise BackendError(_problem_text(response))
        return response

    async def check(self) -> None:
        await self._call("GET", "/health")

    async def apply(self, groups: Sequence[ProjectDefinitions]) -> list[dict[str, Any]]:
        def dump(items: Sequence[tuple[Any, Any]]) -> list[Any]:
            return [item.model_dump(mode="json", by_alias=True, exclude_unset=True) for _, item in items]

        body = {
            "projects": [
                {"project": group.project, "test_cases": dump(group.test_cases), "suites": dump(group.suites)}
                for group in groups
            ]
        }
        results: list[dict[str, Any]] = (await self._call("POST", "/apply", json=body)).json()["projects"]
        return results

    async def ensure_environment(self, project: str, name: str, base_url: str) -> None:
        body: dict[str, Any] = {"base_url": base_url}
        if await points_at_private_network(base_url):
            body["allow_private_network"] = True  # only ever set: an existing environment keeps its own
        await self._call("PUT", _environment_path(project, name), json=body)

    async def environment_base_url(self, project: str, name: str) -> str:
        return str((await self._call("GET", _environment_path(project, name))).json()["base_url"])

    async def import_openapi(self, project: str, environment: str, spec: SpecImport) -> SpecSummary:
        path = _environment_path(project, environment) + "/openapi"
        response = await self._call("PUT", path, json=spec.model_dump(exclude_none=True))
        from orchestra.environments.openapi_schemas import SpecSummary

        return SpecSummary.model_validate(response.json())

    async def set_secrets(self, project: str, environment: str, secrets: dict[str, str]) -> None:
        await self._call("PATCH", _environment_path(project, environment), json={"secrets": secrets})

    async def set_request_defaults(self, project: str, environment: str, defaults: dict[str, Any]) -> None:
        await self._call("PATCH", _environment_path(project, environment), json={"defaults": defaults})

    async def start_suite_run(self, request: SuiteRunCreate) -> uuid.UUID:
        response = await self._call(
            "POST", "/suite-runs", json=request.model_dump(mode="json", exclude_none=True)
        )
        return uuid.UUID(response.json()["id"])

    async def suite_run(self, suite_run_id: uuid.UUID, with_steps: bool = False) -> SuiteRunOut:
        response = await self._call(
            "GET", f"/suite-runs/{suite_run_id}", params={"steps": str(with_steps).lower()}
        )
        return SuiteRunOut.model_validate(response.json())

    async def report(self, suite_run_id: uuid.UUID, fmt: str) -> bytes | dict[str, Any]:
        response = await self._call("GET", f"/suite-runs/{suite_run_id}/report", params={"format": fmt})
        if fmt == "junit":
            return response.content
        result: dict[str, Any] = response.json()
        return result

    async def cancel_suite_run(self, suite_run_id: uuid.UUID) -> None:
        await self._call("POST", f"/suite-runs/{suite_run_id}/cancel")

    async def wait_for_change(self, suite_run_ids: Sequence[uuid.UUID], timeout_s: float) -> None:
        await self.feeds.wait(suite_run_ids, timeout_s)  # woken by the server's event streams

    async def export_project(self, project: str) -> dict[str, Any]:
        document: dict[str, Any] = (await self._call("GET", f"/projects/{_segment(project)}/export")).json()
        return document

    async def import_project(self, document: ProjectDocument, project: str | None) -> ImportResult:
        params = {"project": project} if project else {}
        body = document.model_dump(mode="json", exclude_none=True)
        response = await self._call("POST", "/import", json=body, params=params)
        from orchestra.transfer.schemas import ImportResult

        return ImportResult.model_validate(response.json())
