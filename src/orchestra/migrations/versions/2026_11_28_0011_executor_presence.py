"""the reaper also takes back the runs of an executor whose process ended, without waiting out the lease

An executor holds a session-level advisory lock (class ``PRESENCE_LOCK_CLASS``, key of its own) on a
database connection of its own for as long as its process lives, and a run it leases records that key in
``test_runs.lease_presence_key``. When the process dies (``kill -9``, out of memory, a crash), PostgreSQL
ends its sessions and frees the lock; at its next pass the reaper finds the lock free
(``pg_try_advisory_xact_lock`` succeeds) and moves the run on as it does with an expired lease: QUEUED with
attempt + 1, or ERROR after the last attempt. Fencing is unchanged: the new owner's lease has a higher
token, so the old process could write nothing even if it were still alive. A run without a key (leased
by an executor from before this revision) waits for its lease to expire, as before.

Moves of the transition table (models/run_states.py): ``requeue_orphaned`` and ``fail_orphaned``, the same
pairs as ``requeue_expired`` and ``fail_expired``; tests/integration/test_run_transitions.py drives them.

The function keeps its name and signature (``CREATE OR REPLACE``), so a scheduler of the previous release
calls the new body during a rolling upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The first key of every executor's presence lock (executor/presence.py); "ORCH" in ASCII.
PRESENCE_LOCK_CLASS = 0x4F524348
_REAP = "orchestra_sys_reap_expired(max_attempts integer)"

_REAP_BODY = f"""
    RETURNS TABLE (id uuid, status text)
    LANGUAGE sql VOLATILE AS $$
        WITH ended AS (
            -- holders whose presence lock nobody holds: their process, and so its session, has ended
            SELECT key FROM (
                SELECT DISTINCT lease_presence_key AS key FROM test_runs
                WHERE status = 'IN_PROGRESS' AND lease_presence_key IS NOT NULL
            ) holders
            WHERE pg_try_advisory_xact_lock({PRESENCE_LOCK_CLASS}, key)
        )
        UPDATE test_runs SET
            status = CASE WHEN attempt < max_attempts THEN 'QUEUED' ELSE 'ERROR' END,
            status_reason = CASE WHEN attempt < max_attempts THEN status_reason
                WHEN lease_expires_at < now() THEN
                    'lease expired on attempt ' || attempt || ' of ' || max_attempts
                    || ' (executor ' || coalesce(lease_owner, '?') || ' stopped responding)'
                ELSE 'executor ' || coalesce(lease_owner, '?') || ' ended on attempt ' || attempt || ' of '
                    || max_attempts || ' (its database session closed)' END,
            attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
            finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END,
            queued_at = now(), lease_owner = NULL, lease_expires_at = NULL, lease_presence_key = NULL
        WHERE status = 'IN_PROGRESS'
            AND (lease_expires_at < now() OR lease_presence_key IN (SELECT key FROM ended))
        RETURNING id, status
    $$"""

# Revision 0006's body, for the downgrade.
_REAP_BODY_0006 = """
    RETURNS TABLE (id uuid, status text)
    LANGUAGE sql VOLATILE AS $$
        UPDATE test_runs SET
            status = CASE WHEN attempt < max_attempts THEN 'QUEUED' ELSE 'ERROR' END,
            status_reason = CASE WHEN attempt < max_attempts THEN status_reason
                ELSE 'lease expired on attempt ' || attempt || ' of ' || max_attempts
                     || ' (executor ' || coalesce(lease_owner, '?') || ' stopped responding)' END,
            attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
            finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END,
            queued_at = now(), lease_owner = NULL, lease_expires_at = NULL
        WHERE status = 'IN_PROGRESS' AND lease_expires_at < now()
        RETURNING id, status
    $$"""


def _replace_reaper(body: str) -> None:
    # CREATE OR REPLACE keeps the owner (orchestra_system) and the grants; the other properties are set anew.
    op.execute(f"CREATE OR REPLACE FUNCTION {_REAP} {body}")
    op.execute(f"ALTER FUNCTION {_REAP} SECURITY DEFINER SET search_path = public, pg_temp")


def upgrade() -> None:
    op.add_column("test_runs", sa.Column("lease_presence_key", sa.Integer(), nullable=True))
    op.execute(
        "GRANT SELECT (lease_presence_key), UPDATE (lease_presence_key) ON test_runs TO orchestra_system"
    )
    _replace_reaper(_REAP_BODY)


def downgrade() -> None:
    _replace_reaper(_REAP_BODY_0006)
    op.execute(
        "REVOKE SELECT (lease_presence_key), UPDATE (lease_presence_key) ON test_runs FROM orchestra_system"
    )
    op.drop_column("test_runs", "lease_presence_key")
