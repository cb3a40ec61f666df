"""Explain a run, suggest test cases, chat: each asks the ai-service with a delegation token for the
asker's project (it reads what it needs through the tool endpoints, so no transaction stays open while it
works). An explained failure is also kept as a document of kind "failure", so the evidence of a later,
similar failure can point to it."""

from __future__ import annotations

import uuid

import structlog

from orchestra.actor import Actor
from orchestra.ai_client.client import AiClient, AiRefused, AiUnavailable
from orchestra.ai_client.delegation import Delegation
from orchestra.ai_client.messages import ChatResponse, ExplainResponse, SuggestResponse
from orchestra.ai_tools import service as tools
from orchestra.ai_tools.service import FAILURE_KIND
from orchestra.assistant.schemas import ChatIn, SuggestIn
from orchestra.config import Settings
from orchestra.db import Transactions
from orchestra.environments import service as environments
from orchestra.errors import InvalidInput, NotFound, OrchestraError, Unavailable
from orchestra.kit.secret_box import SecretBox
from orchestra.models.run_states import RunStatus
from orchestra.projects import service as projects
from orchestra.rag.embedders import embedder_for
from orchestra.rag.indexing import embed_missing, index_document

log = structlog.get_logger(__name__)

FAILED = frozenset({RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT})


def client_for(settings: Settings, secrets: SecretBox) -> AiClient:
    """The ai-service ``settings`` name, given delegation tokens signed with a key from ``secrets``."""
    return AiClient(settings, Delegation(secrets))


def _refusal(error: AiRefused) -> OrchestraError:
    if error.status == 404:
        return NotFound(error.detail)
    return InvalidInput(f"the assistant cannot do this: {error.detail}")


def _unavailable(error: AiUnavailable) -> Unavailable:
    return Unavailable(f"the assistant is unavailable: {error}")


async def explain(
    transactions: Transactions, actor: Actor, settings: Settings, secrets: SecretBox, run_id: uuid.UUID
) -> ExplainResponse:
    async with transactions() as session:
        found = await tools.run_failure_text(session, run_id)
    if found is None:
        raise NotFound(f"run {run_id} does not exist")
    project_id, status, failure = found
    try:
        answer = await client_for(settings, secrets).explain(actor.tenant_id, project_id, actor.name, run_id)
    except AiUnavailable as error:
        raise _unavailable(error) from None
    except AiRefused as error:
        raise _refusal(error) from None
    if status in FAILED:
        await _remember_failure(transactions, actor, settings, run_id, project_id, status, failure, answer)
    return answer


async def _remember_failure(
    transactions: Transactions,
    actor: Actor,
    settings: Settings,
    run_id: uuid.UUID,
    project_id: uuid.UUID,
    status: RunStatus,
    failure: str,
    answer: ExplainResponse,
) -> None:
    """Keep the explanation of a failure (summary, reason, failed expectations) for similarity search."""
    text = f"# Failure of run {run_id}\n\n{answer.summary}\n\n{failure}\n"
    async with transactions() as session:
        document_id = await index_document(
            session,
            tenant_id=actor.tenant_id,
            project_id=project_id,
            kind=FAILURE_KIND,
            source=str(run_id),
            title=f"failure of run {run_id}",
            text=text,
            metadata={"run_id": str(run_id), "status": status.value},
        )
    embedder = embedder_for(settings)
    await embed_missing(transactions, project_id=project_id, embedder=embedder, document_id=document_id)
    log.info("assistant.failure_indexed", run_id=str(run_id))


async def suggest(
    transactions: Transactions,
    actor: Actor,
    settings: Settings,
    secrets: SecretBox,
    project: str,
    data: SuggestIn,
) -> SuggestResponse:
    async with transactions() as session:
        owner = await projects.get(session, actor, project)
        environment = await environments.get(session, actor, owner, data.environment)
    body = {
        "project_id": str(owner.id),
        "environment_id": str(environment.id),
        "operation_id": data.operation_id,
    }
    try:
        return await client_for(settings, secrets).suggest(actor.tenant_id, owner.id, actor.name, body)
    except AiUnavailable as error:
        raise _unavailable(error) from None
    except AiRefused as error:
        raise _refusal(error) from None


async def chat(
    transactions: Transactions,
    actor: Actor,
    settings: Settings,
    secrets: SecretBox,
    project: str,
    data: ChatIn,
) -> ChatResponse:
    environment_id = None
    async with transactions() as session:
        owner = await projects.get(session, actor, project)
        if data.environment is not None:
            environment_id = str((await environments.get(session, actor, owner, data.environment)).id)
    body = {
        "project_id": str(owner.id),
        "environment_id": environment_id,
        "messages": [message.model_dump() for message in data.messages],
    }
    try:
        return await client_for(settings, secrets).chat(actor.tenant_id, owner.id, actor.name, body)
    except AiUnavailable as error:
        raise _unavailable(error) from None
    except AiRefused as error:
        raise _refusal(error) from None
