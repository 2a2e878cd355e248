"""Every email a Spanish reader gets from the example meeting is Spanish throughout, easy to
read, and honest about any text that has no Spanish version yet. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import textstat

from iep_followup.domain import MeetingRecord
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.emailtext import english_sentences, html_of, meeting_texts, readable, text_of
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
ASKED = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # two weeks on, 08:30: everyone is due
REMINDED = ASKED + timedelta(days=3)  # three school days without an answer
ROSA = "rosa.herrera@example.com"
DANA = "dana.whitfield@lincoln.example.org"


def _spanish_case_manager(record: MeetingRecord) -> MeetingRecord:
    """The example, with a case manager who reads Spanish too: the digest is checked as well."""
    members = tuple(
        dataclasses.replace(m, language="es") if m.email == DANA else m for m in record.members
    )
    return dataclasses.replace(record, members=members)


@pytest.fixture
def spanish_readability() -> Iterator[Callable[[str], float]]:
    textstat.set_lang("es")
    try:
        yield textstat.fernandez_huerta
    finally:
        textstat.set_lang("en_US")


def _deliver(tracker: Tracker, server: SmtpServer) -> list[EmailMessage]:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    sent = [r.message for r in server.received]
    server.received.clear()
    return sent


def test_every_email_to_a_spanish_reader_is_spanish_and_easy_to_read(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    tmp_path: Path,
    spanish_readability: Callable[[str], float],
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    record = _spanish_case_manager(load_meeting_file(EXAMPLE))
    assert tracker.record_meeting(record).translation_gaps == ()
    mail: list[tuple[str, EmailMessage]] = [
        ("summary", m)
        for m in _deliver(tracker, smtp_server)
        if m["To"].addresses[0].addr_spec in (ROSA, DANA)
    ]
    clock.now = ASKED
    tracker.request_updates()
    [request] = [m for m in _deliver(tracker, smtp_server) if ROSA in str(m["To"])]
    clock.now = REMINDED
    tracker.request_updates()
    [reminder] = [m for m in _deliver(tracker, smtp_server) if ROSA in str(m["To"])]
    tracker.ingest(reply(reminder, "A1 listo"))
    [confirmation] = _deliver(tracker, smtp_server)
    mail += [("request", request), ("reminder", reminder), ("confirmation", confirmation)]
    tracker.digests(preview_dir=tmp_path)
    [digest_text] = tmp_path.glob("digest-*.txt")
    [digest_html] = tmp_path.glob("digest-*.html")

    english = english_sentences()
    originals = meeting_texts(EXAMPLE, "en")
    assert originals, "the example has per-language texts"
    parts = [(kind, m["Subject"], text_of(m), html_of(m)) for kind, m in mail]
    parts.append(("digest", "", digest_text.read_text("utf-8"), digest_html.read_text("utf-8")))
    for kind, subject, text, html in parts:
        for part in (subject, text, html):
            leaked = [s for s in english if s in part]
            assert not leaked, f"{kind}: English reaches a Spanish reader: {leaked}"
            leaked = [t for t in originals if t in part]
            assert not leaked, f"{kind}: a meeting text in English: {leaked}"
            assert "en inglés" not in part  # every text has its Spanish version
    rosa_summary = next(m for k, m in mail if k == "summary" and ROSA in str(m["To"]))
    assert "Revisar la tarea de Lucía cada noche y firmar su agenda" in text_of(rosa_summary)
    assert "Rosa Herrera (madre)" in text_of(rosa_summary)
    assert "Hola, Rosa:" in text_of(rosa_summary)
    assert "todavía sin parte" not in text_of(rosa_summary)  # staff business
    # Family emails read "fairly easy" or easier (Fernández-Huerta 70 and above).
    for kind, _subject, text, _html_part in parts:
        if kind == "digest":
            continue
        score = spanish_readability(readable(text))
        assert score >= 70, f"{kind} reads at Fernández-Huerta {score:.0f}:\n{text}"


def test_the_calendar_file_is_utf8_and_in_the_readers_language(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    rosa = next(m for m in _deliver(tracker, smtp_server) if ROSA in str(m["To"]))
    [calendar] = [p for p in rosa.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert calendar.get_content_charset() == "utf-8"
    event = calendar.get_content()  # decoded with the charset the part declares
    assert "Revisar la tarea de Lucía cada noche" in event.replace("\r\n ", "")
    assert "SUMMARY;LANGUAGE=es:" in event


def test_summaries_held_until_the_versions_are_added_then_released(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    translated = load_meeting_file(EXAMPLE)
    first_draft = dataclasses.replace(
        translated,
        strengths=tuple(dataclasses.replace(s, translations={}) for s in translated.strengths),
    )
    recorded = tracker.record_meeting(first_draft, hold_summaries=True)
    [gap] = recorded.translation_gaps
    assert gap.message.startswith("Rosa Herrera reads Spanish: 3 texts have no Spanish version:")
    assert recorded.summaries_held and recorded.summaries_queued == 0
    again = tracker.record_meeting(translated)  # the versions added: still held
    assert again.summaries_held and again.summaries_queued == 0
    assert tracker.translation_gaps("S-2026-0417") == []
    assert _deliver(tracker, smtp_server) == []
    assert tracker.release_summaries("S-2026-0417") == 8
    assert tracker.release_summaries("S-2026-0417") == 0
    rosa = next(m for m in _deliver(tracker, smtp_server) if ROSA in str(m["To"]))
    assert "Lucía es amable con los adultos" in text_of(rosa)


def test_a_missing_version_is_shown_as_written_marked_and_explained(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    translated = load_meeting_file(EXAMPLE)
    [homework, *rest] = translated.concerns
    [check, *others] = homework.items
    untranslated = dataclasses.replace(check, translations={})
    concerns = (dataclasses.replace(homework, items=(untranslated, *others)), *rest)
    tracker.record_meeting(dataclasses.replace(translated, concerns=concerns))
    rosa = next(m for m in _deliver(tracker, smtp_server) if ROSA in str(m["To"]))
    text, html = text_of(rosa), html_of(rosa)
    assert "Check Lucía's homework each night and sign her planner (en inglés)" in text
    assert "(en inglés)</span>" in html
    for part in (text, html):
        assert "Algunas palabras de la reunión todavía no están en español." in part
        assert "escriba a Dana Whitfield" in part
