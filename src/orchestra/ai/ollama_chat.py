"""A thin wrapper over ``ollama.AsyncClient``: one chat call under a hard time limit, every way it can go
wrong turned into one exception (``ModelUnavailable``) whose message says why, so that callers fall back to
their deterministic path with an honest notice instead of failing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama
import pydantic
import structlog

from orchestra.config import Settings

log = structlog.get_logger(__name__)


class ModelUnavailable(Exception):
    """The model could not answer (unreachable, timeout, HTTP error, broken answer); ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class ToolRequest:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelReply:
    content: str
    tool_calls: list[ToolRequest] = field(default_factory=list)

    def as_message(self) -> dict[str, Any]:
        """The reply as the assistant message to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"function": {"name": c.name, "arguments": c.arguments}} for c in self.tool_calls
            ]
        return message


class ModelClient:
    """Chat with ``settings.ollama_model`` at ``settings.ollama_url``; ``aclose()`` when done."""

    def __init__(self, url: str, model: str, timeout_s: float) -> None:
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self._client = ollama.AsyncClient(host=url, timeout=timeout_s, trust_env=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelClient | None:
        if not settings.ollama_url:
            return None
        return cls(settings.ollama_url, settings.ollama_model, settings.ollama_timeout_s)

    @property
    def label(self) -> str:
        return f"ollama:{self.model}"

    async def aclose(self) -> None:
        await self._client.close()  # type: ignore[no-untyped-call]

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        format: dict[str, Any] | None = None,
    ) -> ModelReply:
        """One non-streaming chat call. ``tools`` and ``format`` are never sent together: Ollama ignores tool
        calls when a format is given."""
        assert not (tools and format), "tools and format exclude each other"
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._client.chat(
                    model=self.model,
                    messages=list(messages),
                    tools=list(tools) if tools else None,
                    format=format,
                    stream=False,
                    options={"temperature": 0},
                )
        except (TimeoutError, httpx.TimeoutException) as error:
            raise ModelUnavailable(f"Ollama did not answer within {self.timeout_s:g}s") from error
        except ConnectionError as error:
            raise ModelUnavailable(f"Ollama is unreachable at {self.url}") from error
        except ollama.ResponseError as error:
            raise ModelUnavailable(
                f"Ollama answered with an error ({error.status_code}): {str(error.error)[:300]}"
            ) from error
        except (httpx.HTTPError, json.JSONDecodeError, pydantic.ValidationError) as error:
            raise ModelUnavailable(f"Ollama's answer could not be read ({type(error).__name__})") from error
        calls = [
            ToolRequest(call.function.name, dict(call.function.arguments or {}))
            for call in response.message.tool_calls or ()
        ]
        log.info("ai.model_answered", model=self.model, tool_calls=len(calls))
        return ModelReply(response.message.content or "", calls)


def parse_json_object(content: str) -> dict[str, Any] | None:
    """The model's structured answer, or None when it is not one JSON object."""
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
