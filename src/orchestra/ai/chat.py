"""``/v1/chat``: the assistant. With a model, a tool loop over the project's documents, operations, entities
and run explanations, answering with citations of what the tools returned. Without a model it says so and
quotes what retrieval finds for the last question (and the operations whose names match it)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog

from orchestra.ai.analyst import deterministic_explanation
from orchestra.ai.api_tools import ApiTools
from orchestra.ai.model_tools import Sources, Tool, ToolBox, cut, data_tools, run_tool_loop
from orchestra.ai.ollama_chat import ModelClient, ModelUnavailable
from orchestra.ai.prompts import CHAT_SYSTEM
from orchestra.ai_client.messages import ChatRequest, ChatResponse, Citation, ToolCallRecord
from orchestra.openapi.operations import Catalogue

log = structlog.get_logger(__name__)
NO_MODEL = "No language model is configured (ORCHESTRA_OLLAMA_URL is unset), so this answer only quotes"
MAX_QUOTED_HITS = 3
MAX_MATCHED_OPERATIONS = 5
_WORD = re.compile(r"[a-z0-9]{3,}")


def matching_operations(catalogue: Catalogue, question: str) -> list[str]:
    """Operations sharing words with the question, best first (ties in catalogue order)."""
    words = set(_WORD.findall(question.lower()))
    scored = []
    for index, op in enumerate(catalogue.operations.values()):
        text = f"{op.operation_id} {op.path} {op.summary}".lower()
        own = set(_WORD.findall(re.sub(r"([a-z])([A-Z])", r"\1 \2", op.operation_id).lower())) | set(
            _WORD.findall(text)
        )
        score = len(words & own)
        if score:
            scored.append((-score, index, f"{op.operation_id} ({op.method} {op.path})"))
    return [label for _, _, label in sorted(scored)[:MAX_MATCHED_OPERATIONS]]


def _explain_tool(api: ApiTools) -> Tool:
    async def explain_run(args: dict[str, Any]) -> Any:
        run_id = str(args["run_id"])
        explained = deterministic_explanation(run_id, await api.evidence(run_id))
        return {"summary": explained.summary, "findings": [f.model_dump() for f in explained.findings]}

    return Tool(
        "explain_run",
        "Why a test run failed, from its recorded evidence (findings cite evidence ids E1, E2, …).",
        {"type": "object", "properties": {"run_id": {"type": "string"}}, "required": ["run_id"]},
        explain_run,
    )


async def _catalogue(api: ApiTools, environment_id: str | None) -> Catalogue | None:
    if environment_id is None:
        return None
    data = await api.catalogue(environment_id)
    return Catalogue.from_json(data) if data else None


def last_question(request: ChatRequest) -> str:
    asked = [m.content for m in request.messages if m.role == "user"]
    return (asked[-1] if asked else request.messages[-1].content).strip()


async def _without_model(request: ChatRequest, api: ApiTools, catalogue: Catalogue | None) -> ChatResponse:
    question = last_question(request)
    sources = Sources()
    found = await api.search(request.project_id, question, limit=MAX_QUOTED_HITS) if question else []
    hits = [sources.add(hit) for hit in found]
    lines = [f"{NO_MODEL} what the project's documents hold about your question."]
    if hits:
        lines += [f"[{h['id']}] {h['title']}: {h['excerpt']}" for h in hits]
    else:
        lines.append("Nothing in the project's documents matches it.")
    operations = matching_operations(catalogue, question) if catalogue else []
    if operations:
        lines.append("Operations of the SUT that may be relevant: " + "; ".join(operations))
    return ChatResponse(
        reply="\n".join(lines),
        citations=[Citation(**h) for h in hits],
        tool_calls=[ToolCallRecord(name="search_docs", arguments={"query": cut(question, 200)})],
        model=None,
    )


async def _ask(model: ModelClient, messages: list[dict[str, Any]], toolbox: ToolBox) -> str:
    looked = await run_tool_loop(model, messages, toolbox)
    if not looked.exhausted and looked.last.content.strip():
        return looked.last.content
    final = await model.chat([*looked.messages, {"role": "user", "content": "Answer now, citing sources."}])
    return final.content


async def chat(
    request: ChatRequest, api: ApiTools, model: ModelClient | None, budget_s: float = 90.0
) -> ChatResponse:
    catalogue = await _catalogue(api, request.environment_id)
    if model is None:
        return await _without_model(request, api, catalogue)
    sources = Sources()
    toolbox = ToolBox(
        [*data_tools(api, request.project_id, request.environment_id, catalogue, sources), _explain_tool(api)]
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": CHAT_SYSTEM}]
    messages += [{"role": m.role, "content": m.content} for m in request.messages]
    try:
        async with asyncio.timeout(budget_s):
            reply = await _ask(model, messages, toolbox)
    except (ModelUnavailable, TimeoutError) as error:
        reason = str(error) or f"it took longer than {budget_s:g}s"
        log.warning("ai.chat_model_unavailable", reason=reason)
        answer = await _without_model(request, api, catalogue)
        answer.reply = f"The model could not answer ({reason}).\n" + answer.reply
        return answer
    cited = [h for cite, h in sources.hits.items() if f"[{cite}]" in reply] or list(sources.hits.values())
    return ChatResponse(
        reply=cut(reply, 8000),
        citations=[Citation(**h) for h in cited],
        tool_calls=[ToolCallRecord(name=c.name, arguments=c.arguments) for c in toolbox.calls],
        model=model.model,
    )
