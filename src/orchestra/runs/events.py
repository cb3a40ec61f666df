"""Live events of a run or suite run as Server-Sent Events, read from PostgreSQL (works across processes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from orchestra.actor import Actor
from orchestra.db import Database
from orchestra.models.run_states import TERMINAL
from orchestra.runs import repository, service
from orchestra.runs.schemas import StepResultOut

POLL_S = 0.25
MAX_STREAM_S = 6 * 3600


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


async def run_events(db: Database, actor: Actor, run_id: uuid.UUID) -> AsyncIterator[str]:
    """``status`` on every status change, ``step`` for every committed step, then ``end``."""
    last_seq: int | None = None
    last_status = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    while loop.time() < deadline:
        async with db.transaction(actor.tenant_id, actor.project_id) as session:
            run = await service.get_run(session, actor, run_id, with_steps=False)
            steps = await repository.steps_of(session, run_id, after_seq=last_seq)
        for step in steps:
            yield _event("step", StepResultOut.model_validate(step).model_dump(mode="json"))
            last_seq = step.seq
        if run.status != last_status:
            last_status = run.status
            yield _event("status", {"id": str(run.id), "status": run.status, "reason": run.status_reason})
        if run.status in TERMINAL:
            yield _event("end", {"id": str(run.id), "status": run.status})
            return
        yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)


async def suite_run_events(db: Database, actor: Actor, suite_run_id: uuid.UUID) -> AsyncIterator[str]:
    """``run`` whenever one of its runs changes status, ``progress`` with counts, then ``end``."""
    seen: dict[uuid.UUID, str] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    while loop.time() < deadline:
        async with db.transaction(actor.tenant_id, actor.project_id) as session:
            suite_run = await service.get_suite_run(session, actor, suite_run_id)
        changed = False
        for run in suite_run.runs:
            if seen.get(run.id) != run.status:
                seen[run.id] = run.status
                changed = True
                yield _event(
                    "run",
                    {"id": str(run.id), "name": run.name, "status": run.status, "reason": run.status_reason},
                )
        if changed:
            yield _event(
                "progress", {"status": suite_run.status, "counts": suite_run.counts, "total": suite_run.total}
            )
        if suite_run.status in TERMINAL:
            yield _event("end", {"id": str(suite_run.id), "status": suite_run.status})
            return
        yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)
