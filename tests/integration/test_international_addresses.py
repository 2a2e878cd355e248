"""Internationalized addresses in outgoing mail, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iep_followup.meetingfile import load_meeting_file
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
# The occupational therapist in the example meeting; she owns one item.
REPLACED = "megan.torres@lincoln.example.org"
IDN = "luis@jefférson.example.org"
IDN_A_LABELS = "luis@xn--jeffrson-e1a.example.org"
NON_ASCII_LOCAL = "josé@example.org"


@pytest.fixture
def district(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> Callable[..., Tracker]:
    """A tracker (with these settings) holding the example meeting, just after it ended,
    its occupational therapist renamed and given an address."""

    def make(address: str, name: str, **settings: Any) -> Tracker:
        clock.now = MEETING
        tracker = make_tracker(**settings)
        text = EXAMPLE.read_text(encoding="utf-8").replace(REPLACED, address)
        path = tmp_path / "meeting.yaml"
        path.write_text(text.replace("Megan Torres", name), encoding="utf-8")
        tracker.record_meeting(load_meeting_file(path))
        return tracker

    return make


def _to_header(raw: bytes) -> str:
    """The To header as written, unfolded and undecoded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    [to] = [h[4:] for h in head.replace("\r\n ", " ").split("\r\n") if h.startswith("To: ")]
    return to


@pytest.mark.parametrize(
    ("address", "header_address"),
    [(IDN, IDN_A_LABELS), (NON_ASCII_LOCAL, NON_ASCII_LOCAL)],
    ids=["idn-domain", "non-ascii-local-part"],
)
def test_the_eml_file_carries_a_deliverable_address(
    district: Callable[..., Tracker],
    tmp_path: Path,
    address: str,
    header_address: str,
) -> None:
    tracker = district(address, "Luis Jefferson", mail_dir=tmp_path / "mail")

    assert asyncio.run(tracker.deliver()).sent == 8
    headers = {path: _to_header(path.read_bytes()) for path in (tmp_path / "mail").glob("*.eml")}
    [to] = [h for h in headers.values() if "Luis" in h]
    # An address cannot be an RFC 2047 encoded word: it is written as mail servers take it.
    assert "=?" not in to
    assert to == f"Luis Jefferson <{header_address}>"
