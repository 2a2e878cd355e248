"""The kinds of email we send and the states of the outbox. Pure enums."""

from __future__ import annotations

import enum


class MailKind(enum.StrEnum):
    SUMMARY = "summary"
    REQUEST = "request"
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    DIGEST = "digest"


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a deliverer until its lease ends
    SENT = "sent"
    FAILED = "failed"  # refused for good, or gave up after the last retry
