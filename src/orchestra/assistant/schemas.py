"""Bodies of the public assistant endpoints (answers are the ai-service's, passed on as they are)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestra.ai_client.messages import MAX_MESSAGE_CHARS, MAX_MESSAGES


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuggestIn(_In):
    environment: Annotated[str, Field(min_length=1, max_length=200, description="Environment id or name.")]
    operation_id: Annotated[str, Field(min_length=1, max_length=200)]


class ChatMessageIn(_In):
    role: Literal["user", "assistant"]
    content: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class ChatIn(_In):
    environment: Annotated[str | None, Field(default=None, min_length=1, max_length=200)] = None
    messages: Annotated[list[ChatMessageIn], Field(min_length=1, max_length=MAX_MESSAGES)]
