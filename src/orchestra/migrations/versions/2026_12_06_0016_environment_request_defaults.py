"""an environment's request defaults: headers, query, auth and timeout every request to it inherits

``environments.defaults`` holds the same document as a suite's or a test case's ``defaults:`` (headers,
query, auth, timeout_ms); the most general layer, under the suite's, the test case's and the step's own
(docs/test-definitions.md, "Request defaults"). Empty for every existing environment. It is ``json``, not
``jsonb``, so headers keep the order they were written in (see 0013). The column is on ``environments``,
whose row-level security policies cover it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "environments",
        sa.Column("defaults", postgresql.JSON(astext_type=sa.Text()), server_default="{}", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("environments", "defaults")
