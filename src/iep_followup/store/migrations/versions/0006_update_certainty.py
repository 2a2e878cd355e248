"""update certainty: whether an update was read from a sentence rather than given as a command

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("understood", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("item_update", schema=None) as batch_op:
        batch_op.drop_column("understood")
