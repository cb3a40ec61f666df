"""Request-scoped dependencies: the runtime, the authenticated actor, its role, and the transaction (the
edge owns it; it sees the actor's tenant only, and records every change in the audit log)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor, Role
from orchestra.audit import service as audit
from orchestra.auth.authenticator import Authenticator
from orchestra.db import Transactions
from orchestra.errors import Forbidden
from orchestra.runtime import Runtime

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_actor(request: Request) -> Actor:
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(request.headers.get("authorization"))


async def get_session(
    request: Request, actor: Annotated[Actor, Depends(get_actor)]
) -> AsyncIterator[AsyncSession]:
    """One transaction per request, seeing the actor's tenant (and token project) only: committed with its
    audit record when the route returned, rolled back on any error."""
    async with get_runtime(request).db.transaction(actor.tenant_id, actor.project_id) as session:
        yield session
        if request.method not in _READS:
            await audit.record_request(session, actor, request)


async def get_transactions(
    request: Request, actor: Annotated[Actor, Depends(get_actor)]
) -> AsyncIterator[Transactions]:
    """Like ``get_session``, the change is audited once the route returned (in a transaction of its own)."""
    transactions = get_runtime(request).db.transactions(actor.tenant_id, actor.project_id)
    yield transactions
    if request.method not in _READS:
        async with transactions() as session:
            await audit.record_request(session, actor, request)


def requires(role: Role, *, platform: bool = False) -> Callable[[Actor], Awaitable[Actor]]:
    async def check(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if platform and not actor.platform_admin:
            raise Forbidden("this changes the whole platform: it needs a platform admin")
        if not actor.has(role):
            raise Forbidden(f"this needs the {role.label} role; you have {actor.role.label}")
        return actor

    return check


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the transaction commits before the response is sent, so a client that reads right
# after a write sees it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TransactionsDep = Annotated[Transactions, Depends(get_transactions, scope="function")]
ViewerDep = Annotated[Actor, Depends(requires(Role.VIEWER))]
EditorDep = Annotated[Actor, Depends(requires(Role.EDITOR))]
AdminDep = Annotated[Actor, Depends(requires(Role.ADMIN))]
PlatformAdminDep = Annotated[Actor, Depends(requires(Role.VIEWER, platform=True))]
