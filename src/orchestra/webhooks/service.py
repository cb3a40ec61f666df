"""Webhooks of a project: defined by editors, read by viewers; events queued in the caller's transaction.

The URL and the secret are stored encrypted (a chat's incoming-webhook URL is itself a credential); the API
shows the URL's scheme, host and port only, and the secret once, when it is made."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.kit import egress
from orchestra.kit.pagination import Page, PageParams
from orchestra.kit.secret_box import SecretBox
from orchestra.models import Project, Webhook
from orchestra.projects import service as projects
from orchestra.webhooks import repository, signing
from orchestra.webhooks.formats import PING
from orchestra.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"location": field, "message": message}])


def check_url(url: str, allow_private: bool) -> str:
    """The URL if a webhook may send to it; InvalidInput (422) saying why not. The address the host resolves
    to is checked again at every delivery (kit/egress_http.py)."""
    url = url.strip()
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise _invalid("url", "the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _invalid("url", f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise _invalid("url", "a webhook URL starts with http:// or https://")
    if not parts.hostname:
        raise _invalid("url", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _invalid("url", "the URL may not hold a user name or password (put a token in the path)")
    if port == 0:
        raise _invalid("url", "port 0 cannot be sent to")
    try:
        host = egress.canonical_host(parts.hostname)
        address = egress.parse_address(host)
    except ValueError:
        address = None
    if address is not None:
        verdict = egress.classify(address)
        if verdict is not None and verdict[0] == "never":
            raise _invalid("url", f"{verdict[1]} addresses are never a webhook target")
    if not allow_private and egress.is_private_literal(parts.hostname):
        raise _invalid(
            "url",
            "loopback and private addresses are not webhook targets on this installation "
            "(ORCHESTRA_WEBHOOK_ALLOW_PRIVATE_NETWORK)",
        )
    return url


def target_of(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    return f"{parts.scheme}://{netloc}" + (f":{parts.port}" if parts.port else "")


def _url_aad(webhook_id: uuid.UUID) -> str:
    return f"webhook-url/{webhook_id}"


def _secret_aad(webhook_id: uuid.UUID) -> str:
    return f"webhook-secret/{webhook_id}"


def opened(box: SecretBox, webhook_id: uuid.UUID, url: str, secret: str) -> tuple[str, str]:
    """The stored URL and secret of a webhook, decrypted."""
    return box.decrypt(url, _url_aad(webhook_id)), box.decrypt(secret, _secret_aad(webhook_id))


def _out(box: SecretBox, hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        name=hook.name,
        target=target_of(box.decrypt(hook.url, _url_aad(hook.id))),
        kind=hook.kind,  # a CHECK constraint holds it to the three kinds
        events=list(hook.events),
        enabled=hook.enabled,
        created_at=hook.created_at,
        updated_at=hook.updated_at,
    )


async def get(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> Webhook:
    owner = await projects.get(session, actor, project)
    hook = await repository.find(session, actor.tenant_id, owner.id, ref)
    if hook is None:
        raise NotFound(f"webhook '{ref}' does not exist in project '{owner.name}'")
    return hook


async def list_page(
    session: AsyncSession, box: SecretBox, actor: Actor, project: str, params: PageParams
) -> Page[WebhookOut]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.page(session, actor.tenant_id, owner.id, params.limit, params.offset)
    return Page[WebhookOut](
        items=[_out(box, row) for row in rows], total=total, limit=params.limit, offset=params.offset
    )


async def get_out(session: AsyncSession, box: SecretBox, actor: Actor, project: str, ref: str) -> WebhookOut:
    return _out(box, await get(session, actor, project, ref))


async def create(
    session: AsyncSession,
    box: SecretBox,
    actor: Actor,
    project: str,
    data: WebhookCreate,
    allow_private: bool,
) -> WebhookCreated:
    owner = await projects.get(session, actor, project)
    url = check_url(data.url, allow_private)
    if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
        raise Conflict(f"webhook '{data.name}' already exists in project '{owner.name}'")
    secret = data.secret or signing.new_secret()
    webhook_id = uuid.uuid4()
    hook = Webhook(
        id=webhook_id,
        tenant_id=actor.tenant_id,
        project_id=owner.id,
        name=data.name,
        url=box.encrypt(url, _url_aad(webhook_id)),
        kind=data.kind,
        events=list(data.events),
        secret=box.encrypt(secret, _secret_aad(webhook_id)),
        enabled=data.enabled,
    )
    session.add(hook)
    await session.flush()
    await session.refresh(hook)
    return WebhookCreated(**_out(box, hook).model_dump(), secret=secret)


async def update(
    session: AsyncSession,
    box: SecretBox,
    actor: Actor,
    project: str,
    ref: str,
    data: WebhookUpdate,
    allow_private: bool,
) -> WebhookOut:
    owner = await projects.get(session, actor, project)
    hook = await get(session, actor, owner, ref)
    if data.name is not None and data.name != hook.name:
        if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
            raise Conflict(f"webhook '{data.name}' already exists in project '{owner.name}'")
        hook.name = data.name
    if data.url is not None:
        hook.url = box.encrypt(check_url(data.url, allow_private), _url_aad(hook.id))
    if data.kind is not None:
        hook.kind = data.kind
    if data.events is not None:
        hook.events = list(data.events)
    if data.enabled is not None:
        hook.enabled = data.enabled
    await session.flush()
    await session.refresh(hook)
    return _out(box, hook)


async def rotate_secret(
    session: AsyncSession, box: SecretBox, actor: Actor, project: str, ref: str
) -> WebhookCreated:
    """A new secret signs every attempt from now on (deliveries still pending included)."""
    hook = await get(session, actor, project, ref)
    secret = signing.new_secret()
    hook.secret = box.encrypt(secret, _secret_aad(hook.id))
    await session.flush()
    await session.refresh(hook)
    return WebhookCreated(**_out(box, hook).model_dump(), secret=secret)


async def delete(session: AsyncSession, actor: Actor, project: str, ref: str) -> None:
    """Delete the webhook with its pending deliveries and its log."""
    hook = await get(session, actor, project, ref)
    await session.delete(hook)
    await session.flush()


async def ping(session: AsyncSession, actor: Actor, project: str, ref: str) -> DeliveryOut:
    """Queue a test delivery to this webhook (enabled or not: a disabled one keeps it until enabled)."""
    hook = await get(session, actor, project, ref)
    event = {"webhook": hook.name, "occurred_at": datetime.now(UTC).isoformat()}
    queued = await repository.queue_event(
        session, actor.tenant_id, hook.project_id, PING, f"{PING}/{uuid.uuid4()}", event, webhook_id=hook.id
    )
    found = await repository.delivery(session, hook.id, queued[0])
    return DeliveryOut.model_validate(found)


async def deliveries(
    session: AsyncSession, actor: Actor, project: str, ref: str, params: PageParams
) -> Page[DeliveryOut]:
    hook = await get(session, actor, project, ref)
    rows, total = await repository.deliveries_page(session, hook.id, params.limit, params.offset)
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


async def delivery(
    session: AsyncSession, actor: Actor, project: str, ref: str, delivery_id: uuid.UUID
) -> DeliveryDetail:
    hook = await get(session, actor, project, ref)
    found = await repository.delivery(session, hook.id, delivery_id)
    if found is None:
        raise NotFound(f"delivery {delivery_id} does not exist for webhook '{hook.name}'")
    attempts = [AttemptOut.model_validate(row) for row in await repository.attempts_of(session, found.id)]
    return DeliveryDetail(
        **DeliveryOut.model_validate(found).model_dump(), event=found.event, attempts_log=attempts
    )


async def record_event(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    event_type: str,
    key: str,
    event: dict[str, Any],
) -> int:
    """Queue ``event_type`` (named ``key``: queued once per webhook whatever happens) for the project's
    webhooks that want it, in the caller's transaction: it is sent if and only if that commits."""
    event = {**event, "occurred_at": datetime.now(UTC).isoformat()}
    return len(await repository.queue_event(session, tenant_id, project_id, event_type, key, event))
