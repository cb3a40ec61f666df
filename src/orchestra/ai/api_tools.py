"""The ai-service's only way to data: the API's tool endpoints, called with the delegation token the caller
handed over. The API URL comes from the settings, never from a request, so a request cannot point the
service (and its token) anywhere else; the token scopes every answer to one tenant and project."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog

from orchestra.config import Settings
from orchestra.errors import Forbidden, NotFound, OrchestraError, Unauthorized, Unavailable

log = structlog.get_logger(__name__)
TOOLS_PREFIX = "/api/v1/tools"
MAX_TOOL_RESPONSE_BYTES = 2_000_000


def api_base_url(settings: Settings) -> str:
    return (settings.api_url or f"http://127.0.0.1:{settings.port}").rstrip("/")


def _segment(value: str) -> str:
    return quote(value, safe="")


class ApiTools:
    """One caller's view of the API (its token); ``aclose()`` when done. ``transport`` is for tests only."""

    def __init__(
        self,
        settings: Settings,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=(base_url or api_base_url(settings)) + TOOLS_PREFIX,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(30.0),
            transport=transport,
            trust_env=False,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def environment(self, environment_id: str) -> dict[str, Any]:
        return await self._get(f"/environments/{_segment(environment_id)}")

    async def catalogue(self, environment_id: str) -> dict[str, Any] | None:
        """The environment's catalogue (``Catalogue.to_json()``), None when no OpenAPI is imported."""
        try:
            return await self._get(f"/environments/{_segment(environment_id)}/catalogue")
        except NotFound:
            return None

    async def validate_plan(self, environment_id: str, plan: Any) -> list[dict[str, Any]]:
        answer = await self._send(
            "POST", "/dataplans/validate", json={"environment_id": environment_id, "plan": plan}
        )
        problems = answer.get("problems", [])
        return [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []

    async def search(
        self, project_id: str, query: str, kind: str | None = None, limit: int = 5
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"project_id": project_id, "q": query[:500], "limit": limit}
        if kind:
            params["kind"] = kind
        hits = (await self._get("/search", params=params)).get("hits", [])
        return [h for h in hits if isinstance(h, dict)] if isinstance(hits, list) else []

    async def entities(
        self, environment_id: str, operation: str | None = None, limit: int = 10
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if operation:
            params["operation"] = operation
        found = (await self._get(f"/environments/{_segment(environment_id)}/entities", params=params)).get(
            "entities", []
        )
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

    async def evidence(self, run_id: str) -> dict[str, Any]:
        return await self._get(f"/runs/{_segment(run_id)}/evidence")

    async def test_case(self, test_case_id: str) -> dict[str, Any]:
        return await self._get(f"/testcases/{_segment(test_case_id)}")

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._send("GET", path, params=params)

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            log.warning("ai.api_unreachable", path=path, error=type(error).__name__)
            raise Unavailable(f"the Orchestra API could not be reached ({type(error).__name__})") from error
        if len(response.content) > MAX_TOOL_RESPONSE_BYTES:
            raise Unavailable("the Orchestra API answered with more data than the ai-service reads")
        if response.status_code >= 400:
            raise _api_error(response)
        try:
            body = response.json()
        except ValueError as error:
            raise Unavailable(f"the Orchestra API answered {path} with something that is not JSON") from error
        if not isinstance(body, dict):
            raise Unavailable(f"the Orchestra API answered {path} with JSON that is not an object")
        return body


def _api_error(response: httpx.Response) -> OrchestraError:
    """The API's problem, passed on to whoever asked the ai-service (its detail is meant for them)."""
    try:
        detail = str(response.json().get("detail", ""))[:500]
    except (ValueError, AttributeError):
        detail = ""
    status = response.status_code
    if status == 401:
        return Unauthorized(f"the API refused the delegation token: {detail or 'unauthorized'}")
    if status == 403:
        return Forbidden(detail or "the delegation token does not allow this")
    if status == 404:
        return NotFound(detail or "not found")
    if status < 500:
        error = OrchestraError(detail or f"the API refused the request ({status})")
        error.status = status if 400 <= status < 500 else 400
        return error
    return Unavailable(f"the Orchestra API failed ({status})")
