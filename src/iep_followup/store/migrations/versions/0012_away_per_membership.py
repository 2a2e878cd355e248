"""away_until moves from person to membership: away from one student's team, not from all

A date set from one student (the desk's "away until", a meeting's `away_until`) silenced the
person for every student, on every caseload. Each membership now has its own; an existing
date is copied to each of the person's memberships, so nobody is asked sooner than before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("away_until", sa.Date(), nullable=True))
    op.execute(
        "UPDATE membership SET away_until = "
        "(SELECT person.away_until FROM person WHERE person.id = membership.person_id)"
    )
    # Not in batch mode: SQLite (3.35+) drops a column in place. Copying the table instead
    # would drop `person` with foreign keys on, and its memberships with it.
    op.drop_column("person", "away_until")


def downgrade() -> None:
    op.add_column("person", sa.Column("away_until", sa.Date(), nullable=True))
    op.execute(
        "UPDATE person SET away_until = (SELECT max(membership.away_until) FROM membership "
        "WHERE membership.person_id = person.id)"
    )
    op.drop_column("membership", "away_until")
