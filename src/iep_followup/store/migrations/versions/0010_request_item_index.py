"""request_item: one index on (item_id, request_id) instead of item_id alone

Planning asks, for each open item, when it was last asked about: the highest request id
naming it. With only (item_id) and the unique (request_id, item_id), PostgreSQL read that
maximum by walking the unique index backwards, over every request of the run so far.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_request_item_item_request", "request_item", ["item_id", "request_id"])
    op.drop_index("ix_request_item_item_id", table_name="request_item")


def downgrade() -> None:
    op.create_index("ix_request_item_item_id", "request_item", ["item_id"])
    op.drop_index("ix_request_item_item_request", table_name="request_item")
