"""classify: only a person's reply goes on to the grammar."""

from __future__ import annotations

from typing import Any

import pytest

from iep_followup.inbound.classify import BounceInfo, InboundKind, classify
from iep_followup.inbound.message import ParsedMessage, parse_message

OWN = ("iep-replies@district.example.org",)


def message(**fields: Any) -> ParsedMessage:
    values: dict[str, Any] = {
        "raw_size": 100,
        "from_address": "rosa@home.example.com",
        "subject": "Re: Quick check-in: 3 items for Lucía",
        "text": "A1 done",
    }
    values.update(fields)
    return ParsedMessage(**values)


def kind_of(msg: ParsedMessage, **options: Any) -> InboundKind:
    return classify(msg, own_addresses=OWN, **options).kind


def test_an_ordinary_reply_is_a_reply() -> None:
    verdict = classify(message(), own_addresses=OWN)
    assert verdict.kind is InboundKind.REPLY
    assert verdict.is_reply
    assert verdict.bounce is None and verdict.original_message_id is None


@pytest.mark.parametrize(
    "fields",
    [
        {"auto_submitted": "auto-replied"},
        {"auto_submitted": "Auto-Generated; owner-email=x@y.org"},
        {"x_autoreply": "yes"},
        {"x_autorespond": "Out of office"},
        {"precedence": "bulk"},
        {"precedence": "Junk"},
        {"precedence": "list"},
        {"precedence": "auto_reply"},
        {"return_path": ""},
        {"subject": "Automatic reply: Quick check-in"},
        {"subject": "Auto-Reply: Quick check-in"},
        {"subject": "AutoReply"},
        {"subject": "Out of Office: Quick check-in"},
        {"subject": "Re: Out of the office until Monday"},
        {"subject": "Respuesta automática: Actualización rápida"},
        {"subject": "RESPUESTA AUTOMATICA: Actualización"},
        {"subject": "Fuera de la oficina"},
        {"subject": "Ausente: Actualización rápida"},
        {"subject": "AUSENTE"},
        {"subject": "Read: Quick check-in"},
        {"subject": "Leído: Actualización rápida"},
        {"content_type": "multipart/report", "report_type": "disposition-notification"},
    ],
)
def test_auto_replies_are_recognised(fields: dict[str, Any]) -> None:
    assert kind_of(message(**fields)) is InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    "fields",
    [
        {"auto_submitted": "no"},
        {"auto_submitted": "No"},
        {"x_autoreply": "no"},
        {"precedence": "first-class"},
        {"subject": "Re: Lucía was absent (ausente) on Monday"},
        {"subject": "Re: Reading log"},
        {"subject": "Re: Quick check-in: 3 items for Lucía"},
        {"return_path": "rosa@home.example.com"},
        {"return_path": None},
    ],
)
def test_ordinary_headers_and_subjects_are_not_auto_replies(fields: dict[str, Any]) -> None:
    assert kind_of(message(**fields)) is InboundKind.REPLY


HARD_STATUS = """Reporting-MTA: dns; mx1.district.example.org

Final-Recipient: rfc822; Rosa@Home.Example.com
Original-Recipient: rfc822;rosa@home.example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <rosa@home.example.com>: Recipient address
    rejected: User unknown"""


def bounce_message(status: str, **fields: Any) -> ParsedMessage:
    values: dict[str, Any] = {
        "from_address": "mailer-daemon@mx1.district.example.org",
        "subject": "Undelivered Mail Returned to Sender",
        "content_type": "multipart/report",
        "report_type": "delivery-status",
        "return_path": "",
        "auto_submitted": "auto-replied",
        "delivery_status": status,
        "original_message_id": "iep.r12-abc.45@district.example.org",
    }
    values.update(fields)
    return message(**values)


def test_a_hard_bounce_names_the_failing_address() -> None:
    verdict = classify(bounce_message(HARD_STATUS), own_addresses=OWN)
    assert verdict.kind is InboundKind.BOUNCE
    assert verdict.bounce == BounceInfo(
        recipient="rosa@home.example.com",
        status="5.1.1",
        permanent=True,
        diagnostic="550 5.1.1 <rosa@home.example.com>: Recipient address rejected: User unknown",
        original_message_id="iep.r12-abc.45@district.example.org",
    )
    assert verdict.original_message_id == "iep.r12-abc.45@district.example.org"
    assert "hard" in verdict.reason


def test_a_delay_is_a_soft_bounce() -> None:
    status = "Final-Recipient: rfc822; a@b.org\nAction: delayed\nStatus: 4.2.2\n"
    verdict = classify(bounce_message(status), own_addresses=OWN)
    assert verdict.bounce is not None
    assert (verdict.bounce.status, verdict.bounce.permanent) == ("4.2.2", False)
    assert "soft" in verdict.reason


def test_a_failure_with_a_4xx_status_is_soft() -> None:
    status = "Final-Recipient: rfc822; a@b.org\nAction: failed\nStatus: 4.4.7\n"
    assert classify(bounce_message(status)).bounce == BounceInfo(
        "a@b.org", "4.4.7", False, None, "iep.r12-abc.45@district.example.org"
    )


def test_the_status_is_read_from_the_diagnostic_when_missing() -> None:
    status = (
        "Final-Recipient: rfc822; a@b.org\nAction: failed\nDiagnostic-Code: smtp; 550 5.2.1 gone"
    )
    bounce = classify(bounce_message(status)).bounce
    assert bounce is not None and (bounce.status, bounce.permanent) == ("5.2.1", True)


def test_the_failed_recipient_is_chosen_among_several() -> None:
    status = (
        "Reporting-MTA: dns; mx\n\n"
        "Final-Recipient: rfc822; ok@b.org\nAction: delivered\nStatus: 2.0.0\n\n"
        "Final-Recipient: rfc822; gone@b.org\nAction: failed\nStatus: 5.1.1\n"
    )
    bounce = classify(bounce_message(status)).bounce
    assert bounce is not None and bounce.recipient == "gone@b.org"


def test_a_successful_delivery_report_is_not_a_bounce() -> None:
    status = "Final-Recipient: rfc822; a@b.org\nAction: delivered\nStatus: 2.0.0\n"
    verdict = classify(bounce_message(status))
    assert verdict.kind is InboundKind.AUTO_REPLY
    assert verdict.bounce is None


def test_a_mailer_daemon_status_part_is_a_bounce_even_without_the_report_type() -> None:
    msg = bounce_message(HARD_STATUS, content_type="multipart/mixed", report_type=None)
    assert kind_of(msg) is InboundKind.BOUNCE


def test_a_plain_text_bounce_from_a_mail_server_is_still_a_bounce() -> None:
    msg = message(
        from_address="postmaster@mx.example.org",
        subject="Mail delivery failed: returning message to sender",
        text="550 5.1.1 rosa@home.example.com: no such user",
        return_path="",
    )
    verdict = classify(msg)
    assert verdict.kind is InboundKind.BOUNCE
    assert verdict.bounce == BounceInfo(None, "5.1.1", True, None, None)


def test_a_report_without_a_readable_status_is_a_bounce_of_unknown_kind() -> None:
    verdict = classify(bounce_message(None))  # type: ignore[arg-type]
    assert verdict.kind is InboundKind.BOUNCE
    assert verdict.bounce is not None and verdict.bounce.status is None


def test_a_person_writing_from_postmaster_is_not_a_bounce() -> None:
    assert kind_of(message(from_address="postmaster@school.example.org")) is InboundKind.REPLY


@pytest.mark.parametrize(
    ("fields", "options"),
    [
        ({"x_iep_followup": "request"}, {}),
        ({"from_address": "iep-replies@district.example.org"}, {}),
        ({"from_address": "IEP-Replies+r12-abc@district.example.org"}, {}),
        (
            {"message_id": "iep.r12-abc.45@District.Example.org"},
            {"own_message_id_domain": "district.example.org"},
        ),
    ],
)
def test_our_own_mail_is_recognised(fields: dict[str, Any], options: dict[str, Any]) -> None:
    # Our own requests carry Auto-Submitted too; OWN_MAIL must win over AUTO_REPLY.
    msg = message(auto_submitted="auto-generated", **fields)
    assert kind_of(msg, **options) is InboundKind.OWN_MAIL


def test_a_colleague_using_the_district_domain_is_not_our_mail() -> None:
    msg = message(message_id="5f3a-9b@district.example.org")
    assert kind_of(msg, own_message_id_domain="district.example.org") is InboundKind.REPLY


@pytest.mark.parametrize(
    "subject",
    [
        "Fwd: Quick check-in",
        "FW: Quick check-in",
        "Fw: Quick check-in",
        "RV: Actualización rápida",
        "Reenviado: Actualización rápida",
        "RE: RV: Actualización rápida",
        "Re: Re: Fwd: Quick check-in",
        "AW: Fwd: Quick check-in",
        "Sv: FW: Quick check-in",
        "Fwd[2]: Quick check-in",
        "  fwd : Quick check-in",
    ],
)
def test_forwards_are_recognised(subject: str) -> None:
    assert kind_of(message(subject=subject)) is InboundKind.FORWARD


@pytest.mark.parametrize(
    "subject", ["Re: Quick check-in", "RE: Fwd thoughts", "Re: Fw", "Forwarding address", ""]
)
def test_replies_are_not_forwards(subject: str) -> None:
    assert kind_of(message(subject=subject)) is InboundKind.REPLY


def test_an_unreadable_message_is_classified_without_raising() -> None:
    verdict = classify(parse_message(b"\xff\x00garbage"))
    assert verdict.kind is InboundKind.REPLY
