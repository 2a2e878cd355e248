"""routines: an item's kind (task or routine), and a routine's period and minutes on each update

Existing items become tasks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="task")
        )
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.drop_column("minutes")
        batch_op.drop_column("period")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("kind")
