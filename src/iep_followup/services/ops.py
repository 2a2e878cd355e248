"""Readiness: the database answers, its schema is this version's, and the daemon's heartbeat is fresh."""

from __future__ import annotations

from datetime import datetime

from iep_followup.errors import DatabaseError
from iep_followup.operations import HEARTBEAT_JOB, Readiness, heartbeat_readiness
from iep_followup.store import ops
from iep_followup.store.db import Database


def readiness(database: Database, now: datetime, heartbeat_every: int | None) -> Readiness:
    """Ready or one line saying why not. `heartbeat_every`: a daemon is expected, heartbeating
    this often (seconds); None: no daemon is expected here."""
    try:
        current, head = database.current_revision(), database.head_revision()
    except DatabaseError:
        # The driver's text can name the host and the user: the reason stays generic.
        return Readiness(False, "the database does not answer")
    if current != head:
        state = "not set up" if current is None else f"at revision {current}, not {head}"
        return Readiness(False, f"the database is {state}: run `iep-followup init`")
    if heartbeat_every is None:
        return Readiness(True, "ok")
    try:
        with database.transaction() as session:
            last = ops.last_success(session, HEARTBEAT_JOB)
    except DatabaseError:
        return Readiness(False, "the database does not answer")
    return heartbeat_readiness(last, now, heartbeat_every)
