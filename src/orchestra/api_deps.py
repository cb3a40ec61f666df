"""Request-scoped dependencies: the runtime, the transaction (the edge owns it) and the acting tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returned, rolled back on any error."""
    async with get_runtime(request).db.transaction() as session:
        yield session


def get_actor(request: Request) -> Actor:
    return Actor(tenant_id=get_runtime(request).tenant_id)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the transaction commits before the response is sent, so a client that reads right
# after a write sees it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ActorDep = Annotated[Actor, Depends(get_actor)]
