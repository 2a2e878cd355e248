"""The raw work that bounds each stage, measured in the same run on the same data.

- requests: the same templates rendered with a bare jinja2 Environment for the same contexts;
- deliver: the same rendered bytes sent with bare aiosmtplib over as many connections;
- ingest: the same replies read by the standard-library parser plus the same quote stripper;
- digests: the rows the digests show, read with one plain SQL query.
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
from babel.dates import format_date
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
    peak_rss_mb,
    read_records,
)
from iep_followup.catalogs import load_translations
from iep_followup.digest import Period, period_bounds, previous_period
from iep_followup.domain import Cadence, ItemStatus, Role
from iep_followup.inbound.trim import trim_reply
from iep_followup.mail.contexts import request_context
from iep_followup.markers import REPLY_MARKERS
from iep_followup.resources import templates_dir
from iep_followup.store import asking
from iep_followup.store.db import Database
from iep_followup.store.models import RequestItem, UpdateRequest
from iep_followup.vocabulary import CADENCE_LABELS, ROLE_LABELS, STATUS_LABELS

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

    def date_filter(value: date, style: str = "long") -> str:
        if style == "short":
            return format_date(value, "MMM d" if english else "d MMM", locale=locale)
        if style == "weekday":
            pattern = "EEEE, MMMM d" if english else "EEEE d 'de' MMMM"
            return format_date(value, pattern, locale=locale)
        return format_date(value, "long", locale=locale)

    filters: dict[str, Callable[..., str]] = {
        "date": date_filter,
        "percent": lambda value: format_percent(value / 100, locale=locale),
        "role": lambda value: _(ROLE_LABELS[Role(value)]),
        "status": lambda value: _(STATUS_LABELS[ItemStatus(value)]),
        "cadence": lambda value: _(CADENCE_LABELS[Cadence(value)]),
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


# --- digests: one plain SQL query -----------------------------------------------------------

DIGEST_ROWS = """
SELECT cm.person_id, s.id, s.name, i.id, i.title, i.due_on, i.status, i.percent,
       p.name, m.role, u.created_at, u.status, u.percent, u.note
FROM membership cm
JOIN student s ON s.id = cm.student_id
JOIN action_item i ON i.student_id = s.id
JOIN person p ON p.id = i.owner_id
JOIN membership m ON m.student_id = i.student_id AND m.person_id = i.owner_id
LEFT JOIN item_update u ON u.item_id = i.id AND u.created_at >= :since
WHERE cm.role = 'case_manager'
ORDER BY cm.person_id, s.name, i.due_on, i.id
"""


def read_digest_rows(config: BenchConfig, digests: int) -> Measured:
    """Every item of every caseload with its owner, role and this period's updates, in one query."""
    database = Database(config.database_url)
    zone = ZoneInfo(TIMEZONE)
    start, _ = period_bounds(DIGESTS_AT.astimezone(zone).date(), Period.WEEK)
    since = datetime.combine(previous_period(start, Period.WEEK)[0], time(0), zone).astimezone(UTC)
    if database.dialect == "sqlite":
        since = since.replace(tzinfo=None)  # stored as naive UTC on SQLite
    try:
        started = clock.perf_counter()
        rows = 0
        with database.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, max_row_buffer=2000).execute(
                text(DIGEST_ROWS), {"since": since}
            )
            for _ in result:
                rows += 1
        seconds = clock.perf_counter() - started
    finally:
        database.dispose()
    return Measured("digests", digests, seconds, peak_rss_mb(), 1, f"{rows} rows")
