"""accommodations: an item may be one implementer's check-in on an accommodation

Such an item names its accommodation and may answer no concern (concern_id becomes
nullable). Existing items are unchanged.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accommodation", sa.String(length=64), nullable=True))
        batch_op.alter_column("concern_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Check-ins that answer no concern cannot be kept under the old rule.
    op.execute("DELETE FROM action_item WHERE concern_id IS NULL")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.alter_column("concern_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("accommodation")
