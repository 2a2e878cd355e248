"""The kinds of email we send and the states of the outbox. Pure enums."""

from __future__ import annotations

import enum


class MailKind(enum.StrEnum):
    SUMMARY = "summary"
    REQUEST = "request"
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    NOTICE = "notice"  # a reply we could not apply: the sender is told, without details
    DIGEST = "digest"


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a deliverer until its lease ends
    SENT = "sent"
    FAILED = "failed"  # refused for good, or gave up after the last retry


class InboundOutcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # auto-reply, bounce, our own mail, a duplicate
    HELD = "held"  # waits for a person to check it (inbox release)
    REJECTED = "rejected"  # cannot be attributed to anyone: never applied


class AddressEventKind(enum.StrEnum):
    """What happened to a person's email address: its history, shown by `person history`."""

    FAILING = "failing"  # a hard bounce or a 5xx: not asked again until cleared
    SOFT_BOUNCE = "soft_bounce"
    CLEARED = "cleared"  # a reply, a delivery, or a person said the address works
