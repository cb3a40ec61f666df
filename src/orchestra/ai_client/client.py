"""The API's one HTTP client of the ai-service.

Every call carries a delegation token for the asker's tenant and project (the ai-service reads data only
through the tool endpoints with it), waits at most ``settings.ai_timeout_s``, and reads a bounded answer.
What went wrong is typed: :class:`AiUnavailable` when the service cannot answer (not running, timed out,
5xx) — callers fall back or answer 503 — and :class:`AiRefused` when it answered that it cannot do this
(4xx, with its reason).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from orchestra.ai_client.delegation import Delegation
from orchestra.ai_client.messages import ChatResponse, ExplainResponse, PlanResponse, SuggestResponse
from orchestra.config import Settings

log = structlog.get_logger(__name__)

AnswerT = TypeVar("AnswerT", bound=BaseModel)
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_DETAIL_CHARS = 500


class AiUnavailable(Exception):
    """The ai-service did not answer usefully; ``str(error)`` says why, for a notice or a 503."""


class AiRefused(Exception):
    """The ai-service answered 4xx: it cannot do what was asked (``detail`` says why)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def ai_base_url(settings: Settings) -> str:
    return (settings.ai_url or f"http://127.0.0.1:{settings.ai_port}").rstrip("/")


def _problem_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:_DETAIL_CHARS].decode("utf-8", "replace") or "no reason given"
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return str(data["detail"])[:_DETAIL_CHARS]
    return json.dumps(data)[:_DETAIL_CHARS]


class AiClient:
    def __init__(self, settings: Settings, delegation: Delegation) -> None:
        self.base_url = ai_base_url(settings)
        self.timeout_s = settings.ai_timeout_s
        self.delegation = delegation

    async def plan(
        self, tenant_id: uuid.UUID, project_id: uuid.UUID, subject: str, body: dict[str, Any]
    ) -> PlanResponse:
        return await self._post("/v1/plan", tenant_id, project_id, subject, body, PlanResponse)

    async def explain(
        self, tenant_id: uuid.UUID, project_id: uuid.UUID, subject: str, run_id: uuid.UUID
    ) -> ExplainResponse:
        body = {"run_id": str(run_id)}
        return await self._post("/v1/explain", tenant_id, project_id, subject, body, ExplainResponse)

    async def suggest(
        self, tenant_id: uuid.UUID, project_id: uuid.UUID, subject: str, body: dict[str, Any]
    ) -> SuggestResponse:
        return await self._post("/v1/suggest", tenant_id, project_id, subject, body, SuggestResponse)

    async def chat(
        self, tenant_id: uuid.UUID, project_id: uuid.UUID, subject: str, body: dict[str, Any]
    ) -> ChatResponse:
        return await self._post("/v1/chat", tenant_id, project_id, subject, body, ChatResponse)

    async def _post(
        self,
        path: str,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        subject: str,
        body: dict[str, Any],
        answer: type[AnswerT],
    ) -> AnswerT:
        token = self.delegation.mint(tenant_id=tenant_id, project_id=project_id, subject=subject)
        url = f"{self.base_url}{path}"
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout_s) as client,
                client.stream(
                    "POST", url, json=body, headers={"Authorization": f"Bearer {token}"}
                ) as response,
            ):
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_ANSWER_BYTES:
                        raise AiUnavailable(f"the ai-service answered more than {MAX_ANSWER_BYTES} bytes")
        except httpx.TimeoutException:
            raise AiUnavailable(f"the ai-service did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as error:
            raise AiUnavailable(
                f"the ai-service at {self.base_url} is unreachable ({type(error).__name__})"
            ) from None
        status = response.status_code
        if status >= 500:
            raise AiUnavailable(f"the ai-service failed (HTTP {status}: {_problem_detail(bytes(content))})")
        if status >= 400:
            raise AiRefused(status, _problem_detail(bytes(content)))
        try:
            return answer.model_validate_json(bytes(content))
        except ValidationError as error:
            log.warning("ai.bad_answer", path=path, errors=error.error_count())
            raise AiUnavailable(
                f"the ai-service answered {path} with something that is not its contract"
            ) from None
