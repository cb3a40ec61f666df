"""The tools a model may call, each answered from the API's tool endpoints (with the caller's token), and the
bounded loop that runs them. Results are cut to a few KB: a model reads them, and a large answer would only
crowd out the instructions. A failing tool answers ``{"error": ...}`` to the model rather than failing the
request: the model can try something else."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from orchestra.ai.api_tools import ApiTools
from orchestra.ai.ollama_chat import ModelClient, ModelReply, ToolRequest
from orchestra.errors import OrchestraError
from orchestra.openapi.operations import Catalogue

log = structlog.get_logger(__name__)
MAX_TOOL_RESULT_CHARS = 4000
MAX_ROUNDS = 8
MAX_CALLS_PER_ROUND = 5

ToolFunction = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: ToolFunction

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _params(**properties: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": text} for name, text in properties.items()},
        "required": list(properties),
    }


def cut(value: Any, limit: int = MAX_TOOL_RESULT_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " …[cut]"


def operation_index(catalogue: Catalogue) -> list[dict[str, str]]:
    return [
        {"operation_id": op.operation_id, "method": op.method, "path": op.path, "summary": op.summary[:120]}
        for op in catalogue.operations.values()
    ]


class ToolBox:
    """The tools of one request; ``calls`` records every call the model made (name and arguments)."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.calls: list[ToolRequest] = []

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self.tools.values()]

    async def call(self, request: ToolRequest) -> str:
        self.calls.append(request)
        tool = self.tools.get(request.name)
        if tool is None:
            return cut({"error": f"no tool named {request.name[:100]!r}; tools: {sorted(self.tools)}"})
        try:
            return cut(await tool.run(request.arguments))
        except OrchestraError as error:
            return cut({"error": error.detail})
        except (KeyError, TypeError, ValueError) as error:
            return cut({"error": f"bad arguments for {request.name}: {error}"})


class Sources:
    """Document hits the tools returned in one request, numbered D1, D2, … so answers can cite them."""

    def __init__(self) -> None:
        self.hits: dict[str, dict[str, str]] = {}
        self._keys: dict[str, str] = {}

    def add(self, hit: dict[str, Any]) -> dict[str, str]:
        key = str(hit.get("id") or hit.get("chunk_id") or hit.get("title") or len(self._keys))
        cite = self._keys.setdefault(key, f"D{len(self._keys) + 1}")
        title = str(hit.get("title") or hit.get("document_title") or "")
        heading = str(hit.get("heading") or "")
        entry = {
            "id": cite,
            "title": (f"{title} — {heading}" if heading and heading != title else title)[:200],
            "excerpt": cut(str(hit.get("excerpt") or hit.get("text") or hit.get("content") or ""), 800),
        }
        self.hits[cite] = entry
        return entry


def data_tools(
    api: ApiTools,
    project_id: str,
    environment_id: str | None,
    catalogue: Catalogue | None,
    sources: Sources | None = None,
) -> list[Tool]:
    """list_operations, get_operation, search_docs, find_entities (the operation tools need a catalogue)."""
    found = sources if sources is not None else Sources()

    async def list_operations(_: dict[str, Any]) -> Any:
        return operation_index(catalogue) if catalogue else {"error": "no OpenAPI description is imported"}

    async def get_operation(args: dict[str, Any]) -> Any:
        operation = catalogue.get(str(args["operation_id"])) if catalogue else None
        if operation is None:
            return {"error": f"unknown operation {str(args['operation_id'])[:100]!r}; use list_operations"}
        return operation.to_json()

    async def search_docs(args: dict[str, Any]) -> Any:
        hits = await api.search(project_id, str(args["query"]), limit=5)
        return [found.add(hit) for hit in hits]

    async def find_entities(args: dict[str, Any]) -> Any:
        if environment_id is None:
            return {"error": "no environment selected"}
        return await api.entities(environment_id, str(args.get("operation") or "") or None, limit=10)

    tools = [
        Tool(
            "search_docs",
            "Search the project's documents (specs, guides, past failures). Returns cited excerpts.",
            _params(query="what to look for"),
            search_docs,
        ),
    ]
    if catalogue is not None:
        tools[:0] = [
            Tool(
                "list_operations",
                "All operations of the SUT: operationId, method, path.",
                _params(),
                list_operations,
            ),
            Tool(
                "get_operation",
                "One operation: parameters, request body schema, responses, security.",
                _params(operation_id="an operationId from list_operations"),
                get_operation,
            ),
        ]
    if environment_id is not None:
        tools.append(
            Tool(
                "find_entities",
                "Entities an operation recently created in the environment (to reuse instead of creating).",
                _params(operation="an operationId"),
                find_entities,
            )
        )
    return tools


@dataclass
class LoopResult:
    messages: list[dict[str, Any]]
    last: ModelReply
    exhausted: bool  # stopped at the round limit with tool calls still asked for
    calls: list[ToolRequest] = field(default_factory=list)


async def run_tool_loop(
    model: ModelClient, messages: list[dict[str, Any]], toolbox: ToolBox, max_rounds: int = MAX_ROUNDS
) -> LoopResult:
    """Ask, run the tools the model calls, feed the results back; until it answers without tool calls or
    ``max_rounds`` rounds were used. Raises ``ModelUnavailable`` like ``ModelClient.chat``."""
    conversation = list(messages)
    reply = ModelReply("")
    for _ in range(max_rounds):
        reply = await model.chat(conversation, tools=toolbox.specs())
        conversation.append(reply.as_message())
        if not reply.tool_calls:
            return LoopResult(conversation, reply, exhausted=False, calls=list(toolbox.calls))
        for request in reply.tool_calls[:MAX_CALLS_PER_ROUND]:
            result = await toolbox.call(request)
            log.info("ai.tool_called", tool=request.name)
            conversation.append({"role": "tool", "tool_name": request.name, "content": result})
    return LoopResult(conversation, reply, exhausted=True, calls=list(toolbox.calls))
