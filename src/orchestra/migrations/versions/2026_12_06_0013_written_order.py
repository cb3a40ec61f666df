"""definitions and the requests and responses of steps keep the order they were written in

JSONB stores an object's keys in its own order (shorter keys first), so a stored definition lost the order
its author wrote: ``set`` entries rendered in the wrong order (one referring to an earlier one failed), JSON
request bodies reached the SUT with their keys reordered, default step names, reported checks and headers
came out shuffled. The ``json`` type keeps the text as written. Nothing queries inside these columns but
two containment filters (a test case's tags, a suite's members), which cast to JSONB.

Definitions stored before this revision keep the order JSONB gave them (the written one is lost); the next
``orchestra apply`` of their files stores a new version in the written order (content hashes now follow the
order, so that apply is a change, not "unchanged").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = [
    ("test_case_versions", "definition"),
    ("suites", "definition"),
    ("step_results", "request"),
    ("step_results", "response"),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json USING {column}::json")


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")
