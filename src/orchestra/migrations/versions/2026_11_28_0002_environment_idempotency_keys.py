"""environments.idempotency_keys: send a stable Idempotency-Key with every HTTP step (on by default)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "environments",
        sa.Column("idempotency_keys", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("environments", "idempotency_keys")
