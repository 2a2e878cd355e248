"""address events (whether a person's address takes mail); held replies name their sender

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_address_event_person_id", "address_event", ["person_id"])
    # Held replies now name their sender (not the key's owner): fill it in for those held before.
    op.execute(
        "UPDATE inbound_message SET person_id = "
        "(SELECT person.id FROM person WHERE person.email = lower(inbound_message.from_address)) "
        "WHERE outcome = 'held' AND person_id IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_address_event_person_id", table_name="address_event")
    op.drop_table("address_event")
