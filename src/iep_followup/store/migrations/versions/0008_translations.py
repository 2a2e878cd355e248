"""translations: a meeting's language, each free text's versions in other languages, held
summaries, and a family member's relationship to the child

Existing meetings are taken as written in English, their texts as the originals.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TRANSLATED = ("strength", "concern", "action_item")


def _versions(name: str) -> sa.Column[dict[str, str]]:
    return sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text("'{}'"))


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
        batch_op.add_column(_versions("notes_translations"))
        batch_op.add_column(
            sa.Column("summaries_held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    for table in _TRANSLATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_versions("translations"))
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relationship", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("relationship")
    for table in reversed(_TRANSLATED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("translations")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("summaries_held")
        batch_op.drop_column("notes_translations")
        batch_op.drop_column("language")
