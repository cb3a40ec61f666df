"""What PostgreSQL does to a run's status is the transition table of models/run_states.py, exactly.

Every operation that writes a run — the scheduler's admission and reaper (SQL functions of migrations 0006
and 0011), the executor's lease, verdict, hand-back, heartbeat and step commit, the API's cancel — is driven
from every status in turn, on one run the database owner puts in that status first. The (from, to) pairs
that result, per operation, must be the table's: a move the SQL allows and the table does not fails here,
and so does a move of the table that no statement performs. Operations that must not change the status
(heartbeat, step commit, re-publishing stale QUEUED runs, the reaper facing a live holder or a run leased
without a presence key) must show no pair at all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.actor import Actor
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.lease import Lease, LeaseLost, LeaseStore, StepRecord
from orchestra.executor.presence import Presence, new_key
from orchestra.models.run_states import OPERATIONS, TRANSITIONS, RunStatus
from orchestra.projects import service as projects
from orchestra.runs import repository as run_repository
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate
from orchestra.runtime import Runtime
from orchestra.scheduler import admission
from orchestra.testcases import service as testcases

MAX_ATTEMPTS = 3
TOKEN = 7  # the fencing token every placed run carries, and every lease below holds
Pairs = set[tuple[RunStatus, RunStatus]]
# Operations outside the table: they write a run but must never change its status.
NO_MOVE = ("heartbeat", "commit_step", "republish_stale", "reap_live_holder", "reap_without_presence")


@pytest.fixture
async def quiet(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime whose scheduler and executor do nothing unless the test drives them."""
    rt = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The database owner (no row-level security): places the run in a status, reads where it went."""
    engine = create_async_engine(owner_database_url, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


class Bench:
    """One run, placed in any status by the owner, and the real code paths that move runs."""

    def __init__(
        self, rt: Runtime, owner: AsyncEngine, run_id: uuid.UUID, live_key: int, ended_key: int
    ) -> None:
        self.rt = rt
        self.owner = owner
        self.run_id = run_id
        # Presence keys: one a live session holds (an executor at work), one nobody holds (it was killed).
        self.presence = {"live": live_key, "ended": ended_key, None: None}
        self.store = LeaseStore(rt.db.engine, "bench", lease_s=30)
        self.seq = 0
        self.lease = Lease(
            run_id=run_id,
            tenant_id=rt.tenant_id,
            fencing_token=TOKEN,
            attempt=1,
            started_at=datetime.now(UTC),
            timeout_s=None,
            cancel_requested=False,
            test_case_version_id=uuid.uuid4(),  # not read by any write below
            environment_id=uuid.uuid4(),
            variables={},
            context={},
            name="t",
        )

    async def place(
        self, status: RunStatus, *, attempt: int = 1, expired: bool = False, holder: str | None = None
    ) -> None:
        """Whatever a run in ``status`` may carry: a lease (expired or not) held by a ``holder`` that is
        live, has ended, or left no presence key (None), an old queue time."""
        expiry = "now() - interval '1 second'" if expired else "now() + interval '1 hour'"
        async with self.owner.connect() as conn:
            await conn.execute(
                text(
                    f"""UPDATE test_runs SET status = :status, fencing_token = :token, attempt = :attempt,
                        lease_owner = 'someone', lease_expires_at = {expiry}, lease_presence_key = :key,
                        queued_at = now() - interval '1 hour', finished_at = NULL, status_reason = NULL,
                        cancel_requested = false
                    WHERE id = :id"""
                ),
                {
                    "status": status.value,
                    "token": TOKEN,
                    "attempt": attempt,
                    "key": self.presence[holder],
                    "id": self.run_id,
                },
            )

    async def status(self) -> RunStatus:
        async with self.owner.connect() as conn:
            found = (
                await conn.execute(text("SELECT status FROM test_runs WHERE id = :id"), {"id": self.run_id})
            ).scalar_one()
        return RunStatus(found)

    # The operations, each the code path production runs.

    async def admit_pass(self) -> None:
        async with self.rt.db.engine.begin() as conn:
            await admission.admit(conn, default_global_max=100, batch=10)

    async def mark_queued(self) -> None:
        """The admission pass's write on its own, asked of every status (the pass asks it only of PENDING)."""
        async with self.rt.db.engine.begin() as conn:
            await conn.execute(
                text("SELECT * FROM orchestra_sys_mark_queued(CAST(:ids AS uuid[]))"), {"ids": [self.run_id]}
            )

    async def reap(self) -> None:
        async with self.rt.db.engine.begin() as conn:
            await admission.reap_expired(conn, MAX_ATTEMPTS)

    async def republish_stale(self) -> None:
        async with self.rt.db.engine.begin() as conn:
            await admission.stale_queued(conn, stale_s=10.0, batch=10)

    async def lease_run(self) -> None:
        await self.store.take(self.run_id)

    def finish_as(self, verdict: RunStatus) -> Callable[[], Awaitable[None]]:
        async def finish() -> None:
            await self.store.finish(self.lease, verdict, "bench", {})

        return finish

    async def hand_back(self) -> None:
        await self.store.hand_back(self.lease)

    async def heartbeat(self) -> None:
        await self.store.heartbeat(self.lease)

    async def commit_step(self) -> None:
        self.seq += 1
        step = StepRecord(self.seq, "main", "x", "passed", 1, datetime.now(UTC), 1.0)
        payload: dict[str, str | None] = {
            "request": None,
            "response": None,
            "assertions": "[]",
            "error": None,
        }
        await self.store.commit_step(self.lease, step, "{}", payload)

    async def cancel(self) -> None:
        async with self.rt.db.transaction(self.rt.tenant_id) as session:
            await run_repository.cancel(session, [self.run_id])


async def create_run(rt: Runtime) -> uuid.UUID:
    actor = Actor(tenant_id=rt.tenant_id)
    async with rt.db.transaction(rt.tenant_id) as session:
        await projects.ensure(session, actor, "p")
        await environments.ensure(
            session, actor, "p", "sut", "http://127.0.0.1:9", allow_private_network=True
        )
        await testcases.upsert_definition(
            session, actor, "p", validate_test_case_data({"name": "t", "steps": [{"sleep": 0}]})
        )
        created = await runs.create_run(
            session, actor, RunCreate(project="p", environment="sut", test_case="t")
        )
    return created.id


@pytest.fixture
async def live_presence(quiet: Runtime) -> AsyncIterator[Presence]:
    """A presence lock held by a session of its own, as a running executor holds one."""
    presence = Presence(quiet.db.url)
    await presence.acquire()
    try:
        yield presence
    finally:
        await presence.release()


async def test_every_status_write_performs_exactly_the_tables_moves(
    quiet: Runtime, owner: AsyncEngine, live_presence: Presence
) -> None:
    assert live_presence.key is not None
    ended_key = next(key for key in iter(new_key, None) if key != live_presence.key)
    bench = Bench(quiet, owner, await create_run(quiet), live_presence.key, ended_key)
    # (the operation it performs, the attempt, lease expiry and holder the run is placed with, the code path)
    drivers: list[tuple[str, int, bool, str | None, Callable[[], Awaitable[None]]]] = [
        ("admit", 1, False, None, bench.admit_pass),
        ("admit", 1, False, None, bench.mark_queued),
        ("lease", 1, False, None, bench.lease_run),
        *[
            ("finish", 1, False, "live", bench.finish_as(verdict)) for verdict in RunStatus
        ],  # non-verdicts refused
        ("hand_back", 1, False, "live", bench.hand_back),
        ("requeue_expired", MAX_ATTEMPTS - 1, True, "live", bench.reap),  # silent, though its session lives
        ("fail_expired", MAX_ATTEMPTS, True, "live", bench.reap),
        ("requeue_expired", MAX_ATTEMPTS - 1, True, None, bench.reap),
        ("requeue_orphaned", MAX_ATTEMPTS - 1, False, "ended", bench.reap),
        ("fail_orphaned", MAX_ATTEMPTS, False, "ended", bench.reap),
        ("cancel", 1, False, None, bench.cancel),
        ("heartbeat", 1, False, "live", bench.heartbeat),
        ("commit_step", 1, False, "live", bench.commit_step),
        ("republish_stale", 1, False, None, bench.republish_stale),
        ("reap_live_holder", 1, False, "live", bench.reap),
        ("reap_without_presence", 1, False, None, bench.reap),
    ]
    observed: dict[str, Pairs] = {operation: set() for operation in (*OPERATIONS, *NO_MOVE)}
    for operation, attempt, expired, holder, drive in drivers:
        for source in RunStatus:
            await bench.place(source, attempt=attempt, expired=expired, holder=holder)
            try:
                await drive()
            except (LeaseLost, ValueError):
                pass  # refused: no move
            target = await bench.status()
            if target != source:
                observed[operation].add((source, target))

    expected: dict[str, Pairs] = {operation: set(TRANSITIONS[operation].pairs) for operation in OPERATIONS}
    expected.update({operation: set() for operation in NO_MOVE})
    wrong = {
        operation: {
            "not in the table": sorted(observed[operation] - pairs),
            "never performed": sorted(expected[operation] - observed[operation]),
        }
        for operation, pairs in expected.items()
        if observed[operation] != pairs
    }
    assert not wrong, wrong
