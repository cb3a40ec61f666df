"""Webhooks of a project: where its events are sent, and the log of what was sent (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from orchestra.api_deps import EditorDep, SecretsDep, SessionDep, SettingsDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.webhooks import service
from orchestra.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(prefix="/projects/{project}/webhooks", tags=["webhooks"])


@router.get("", response_model=Page[WebhookOut])
async def list_webhooks(
    project: str,
    session: SessionDep,
    secrets: SecretsDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
) -> Page[WebhookOut]:
    return await service.list_page(session, secrets, actor, project, page)


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    description="The answer holds the signing secret: the only time it is shown.",
)
async def create_webhook(
    project: str,
    data: WebhookCreate,
    session: SessionDep,
    secrets: SecretsDep,
    settings: SettingsDep,
    actor: EditorDep,
) -> WebhookCreated:
    return await service.create(
        session, secrets, actor, project, data, settings.webhook_allow_private_network
    )


@router.get("/{webhook}", response_model=WebhookOut)
async def get_webhook(
    project: str, webhook: str, session: SessionDep, secrets: SecretsDep, actor: ViewerDep
) -> WebhookOut:
    return await service.get_out(session, secrets, actor, project, webhook)


@router.patch("/{webhook}", response_model=WebhookOut)
async def update_webhook(
    project: str,
    webhook: str,
    data: WebhookUpdate,
    session: SessionDep,
    secrets: SecretsDep,
    settings: SettingsDep,
    actor: EditorDep,
) -> WebhookOut:
    return await service.update(
        session, secrets, actor, project, webhook, data, settings.webhook_allow_private_network
    )


@router.delete("/{webhook}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(project: str, webhook: str, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, webhook)


@router.post(
    "/{webhook}/rotate-secret",
    response_model=WebhookCreated,
    description="A new signing secret, shown in the answer only; the old one signs nothing from now on.",
)
async def rotate_secret(
    project: str, webhook: str, session: SessionDep, secrets: SecretsDep, actor: EditorDep
) -> WebhookCreated:
    return await service.rotate_secret(session, secrets, actor, project, webhook)


@router.post(
    "/{webhook}/ping",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    description="Queue a test delivery (event type `ping`) to this webhook.",
)
async def ping_webhook(project: str, webhook: str, session: SessionDep, actor: EditorDep) -> DeliveryOut:
    return await service.ping(session, actor, project, webhook)


@router.get(
    "/{webhook}/deliveries", response_model=Page[DeliveryOut], description="Deliveries, most recent first."
)
async def list_deliveries(
    project: str,
    webhook: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
) -> Page[DeliveryOut]:
    return await service.deliveries(session, actor, project, webhook, page)


@router.get(
    "/{webhook}/deliveries/{delivery}",
    response_model=DeliveryDetail,
    description="A delivery with its event and every attempt made (when, how long, the answer).",
)
async def get_delivery(
    project: str, webhook: str, delivery: uuid.UUID, session: SessionDep, actor: ViewerDep
) -> DeliveryDetail:
    return await service.delivery(session, actor, project, webhook, delivery)
