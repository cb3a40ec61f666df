"""Request-scoped dependencies: what the running process lends a route (settings, secret box, database,
scheduler, live changes, readiness), the authenticated actor, its role, and the transaction (the edge owns
it; it sees the actor's tenant only, and records every change in the audit log).

The app factory (app.py) puts each part on ``app.state``, with the authenticator and the audit recorder; a
route asks for the part it uses, typed by its class or by a small protocol of what is called on it. So
features depend on what they need, never on the process wiring (runtime.py), and this module imports no
feature: the audit and auth packages, whose routes use it, are wired in by the app factory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor, Role
from orchestra.config import Settings
from orchestra.db import Database, Transactions
from orchestra.errors import Forbidden
from orchestra.kit.live_changes import LiveChanges
from orchestra.kit.secret_box import SecretBox

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestAuthenticator(Protocol):
    """Turns the Authorization header into an actor, or refuses it (auth/authenticator.py)."""

    async def authenticate(self, authorization: str | None) -> Actor: ...

    @property
    def signs_in_people(self) -> bool:
        """Whether people sign in through an identity provider (OIDC), without any API token."""
        ...


AuditRecorder = Callable[[AsyncSession, Actor, Request], Awaitable[None]]
"""Records a change made through the API in the session it was made in (audit/service.py)."""


class SchedulerHandle(Protocol):
    """What routes ask of the scheduler (scheduler/loop.py)."""

    def clock(self) -> datetime:
        """Now, as the firing pass sees it (tests set it), so next fire times agree with the firing."""
        ...

    def wake(self) -> None:
        """Ask for a pass now (a run or a suite run was created)."""
        ...

    @property
    def role(self) -> str:
        """Its place among the platform's schedulers: "leader" or "standby"."""
        ...


class Readiness(Protocol):
    """The health checks of the process serving the API (runtime.py)."""

    @property
    def runs_scheduler(self) -> bool:
        """Whether the scheduler runs in this process (its role is then reported)."""
        ...

    async def readiness(self) -> dict[str, str]:
        """Each dependency of the process and whether it is usable; all "ok" means ready."""
        ...


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_secrets(request: Request) -> SecretBox:
    secrets: SecretBox = request.app.state.secrets
    return secrets


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_scheduler(request: Request) -> SchedulerHandle:
    scheduler: SchedulerHandle = request.app.state.scheduler
    return scheduler


def get_changes(request: Request) -> LiveChanges:
    changes: LiveChanges = request.app.state.changes
    return changes


def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


# Declares the bearer scheme in the OpenAPI description of every route that authenticates; the header itself
# is read (and refused with a clear 401 when missing or wrong) by the authenticator.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API token (`orchestra token create`, the local admin token) or an OpenID Connect "
    "access token.",
    auto_error=False,
)


async def get_actor(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
) -> Actor:
    authenticator: RequestAuthenticator = request.app.state.authenticator
    return await authenticator.authenticate(request.headers.get("authorization"))


def get_identity_provider(request: Request) -> bool:
    """Whether people can sign in without an API token (an OIDC issuer is configured)."""
    authenticator: RequestAuthenticator = request.app.state.authenticator
    return authenticator.signs_in_people


def _audit_recorder(request: Request) -> AuditRecorder:
    recorder: AuditRecorder = request.app.state.audit_recorder
    return recorder


async def get_session(
    request: Request, actor: Annotated[Actor, Depends(get_actor)]
) -> AsyncIterator[AsyncSession]:
    """One transaction per request, seeing the actor's tenant (and token project) only: committed with its
    audit record when the route returned, rolled back on any error."""
    async with get_database(request).transaction(actor.tenant_id, actor.project_id) as session:
        yield session
        if request.method not in _READS:
            await _audit_recorder(request)(session, actor, request)


async def get_transactions(
    request: Request, actor: Annotated[Actor, Depends(get_actor)]
) -> AsyncIterator[Transactions]:
    """Like ``get_session``, the change is audited once the route returned (in a transaction of its own)."""
    transactions = get_database(request).transactions(actor.tenant_id, actor.project_id)
    yield transactions
    if request.method not in _READS:
        async with transactions() as session:
            await _audit_recorder(request)(session, actor, request)


def requires(role: Role, *, platform: bool = False) -> Callable[[Actor], Awaitable[Actor]]:
    async def check(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if platform and not actor.platform_admin:
            raise Forbidden("this changes the whole platform: it needs a platform admin")
        if not actor.has(role):
            raise Forbidden(f"this needs the {role.label} role; you have {actor.role.label}")
        return actor

    return check


SettingsDep = Annotated[Settings, Depends(get_settings)]
IdentityProviderDep = Annotated[bool, Depends(get_identity_provider)]
SecretsDep = Annotated[SecretBox, Depends(get_secrets)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SchedulerDep = Annotated[SchedulerHandle, Depends(get_scheduler)]
ChangesDep = Annotated[LiveChanges, Depends(get_changes)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
# scope="function": the transaction commits before the response is sent, so a client that reads right
# after a write sees it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TransactionsDep = Annotated[Transactions, Depends(get_transactions, scope="function")]
ViewerDep = Annotated[Actor, Depends(requires(Role.VIEWER))]
EditorDep = Annotated[Actor, Depends(requires(Role.EDITOR))]
AdminDep = Annotated[Actor, Depends(requires(Role.ADMIN))]
PlatformAdminDep = Annotated[Actor, Depends(requires(Role.VIEWER, platform=True))]
