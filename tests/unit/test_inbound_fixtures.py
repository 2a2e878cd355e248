"""Every reply in tests/fixtures/replies goes through the whole pure inbound layer."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from iep_followup.domain import ItemStatus
from iep_followup.inbound.classify import BounceInfo, InboundKind, classify
from iep_followup.inbound.grammar import ItemCommands, parse_commands
from iep_followup.inbound.message import parse_message
from iep_followup.inbound.trim import trim_reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "replies"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (FIXTURES / "expected.yaml").read_text(encoding="utf-8")
)
SENT_ON = date(2026, 11, 23)
OWN = ("iep-replies@district.example.org",)


def test_every_fixture_has_an_expectation_and_back() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_the_expected_result(name: str) -> None:
    expected = EXPECTED[name]
    msg = parse_message((FIXTURES / name).read_bytes())
    assert msg.problem is None
    assert msg.from_address == expected["from"]
    if "from_name" in expected:
        assert msg.from_name == expected["from_name"]
    if "subject" in expected:
        assert msg.subject == expected["subject"]
    assert msg.text_from_html is expected.get("text_from_html", False)

    verdict = classify(msg, own_addresses=OWN, own_message_id_domain="district.example.org")
    assert verdict.kind is InboundKind(expected["kind"]), verdict.reason
    assert expected.get("reason_contains", "") in verdict.reason
    if "bounce" in expected:
        _check_bounce(verdict.bounce, expected["bounce"])
        return
    assert verdict.bounce is None
    if verdict.kind is InboundKind.AUTO_REPLY:
        return

    trimmed = trim_reply(msg.text)
    if "kept" in expected:
        assert trimmed.kept == expected["kept"]
    for text in expected.get("kept_contains", []):
        assert text in trimmed.kept
    for text in expected.get("kept_excludes", []):
        assert text not in trimmed.kept
    assert trimmed.kept
    # An HTML body loses its quote before trimming; only a footer or sign-off may be left.
    assert trimmed.removed or msg.text_from_html
    if "items" not in expected:
        return

    parsed = parse_commands(
        trimmed.kept, expected["refs"], language=expected["language"], today=SENT_ON
    )
    assert parsed.items == {ref: _commands(v) for ref, v in expected["items"].items()}
    assert list(parsed.notes) == expected["notes"]
    assert list(parsed.not_understood) == expected["not_understood"]
    assert parsed.unknown_refs == ()


def _commands(spec: dict[str, Any]) -> ItemCommands:
    status = spec.get("status")
    return ItemCommands(
        status=ItemStatus(status) if status else None,
        percent=spec.get("percent"),
        due_on=spec.get("due_on"),
        note=spec.get("note"),
    )


def _check_bounce(bounce: BounceInfo | None, spec: dict[str, Any]) -> None:
    assert isinstance(bounce, BounceInfo)
    assert bounce.recipient == spec["recipient"]
    assert bounce.status == spec["status"]
    assert bounce.permanent is spec["permanent"]
    assert spec["diagnostic_contains"] in (bounce.diagnostic or "")
    assert bounce.original_message_id == spec["original_message_id"]
