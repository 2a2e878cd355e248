"""What became of a received message. A pure enum, stored with each inbox row."""

from __future__ import annotations

import enum


class InboundOutcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # auto-reply, bounce, our own mail, a duplicate
    HELD = "held"  # waits for a person to check it (inbox release)
    REJECTED = "rejected"  # cannot be attributed to anyone: never applied
