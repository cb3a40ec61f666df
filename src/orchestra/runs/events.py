"""Live events of a run or suite run as Server-Sent Events, read from PostgreSQL (works across processes).

A stream reads when its watch says the rows may have changed (kit/live_changes.py: a notification of the
transaction that committed them, or the listener reconnecting), never on a timer of its own; between two
reads it only sends keep-alives. Every read goes through row-level security, as the actor."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from orchestra.actor import Actor
from orchestra.db import Database
from orchestra.kit.live_changes import LiveChanges, run_key, suite_run_key
from orchestra.models.run_states import TERMINAL
from orchestra.runs import repository, service
from orchestra.runs.schemas import StepResultOut

MAX_STREAM_S = 6 * 3600
_KEEP_ALIVE = ": keep-alive\n\n"


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
    db: Database, changes: LiveChanges, actor: Actor, run_id: uuid.UUID, after_seq: int | None = None
) -> AsyncIterator[str]:
    """``status`` on every status change, ``step`` for every committed step (its seq as the event id, so a
    client reconnecting with ``Last-Event-ID`` gets only the steps after it), then ``end``."""
    last_seq = after_seq
    last_status = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    with changes.watch(run_key(run_id)) as watch:  # before the first read: a later commit wakes it
        changed = True
        while loop.time() < deadline:
            if changed:
                async with db.transaction(actor.tenant_id, actor.project_id) as session:
                    run = await service.get_run(session, actor, run_id, with_steps=False)
                    steps = await repository.steps_of(session, run_id, after_seq=last_seq)
                for step in steps:
                    yield _event("step", StepResultOut.model_validate(step).model_dump(mode="json"), step.seq)
                    last_seq = step.seq
                if run.status != last_status:
                    last_status = run.status
                    yield _event(
                        "status", {"id": str(run.id), "status": run.status, "reason": run.status_reason}
                    )
                if run.status in TERMINAL:
                    yield _event("end", {"id": str(run.id), "status": run.status})
                    return
            yield _KEEP_ALIVE
            changed = await watch.next()


async def suite_run_events(
    db: Database, changes: LiveChanges, actor: Actor, suite_run_id: uuid.UUID
) -> AsyncIterator[str]:
    """``run`` whenever one of its runs changes status, ``progress`` with counts, then ``end``."""
    seen: dict[uuid.UUID, str] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    with changes.watch(suite_run_key(suite_run_id)) as watch:
        changed = True
        while loop.time() < deadline:
            if changed:
                async with db.transaction(actor.tenant_id, actor.project_id) as session:
                    suite_run = await service.get_suite_run(session, actor, suite_run_id)
                moved = [run for run in suite_run.runs if seen.get(run.id) != run.status]
                for run in moved:
                    seen[run.id] = run.status
                    fields = {"id": str(run.id), "name": run.name, "status": run.status}
                    yield _event("run", {**fields, "reason": run.status_reason})
                if moved:
                    counts = {"counts": suite_run.counts, "total": suite_run.total}
                    yield _event("progress", {"status": suite_run.status, **counts})
                if suite_run.status in TERMINAL:
                    yield _event("end", {"id": str(suite_run.id), "status": suite_run.status})
                    return
            yield _KEEP_ALIVE
            changed = await watch.next()
