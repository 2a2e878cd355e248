"""Every kind of email, read as its reader reads it, in English and in Spanish.

The example meeting runs through the real loop (SQLite, the real SMTP sink): summaries,
check-ins, a reminder, a confirmation, each kind of notice, the digest and a sign-in link, once
with the whole team reading English and once with the whole team reading Spanish (so the
staff-only emails are read in Spanish too). Each email must be in its reader's language
throughout, plain enough (family emails), free of internal ids, of words our vocabulary does
not use and of labels cut short, and its HTML must fit a 360-pixel phone screen in a real
headless Chromium.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import textstat

from iep_followup.config import Settings
from iep_followup.domain import ItemKind, MeetingRecord, Role
from iep_followup.mail.kinds import MailKind
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from iep_followup.vocabulary import ROLE_LABELS, STATUS_LABELS, SYNONYMS_NOT_USED
from tests.conftest import EXAMPLE, Clock, require_service
from tests.emailtext import (
    foreign_phrases,
    html_of,
    in_language,
    meeting_texts,
    readable,
    text_of,
)
from tests.mailclient import delivery_report, reply
from tests.smtp_server import SmtpServer
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
ASKED = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # two weeks on, 08:30: everyone is due
REMINDED = ASKED + timedelta(days=3)  # three school days without an answer
NEXT_WEEK = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # last week's digest is due
PHONE = 360  # px: the narrowest phone screen we promise to fit
ROSA = "rosa.herrera@example.com"
DANA = "dana.whitfield@lincoln.example.org"
TOM = "tom.okafor@lincoln.example.org"
KAREN = "karen.liu@lincoln.example.org"
MEGAN = "megan.torres@lincoln.example.org"
ALAN = "alan.brooks@lincoln.example.org"
PRIYA = "priya.nair@lincoln.example.org"
FAMILY = frozenset({Role.PARENT, Role.GUARDIAN, Role.STUDENT})
# The reply a family or teacher writes to say an item is done, in their language.
DONE = {"en": "A1 done", "es": "A1 listo"}
STAFF_ONLY = frozenset({MailKind.DIGEST, MailKind.SIGN_IN})
MAX_REPLY = 200_000  # bytes: a small limit, so a modest photo is "too big" without 25 MB


@dataclasses.dataclass(frozen=True)
class Sample:
    """One email as sent: its kind, what it shows (the notice's reason...), who reads it."""

    kind: MailKind
    variant: str
    family: bool
    message: EmailMessage

    @property
    def name(self) -> str:
        return f"{self.kind.value} ({self.variant})"


def _everyone_reads(record: MeetingRecord, language: str) -> MeetingRecord:
    members = tuple(dataclasses.replace(m, language=language) for m in record.members)
    return dataclasses.replace(record, members=members)


def _with_a_routine(record: MeetingRecord) -> MeetingRecord:
    """The example as it is when it has a routine; else Rosa's nightly homework check is one."""
    items = [i for c in record.concerns for i in c.items]
    if any(i.kind is ItemKind.ROUTINE for i in items):
        return record
    concerns = tuple(
        dataclasses.replace(
            concern,
            items=tuple(
                dataclasses.replace(i, kind=ItemKind.ROUTINE) if i.owner == ROSA else i
                for i in concern.items
            ),
        )
        for concern in record.concerns
    )
    return dataclasses.replace(record, concerns=concerns)


class _Loop:
    """The example meeting's loop on one tracker, collecting what the SMTP sink receives."""

    def __init__(self, tracker: Tracker, clock: Clock, smtp: SmtpServer, record: MeetingRecord):
        self.tracker, self.clock, self.smtp = tracker, clock, smtp
        self.family = {m.email for m in record.members if m.role in FAMILY}
        self.samples: list[Sample] = []
        self.return_paths: dict[str, str] = {}  # the signed envelope sender of each one's mail

    def deliver(self) -> dict[str, EmailMessage]:
        asyncio.run(self.tracker.deliver(SmtpTransport(parse_smtp_url(self.smtp.url))))
        sent = {r.message["To"].addresses[0].addr_spec: r.message for r in self.smtp.received}
        self.return_paths |= {r.rcpt_tos[0]: r.mail_from for r in self.smtp.received}
        self.smtp.received.clear()
        return sent

    def keep(self, kind: MailKind, variant: str, message: EmailMessage) -> None:
        assert message["X-IEP-Followup"] == kind.value, (message["X-IEP-Followup"], kind)
        to = message["To"].addresses[0].addr_spec
        self.samples.append(Sample(kind, f"{variant} to {to}", to in self.family, message))


def _run(tmp: Path, language: str) -> list[Sample]:
    """Every email kind the example meeting brings, with the whole team reading `language`."""
    clock = Clock(MEETING)
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp / 'iep.db'}",
        mail_dir=tmp / "mail",
        secret_key="test-secret-key-with-enough-length-0123456789",
        timezone="America/Chicago",
        web_url="https://followup.lincolnunifiedschooldistrict.example.org",  # long, no hyphen
        max_reply_bytes=MAX_REPLY,
    )
    smtp = SmtpServer()
    smtp.start()
    record = _with_a_routine(_everyone_reads(load_meeting_file(EXAMPLE), language))
    try:
        with Tracker(settings.model_copy(update={"smtp_url": smtp.url}), clock=clock) as tracker:
            tracker.init_database()
            return _samples(_Loop(tracker, clock, smtp, record), record, language)
    finally:
        smtp.stop()


def _samples(loop: _Loop, record: MeetingRecord, language: str) -> list[Sample]:
    tracker, clock = loop.tracker, loop.clock
    assert tracker.record_meeting(record).translation_gaps == ()
    summaries = loop.deliver()
    loop.keep(MailKind.SUMMARY, "family", summaries[ROSA])
    loop.keep(MailKind.SUMMARY, "case manager", summaries[DANA])
    loop.keep(MailKind.SUMMARY, "teacher", summaries[TOM])
    clock.now = ASKED
    tracker.request_updates()
    requests = loop.deliver()
    for to in (ROSA, TOM, KAREN):
        loop.keep(MailKind.REQUEST, "check-in", requests[to])
    clock.now = REMINDED
    tracker.request_updates()
    reminders = loop.deliver()
    loop.keep(MailKind.REMINDER, "reminder", reminders[ROSA])
    tracker.ingest(reply(reminders[ROSA], DONE[language]))
    tracker.ingest(reply(reminders[TOM], "A1 50%"))
    confirmations = loop.deliver()
    loop.keep(MailKind.CONFIRMATION, "routine or task done", confirmations[ROSA])
    loop.keep(MailKind.CONFIRMATION, "half way", confirmations[TOM])
    _notices(loop, requests, language)
    clock.now = NEXT_WEEK
    tracker.digests()
    loop.keep(MailKind.DIGEST, "weekly", loop.deliver()[DANA])
    assert tracker.request_sign_in(DANA, client="127.0.0.1")
    loop.keep(MailKind.SIGN_IN, "link", loop.deliver()[DANA])
    return loop.samples


def _notices(loop: _Loop, requests: dict[str, EmailMessage], language: str) -> None:
    """A reply we could not apply, for each reason a sender is told (one a day for each)."""
    # Outlook quotes nothing: the owner's words cannot be told from our email.
    loop.tracker.ingest(reply(requests[KAREN], "", style="outlook"))
    loop.tracker.ingest(reply(requests[MEGAN], "A1 75%", photo_bytes=MAX_REPLY * 2))
    # Alan answers Tom's check-in from his own address.
    loop.tracker.ingest(reply(requests[TOM], "A1 75%", sender=f"Alan Brooks <{ALAN}>"))
    # Rosa answers by forwarding her check-in: we cannot tell who wrote it.
    forwarded = reply(requests[ROSA], DONE[language], subject=f"Fwd: {requests[ROSA]['Subject']}")
    loop.tracker.ingest(forwarded)
    # Priya's school address refuses mail: the digest tells her case manager.
    loop.tracker.ingest(delivery_report(loop.return_paths[PRIYA], PRIYA))
    notices = loop.deliver()
    told = ((KAREN, "unclear"), (MEGAN, "too large"), (ALAN, "other sender"), (ROSA, "forwarded"))
    for to, reason in told:
        loop.keep(MailKind.NOTICE, reason, notices[to])


@pytest.fixture(scope="module")
def every_email(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Sample]]:
    return {
        language: _run(tmp_path_factory.mktemp(f"every-email-{language}"), language)
        for language in ("en", "es")
    }


@pytest.fixture(scope="module")
def phone() -> Iterator[Any]:
    """One headless Chromium page, 360 px wide, for the whole module."""
    require_service(
        CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": PHONE, "height": 740})
        # An email loads nothing from the network: the test does not either.
        context.route("**/*", lambda route: route.abort())
        yield context.new_page()
        browser.close()


def test_every_kind_of_email_has_a_sample_in_each_language(
    every_email: dict[str, list[Sample]],
) -> None:
    for language, samples in every_email.items():
        missing = set(MailKind) - {s.kind for s in samples}
        assert not missing, f"{language}: no sample of {sorted(missing)}: add one to _samples"


# ---- what a reader must never see --------------------------------------------------------

# Links carry tokens on purpose (sign-in, answer buttons): they are checked apart from the words.
_URL = re.compile(r"https?://\S+")
_INTERNAL = {
    "a uuid": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    "a token or key": re.compile(r"(?<![\w@.+-])(?=[\w-]*\d)(?=[\w-]*[a-zA-Z])[\w-]{20,}"),
    "a '#123' number": re.compile(r"#\d+"),
    "a database id": re.compile(
        r"\b(?:request|inbound|item|person|meeting|message|id)[ _#:]*\d+\b", re.I
    ),
    "a raw enum value": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "None/True/False": re.compile(r"\b(?:None|True|False)\b"),
    "a template artefact": re.compile(r"\{\{|\}\}|\{%|%\}|%\(\w+\)|\bundefined\b"),
}


def _internal_ids(words: str) -> list[str]:
    words = _URL.sub(" ", words)
    return [f"{what}: {m.group(0)!r}" for what, rx in _INTERNAL.items() for m in rx.finditer(words)]


def _synonyms(words: str, record_texts: list[str]) -> list[str]:
    """Our words only: what the team wrote at the meeting is theirs ("when they are stuck")."""
    for text in record_texts:
        words = words.replace(text, " ")
    return [w for w in SYNONYMS_NOT_USED if re.search(rf"\b{re.escape(w)}\b", words, re.I)]


def _cut_labels(words: str, language: str) -> list[str]:
    """Role and status labels cut short mid-word (a column too narrow): "docente de educación especia"."""
    labels = [
        in_language(label, language) for label in (*ROLE_LABELS.values(), *STATUS_LABELS.values())
    ]
    cut = []
    for label in labels:
        for end in range(8, len(label)):  # shorter prefixes are words of their own
            if label[end - 1].isalpha() and label[end].isalpha():
                prefix = re.escape(label[:end])
                cut += re.findall(rf"(?<!\w){prefix}(?!\w)", words)
    return cut


def _grade(language: str, text: str) -> float:
    if language == "en":
        return float(textstat.flesch_kincaid_grade(readable(text)))
    textstat.set_lang("es")
    try:
        return float(textstat.fernandez_huerta(readable(text)))
    finally:
        textstat.set_lang("en_US")


def _plain_enough(language: str, text: str) -> bool:
    """The family emails' bars (tests/unit/test_render.py, test_translations.py): sixth
    grade or below in English, "fairly easy" (Fernández-Huerta 70) or easier in Spanish."""
    grade = _grade(language, text)
    return grade <= 6.0 if language == "en" else grade >= 70


def _problems(sample: Sample, language: str, page: Any) -> list[str]:
    """What is wrong with one email's words for a reader of `language`, a sentence each."""
    message = sample.message
    html = html_of(message)
    page.set_content(html, wait_until="load")
    seen = str(page.evaluate("() => document.body.innerText"))
    parts = {"subject": str(message["Subject"]), "text": text_of(message), "html": seen}
    problems = []
    foreign = foreign_phrases(language, EXAMPLE)
    team_words = meeting_texts(EXAMPLE, "en") + meeting_texts(EXAMPLE, "es")
    for part, words in parts.items():
        # A meeting text with no Spanish version yet is shown marked "(en inglés)" and explained.
        leaked = [p for p in foreign if p in words and f"{p} (en inglés)" not in words]
        if leaked:
            problems.append(f"{part}: words in another language: {leaked}")
        if found := _internal_ids(words):
            problems.append(f"{part}: internal ids: {found}")
        if found := _cut_labels(words, language):
            problems.append(f"{part}: labels cut short: {found}")
        if found := _synonyms(words, team_words):
            problems.append(f"{part}: words our vocabulary does not use: {found}")
    # Every email greets its reader the same way: by first name, as a family liaison writes.
    first_name = message["To"].addresses[0].display_name.split()[0]
    greeting = in_language("Hello %(name)s,", language) % {"name": first_name}
    if parts["text"].splitlines()[0] != greeting:
        problems.append(f"text: greets {parts['text'].splitlines()[0]!r}, not {greeting!r}")
    if artefacts := re.findall(r"\{\{|\}\}|\{%|%\}|%\(\w+\)s", html):
        problems.append(f"html source: template artefacts: {artefacts}")
    return problems


def _cases(known: dict[tuple[str, MailKind], str]) -> list[Any]:
    """Each (language, kind), the ones in `known` marked as open decisions (strict: a fix shows)."""
    return [
        pytest.param(
            language,
            kind,
            id=f"{language}-{kind.value}",
            marks=[pytest.mark.xfail(strict=True, reason=known[language, kind])]
            if (language, kind) in known
            else [],
        )
        for language in ("en", "es")
        for kind in MailKind
    ]


def _of(every_email: dict[str, list[Sample]], language: str, kind: MailKind) -> list[Sample]:
    samples = [s for s in every_email[language] if s.kind is kind]
    assert samples, f"no {kind.value} email in {language}"
    return samples


@pytest.mark.parametrize(("language", "kind"), _cases({}))
def test_each_email_is_in_its_readers_words_only(
    every_email: dict[str, list[Sample]], phone: Any, language: str, kind: MailKind
) -> None:
    """The reader's language throughout, no internal ids, one vocabulary."""
    samples = _of(every_email, language, kind)
    problems = [f"{s.name}: {p}" for s in samples for p in _problems(s, language, phone)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("language", "kind"), _cases({}))
def test_each_email_fits_a_phone_without_scrolling_sideways(
    every_email: dict[str, list[Sample]], phone: Any, language: str, kind: MailKind
) -> None:
    too_wide = []
    for sample in _of(every_email, language, kind):
        phone.set_content(html_of(sample.message), wait_until="load")
        width = int(phone.evaluate("() => document.documentElement.scrollWidth"))
        if width > PHONE:
            too_wide.append(f"{sample.name}: {width} px wide")
    assert not too_wide, f"scrolls sideways on a {PHONE}-px phone: {too_wide}"


# (language, kind) → why it is still over its bar, as a strict xfail. Empty: the example's
# titles were made plainer (the minutes are a field now, so "45 minutes a week" left them).
PLAIN_ENOUGH_OPEN: dict[tuple[str, MailKind], str] = {}


@pytest.mark.parametrize(("language", "kind"), _cases(PLAIN_ENOUGH_OPEN))
def test_each_email_to_a_family_reads_plainly(
    every_email: dict[str, list[Sample]], language: str, kind: MailKind
) -> None:
    """Staff-only kinds (digest, sign-in link) have no reading bar, and reach no family."""
    samples = _of(every_email, language, kind)
    if kind in STAFF_ONLY:
        assert not [s.name for s in samples if s.family]
    hard = [
        f"{s.name} reads at {_grade(language, text_of(s.message)):.1f}:\n{text_of(s.message)}"
        for s in samples
        if s.family and not _plain_enough(language, text_of(s.message))
    ]
    assert not hard, "\n".join(hard)
