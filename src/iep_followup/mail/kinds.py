"""The kinds of email we send, and where each queued message stands. Pure enums."""

from __future__ import annotations

import enum


class MailKind(enum.StrEnum):
    SUMMARY = "summary"
    REQUEST = "request"
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    NOTICE = "notice"  # a reply we could not apply: the sender is told, without details
    DIGEST = "digest"
    SIGN_IN = "sign_in"  # a one-time link to the case manager's desk


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a deliverer until its lease ends
    SENT = "sent"
    FAILED = "failed"  # refused for good, or gave up after the last retry
