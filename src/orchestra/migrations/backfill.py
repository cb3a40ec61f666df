"""For migrations that fill a new table from the history of every tenant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


@contextmanager
def row_security_lifted(tables: Sequence[str]) -> Iterator[None]:
    """Row-level security lifted from ``tables`` for what runs inside, in the migration's transaction.

    The tables' owner migrates: a superuser, or a deployment's owner role, which is not one. A backfill reads
    every tenant's rows and writes the new table's rows of each; with FORCE ROW LEVEL SECURITY the owner is
    held by the policies (an owner that is also orchestra_system could read the runs but not write the new
    table, and the upgrade would fail). FORCE is taken off only where it was set, and set again after."""
    bind = op.get_bind()
    forced = [
        table
        for table in tables
        if bind.execute(
            sa.text("SELECT relforcerowsecurity FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar()
    ]
    for table in forced:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    yield
    for table in forced:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
