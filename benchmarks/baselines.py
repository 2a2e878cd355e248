"""The raw work that bounds each stage, measured in the same run on the same data.

- requests: the same templates rendered with a bare jinja2 Environment for the same contexts;
- deliver: the same rendered bytes sent with bare aiosmtplib over as many connections;
- ingest: the same replies read by the standard-library parser plus the same quote stripper;
- digests: per digest, its caseload's rows read with one SQL query and the same templates
  rendered by a bare jinja2 Environment for the same context.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import time as clock
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib
from babel.dates import format_date, format_datetime
from babel.numbers import format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from sqlalchemy import text
from sqlmodel import col, select

from benchmarks.harness import (
    DIGESTS_AT,
    FROM_ADDRESS,
    REQUESTS_AT,
    BenchConfig,
    Measured,
    make_tracker,
    peak_rss_mb,
    read_records,
)
from iep_followup.catalogs import load_translations
from iep_followup.digest import Period, compile_digest, covered_period, previous_period
from iep_followup.domain import Cadence, ItemStatus, Relationship, Role
from iep_followup.inbound.trim import trim_reply
from iep_followup.mail.contexts import digest_context, request_context
from iep_followup.mail.labels import WRITTEN_IN_LABELS
from iep_followup.markers import REPLY_MARKERS
from iep_followup.planning import local_now
from iep_followup.resources import templates_dir
from iep_followup.store import asking, digests, texts
from iep_followup.store.db import Database
from iep_followup.store.models import RequestItem, UpdateRequest
from iep_followup.tracker import Tracker
from iep_followup.views import MemberView
from iep_followup.vocabulary import (
    CADENCE_LABELS,
    RELATIONSHIP_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)

BATCH = 200
TIMEZONE = "America/New_York"
LOCALES = {"en": "en_US", "es": "es_US"}


# --- requests: bare jinja2 -------------------------------------------------------------


def _environment(language: str) -> Environment:
    """A plain jinja2 environment for our templates, with Babel formats for the filters they use."""
    folders = (templates_dir(),)
    env = Environment(
        loader=FileSystemLoader([str(f) for f in folders]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    translations = load_translations(language, folders)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    locale, _ = LOCALES[language], translations.gettext
    english = language == "en"

    def datetime_filter(value: datetime, timezone: str) -> str:
        return format_datetime(value, "medium", tzinfo=ZoneInfo(timezone), locale=locale)

    def date_filter(value: date, style: str = "long") -> str:
        if style == "short":
            return format_date(value, "MMM d" if english else "d MMM", locale=locale)
        if style == "weekday":
            pattern = "EEEE, MMMM d" if english else "EEEE d 'de' MMMM"
            return format_date(value, pattern, locale=locale)
        return format_date(value, "long", locale=locale)

    filters: dict[str, Callable[..., str]] = {
        "date": date_filter,
        "datetime": datetime_filter,
        "percent": lambda value: format_percent(value / 100, locale=locale),
        "role": lambda value: _(ROLE_LABELS[Role(value)]),
        "status": lambda value: _(STATUS_LABELS[ItemStatus(value)]),
        "cadence": lambda value: _(CADENCE_LABELS[Cadence(value)]),
        "relationship": lambda value: _(RELATIONSHIP_LABELS[Relationship(value)]),
        "written_in": lambda value: _(WRITTEN_IN_LABELS.get(value, WRITTEN_IN_LABELS["en"])),
        "first_name": lambda value: value.split(maxsplit=1)[0] if value.split() else value,
        "translate": _,
    }
    env.filters.update(filters)
    return env


def render_requests(config: BenchConfig) -> Measured:
    """Render subject, text and HTML of every queued request, for the contexts stage 1 built."""
    templates: dict[str, tuple[Template, Template, Template]] = {}
    for language in LOCALES:
        env = _environment(language)
        templates[language] = tuple(  # type: ignore[assignment]
            env.get_template(f"request/{part}") for part in ("subject.txt", "body.txt", "body.html")
        )
    count, seconds = 0, 0.0
    for language, values in _request_contexts(config):
        started = clock.perf_counter()
        for template in templates[language]:
            template.render(values)
        seconds += clock.perf_counter() - started
        count += 1
    return Measured("requests", count, seconds, peak_rss_mb())


def _request_contexts(config: BenchConfig) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rebuilt (untimed) exactly as stage 1 built them: same rows, same pure function."""
    database = Database(config.database_url)
    today = REQUESTS_AT.astimezone(ZoneInfo(TIMEZONE)).date()
    after = 0
    try:
        while True:
            with database.transaction() as session:
                requests = session.exec(
                    select(UpdateRequest)
                    .where(col(UpdateRequest.id) > after)
                    .order_by(col(UpdateRequest.id))
                    .limit(BATCH)
                ).all()
                if not requests:
                    return
                ids = [r.id for r in requests]
                refs: dict[int, list[tuple[str, int]]] = {}
                for request_id, ref, item_id in session.exec(
                    select(RequestItem.request_id, RequestItem.ref, RequestItem.item_id)
                    .where(col(RequestItem.request_id).in_(ids))
                    .order_by(col(RequestItem.id))
                ).all():
                    refs.setdefault(request_id, []).append((ref, item_id))
                people = asking.recipients(session, [r.person_id for r in requests], TIMEZONE)
                details = asking.item_details(session, [i for v in refs.values() for _, i in v])
                student_ids = sorted({d.student_id for d in details.values()})
                strengths = asking.strengths_by_student(session, student_ids)
                contacts = asking.case_managers(session, student_ids)
            for request in requests:
                person = people[request.person_id]
                context = request_context(
                    person,
                    refs[request.id or 0],
                    details,
                    strengths,
                    contacts,
                    today=today,
                    rotation=request.id or 0,
                    reminder=False,
                )
                marker = REPLY_MARKERS.get(person.language, REPLY_MARKERS["en"])
                yield person.language, {**context, "language": person.language, "marker": marker}
            after = requests[-1].id or 0
    finally:
        database.dispose()


# --- deliver: bare aiosmtplib ------------------------------------------------------------


def send_outbox(config: BenchConfig, connections: int) -> Measured:
    """The spooled outbox bytes, in order, over `connections` consecutive connections."""
    total = sum(1 for _ in read_records(config.spool("outbox")))
    per_connection = -(-total // max(connections, 1))
    sender = FROM_ADDRESS.split("<")[1].rstrip(">")

    async def send_all() -> None:
        client: aiosmtplib.SMTP | None = None
        for number, record in enumerate(read_records(config.spool("outbox"))):
            if number % per_connection == 0:
                if client is not None:
                    await client.quit()
                client = aiosmtplib.SMTP(hostname="127.0.0.1", port=config.smtp_port, timeout=60)
                await client.connect()
            assert client is not None
            to, _, body = record.partition(b"\0")
            await client.sendmail(sender, [to.decode()], body)
        if client is not None:
            await client.quit()

    started = clock.perf_counter()
    asyncio.run(send_all())
    return Measured("deliver", total, clock.perf_counter() - started, peak_rss_mb())


# --- ingest: the standard-library parser and the same quote stripper ----------------------


def parse_replies(config: BenchConfig) -> Measured:
    count, seconds = 0, 0.0
    for raw in read_records(config.spool("replies")):
        started = clock.perf_counter()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        trim_reply(str(body.get_content()) if body is not None else "")
        seconds += clock.perf_counter() - started
        count += 1
    return Measured("ingest", count, seconds, peak_rss_mb())


# --- digests: one SQL query and a bare jinja2 render, per digest ----------------------------

# This caseload's items, each with its owner, the owner's role and the updates since the
# previous period began: the rows that make up most of what a digest reads.
DIGEST_ROWS = """
SELECT s.id, s.name, i.id, i.title, i.due_on, i.status, i.percent,
       p.name, m.role, u.created_at, u.status, u.percent, u.note
FROM membership cm
JOIN student s ON s.id = cm.student_id
JOIN action_item i ON i.student_id = s.id
JOIN person p ON p.id = i.owner_id
JOIN membership m ON m.student_id = i.student_id AND m.person_id = i.owner_id
LEFT JOIN item_update u ON u.item_id = i.id AND u.created_at >= :since
WHERE cm.role = 'case_manager' AND cm.person_id = :manager
ORDER BY s.name, i.due_on, i.id
"""


def read_and_render_digests(config: BenchConfig) -> Measured:
    """For each digest the stage queued: its caseload's rows read with one query, then its
    subject, text and HTML rendered by a bare jinja2 Environment from the same templates.

    The contexts are built untimed by the library's own pure functions from the same inputs,
    so both render the same context shape; only the query and the render are timed.
    """
    environments = {language: _environment(language) for language in LOCALES}
    count, rows, seconds = 0, 0, 0.0
    with make_tracker(config, DIGESTS_AT) as tracker:
        sqlite = tracker.database.dialect == "sqlite"
        with tracker.database.engine.connect() as connection:
            for manager, since, context in _digest_contexts(tracker):
                env = environments[manager.language]
                values = {**context, "language": manager.language}
                values["marker"] = REPLY_MARKERS.get(manager.language, REPLY_MARKERS["en"])
                started = clock.perf_counter()
                # SQLite stores naive UTC.
                params = {"manager": manager.person_id, "since": since}
                if sqlite:
                    params["since"] = since.replace(tzinfo=None)
                found = connection.execute(text(DIGEST_ROWS), params).all()
                for part in ("subject.txt", "body.txt", "body.html"):
                    env.get_template(f"digest/{part}").render(values)
                seconds += clock.perf_counter() - started
                connection.rollback()  # no transaction left open while the next context is built
                rows += len(found)
                count += 1
    return Measured("digests", count, seconds, peak_rss_mb(), count, f"{rows} rows")


def _digest_contexts(tracker: Tracker) -> Iterator[tuple[MemberView, datetime, dict[str, Any]]]:
    """Each digest the stage queued, rebuilt (untimed) as the stage built it."""
    settings, now = tracker.settings, tracker.now()
    period = Period(settings.digest_period)
    with tracker.database.transaction() as session:
        managers = digests.case_managers(session)
    for manager, own_timezone in managers:
        timezone = own_timezone or settings.timezone
        start, _ = covered_period(local_now(now, timezone).date(), period)
        since, _ = previous_period(start, period)
        with tracker.database.transaction() as session:
            inputs = digests.digest_inputs(
                session, manager, timezone, period_start=start, since=since
            )
            digest = compile_digest(
                inputs, now=now, period=period, policy=tracker.policy, max_share=settings.max_share
            )
            book = texts.phrasebook(session, [s.student_id for s in inputs.students])
        if digest.quiet and settings.digest_skip_quiet:
            continue
        since_at = datetime.combine(since, time(0), ZoneInfo(timezone)).astimezone(UTC)
        yield manager, since_at, digest_context(digest, book, web_url=settings.web_url)
