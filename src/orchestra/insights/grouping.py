"""Putting failed runs into failure groups. A failure's message (failure_messages.py) is normalised; runs
whose normalised messages are equal (the same fingerprint) share a group, and a new message joins the
project's group whose message embedding (the built-in embedder, no model needed) is nearest within
``MAX_DISTANCE`` cosine distance, found by pgvector; otherwise it starts a group of its own with this run
as its first. Runs are taken oldest first, so a group's first run is the earliest of its failures."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights import group_repository as repository
from orchestra.insights.failure_messages import failure_message, fingerprint, normalise
from orchestra.models import FailureGroup
from orchestra.models.failure_group import SIGNATURE_DIMENSIONS
from orchestra.rag.embedders import BuiltinEmbedder

MAX_DISTANCE = 0.1  # cosine distance of two messages' embeddings that still name one cause (docs/insights.md)
BATCH = 1000
MAX_BATCHES = 20  # per pass: a pass costs a bounded time; what is left is grouped by the next one

EMBEDDER = BuiltinEmbedder(SIGNATURE_DIMENSIONS)


async def group_failures(session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID) -> int:
    """Group the project's failed runs that are not grouped yet (at most ``BATCH * MAX_BATCHES``); how many
    were grouped."""
    await repository.lock_project(session, project_id)
    grouped = 0
    known: dict[str, FailureGroup] = {}
    for _ in range(MAX_BATCHES):
        runs = await repository.ungrouped_failures(session, tenant_id, project_id, BATCH)
        if not runs:
            break
        steps = await repository.failed_steps(session, [run.id for run in runs])
        signatures = [
            normalise(failure_message(steps.get(run.id, []), run.status, run.status_reason)) for run in runs
        ]
        keys = [fingerprint(signature) for signature in signatures]
        # The batch's groups that exist already, in one query; only a message new to the project costs a
        # nearest-neighbour query of its own (and is then known for the rest of the pass).
        known.update(await repository.by_fingerprints(session, project_id, sorted(set(keys) - set(known))))
        members: dict[uuid.UUID, uuid.UUID] = {}  # run → its group
        for run, signature, key in zip(runs, signatures, keys, strict=True):
            group = known.get(key)
            if group is None:
                vector = EMBEDDER.vector(signature)
                group = await repository.nearest(session, project_id, vector, MAX_DISTANCE)
                if group is None:
                    group = FailureGroup(
                        id=uuid.uuid4(),
                        tenant_id=tenant_id,
                        project_id=project_id,
                        fingerprint=key,
                        signature=signature,
                        embedding=vector,
                        first_run_id=run.id,
                        first_seen_at=run.created_at,
                        last_seen_at=run.created_at,
                        failures=0,
                    )
                    session.add(group)
                    await session.flush()
            known[key] = group
            group.failures += 1
            group.last_seen_at = max(group.last_seen_at, run.created_at)
            members[run.id] = group.id
        await session.flush()
        await repository.assign(session, members)
        grouped += len(runs)
        if len(runs) < BATCH:
            break
    return grouped
