from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestra.projects.schemas import NAME_PATTERN
from orchestra.webhooks import signing

Kind = Literal["generic", "slack", "teams"]
EventType = Literal["suite_run.finished", "suite_run.failed", "run.failed", "schedule.misfired"]
DEFAULT_EVENTS: list[EventType] = ["suite_run.failed", "run.failed", "schedule.misfired"]
MAX_URL = 2000


def _distinct(events: list[EventType] | None) -> list[EventType] | None:
    return None if events is None else list(dict.fromkeys(events))


def _secret(value: str | None) -> str | None:
    if value is not None:
        signing.key_of(value)  # ValueError: 422 naming the field
    return value


Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL,
        description="http(s) URL the events are POSTed to; it must pass the egress policy "
        "(no link-local or metadata address; loopback and private ones only where the installation allows).",
    ),
]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=4, description="The events this webhook is sent."),
    AfterValidator(_distinct),
]
Secret = Annotated[
    str | None,
    Field(
        default=None,
        max_length=200,
        description="whsec_ followed by 24 to 64 bytes in base64. Unset: one is made; it is shown once.",
    ),
    AfterValidator(_secret),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    url: Url
    kind: Kind = Field(
        default="generic",
        description="generic: the event as JSON; slack / teams: a message for a Slack-compatible or a "
        "Microsoft Teams-compatible incoming webhook. Every body is signed the same way.",
    )
    events: Events = Field(default_factory=lambda: list(DEFAULT_EVENTS))
    enabled: bool = True
    secret: Secret = None


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: Url | None = None
    kind: Kind | None = None
    events: Events | None = None
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: uuid.UUID
    name: str
    target: str = Field(
        description="Where it sends: scheme, host and port (the rest of the URL is kept secret)."
    )
    kind: Kind
    events: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery. Shown here only: store it now.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The delivery's id: the webhook-id header of each of its attempts.")
    event_id: uuid.UUID
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryDetail(DeliveryOut):
    event: dict[str, Any]
    attempts_log: list[AttemptOut]
