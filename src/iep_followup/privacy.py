"""Privacy as values: what the access log says, what forgetting a student removes.

Pure: no I/O. The store writes and reads the access log; services decide when to write it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# Who and from where, for what is done on the command line.
COMMAND_LINE = "cli"


class Access(enum.StrEnum):
    """What was done with a child's record (or with the desk): the access log's `action`."""

    VIEWED_STUDENT = "viewed_student"  # the desk's student page
    VIEWED_RECORD = "viewed_record"  # the print-ready record
    EXPORTED_CSV = "exported_csv"  # the record as CSV, from the desk
    EXPORTED_CLI = "exported_cli"  # the record from `iep-followup export`
    VIEWED_HELD = "viewed_held"  # a held reply's text (desk or `inbox show`)
    VIEWED_ACCESS_LOG = "viewed_access_log"  # this log itself
    SIGNED_IN = "signed_in"
    CHANGED = "changed"  # a desk action: detail says which (item_reassign, released, ...)
    FORGOTTEN = "forgotten"


@dataclass(frozen=True)
class AccessEntry:
    """One line of the access log: who, when, what, from where. No record text, ever."""

    at: datetime
    actor: str  # the reader's address, or "cli"
    client: str  # the desk's client address, or "cli"
    action: Access
    student: str | None  # the student's id; None for a sign-in
    detail: str


# What forgetting a student removes, in the order the report lists it.
FORGET_KINDS = (
    ("strengths", "strengths"),
    ("concerns", "concerns"),
    ("items", "action items"),
    ("updates", "item updates (and their notes)"),
    ("meeting_notes", "meetings' notes (the dates stay)"),
    ("replies", "received emails' text (replies about the student)"),
    ("emails", "sent emails' text and subjects"),
    ("family", "family members (name and address)"),
    ("staff", "staff on no other team"),
    ("memberships", "places on the team"),
    ("audit", "desk audit entries' detail"),
    ("sign_ins", "sign-in links and sessions"),
)


@dataclass(frozen=True)
class ForgetReport:
    """What forgetting a student removed (`done`) or would remove (a dry run): kind -> count."""

    student: str
    counts: dict[str, int]
    done: bool

    def lines(self) -> list[str]:
        return [f"{label}: {self.counts.get(key, 0)}" for key, label in FORGET_KINDS]
