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


def _event(name: str, data: Any, event_id: int | None = None) -> str:
    line = "" if event_id is None else f"id: {event_id}\n"
    return f"{line}event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


def last_step_seq(last_event_id: str | None) -> int | None:
    """The step a reconnecting client saw last (its ``Last-Event-ID``: a step's seq), or None."""
    try:
        return int(last_event_id) if last_event_id is not None else None
    except ValueError:
        return None


async def run_events(
    db: Database, actor: Actor, run_id: uuid.UUID, after_seq: int | None = None
) -> AsyncIterator[str]:
    """``status`` on every status change, ``step`` for every committed step (its seq as the event id, so a
    client reconnecting with ``Last-Event-ID`` gets only the steps after it), then ``end``."""
    last_seq = after_seq
    last_status = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    while loop.time() < deadline:
        async with db.transaction(actor.tenant_id, actor.project_id) as session:
            run = await service.get_run(session, actor, run_id, with_steps=False)
            steps = await repository.steps_of(session, run_id, after_seq=last_seq)
        for step in steps:
            yield _event("step", StepResultOut.model_validate(step).model_dump(mode="json"), step.seq)
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
