"""missed sessions: a service's sessions a week, and on each update a missed session's reason,
its lost minutes and whether the minutes given were make-up

Existing items count no sessions; existing updates report no missed session.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sessions_per_week", sa.Integer(), nullable=True))
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("missed_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("missed_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("makeup", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.drop_column("makeup")
        batch_op.drop_column("missed_minutes")
        batch_op.drop_column("missed_reason")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("sessions_per_week")
