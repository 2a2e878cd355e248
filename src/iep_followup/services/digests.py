"""The case manager's digest: compile from the store, render, and queue (or write a preview)."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from iep_followup.digest import (
    Digest,
    DigestInputs,
    Period,
    compile_digest,
    covered_period,
    covered_weeks,
    previous_period,
)
from iep_followup.errors import DatabaseError, FileAccessError, loggable
from iep_followup.mail.contexts import digest_context
from iep_followup.mail.kinds import MailKind
from iep_followup.planning import SendPolicy, local_now
from iep_followup.routines import week_of
from iep_followup.services.accommodations import accommodation_uses
from iep_followup.services.outgoing import Mailer
from iep_followup.services.routines import DEFAULT_WEEKS, digest_figures
from iep_followup.store import digests, outbox, texts
from iep_followup.store.db import Database, Session
from iep_followup.translations import Phrasebook
from iep_followup.views import DigestRun, MemberView

log = logging.getLogger(__name__)


def run_digests(
    database: Database,
    mailer: Mailer,
    *,
    now: datetime,
    period: Period,
    policy: SendPolicy,
    default_timezone: str,
    max_share: float,
    skip_quiet: bool,
    preview_dir: Path | None = None,
    web_url: str | None = None,
    makeup_alert_minutes: int | None = None,
) -> DigestRun:
    """One digest per case manager for the last period over by `now`; one transaction each.

    `web_url` is the desk's address: held replies then link to their page there.
    """
    run = DigestRun()
    if preview_dir is not None:
        _make_folder(preview_dir)
    with database.transaction() as session:
        managers = digests.case_managers(session)
    for manager, own_timezone in managers:
        timezone = own_timezone or default_timezone
        start, end = covered_period(local_now(now, timezone).date(), period)
        since, _ = previous_period(start, period)
        key = f"digest:{manager.person_id}:{start.isoformat()}"
        try:
            with database.transaction() as session:
                if preview_dir is None and outbox.is_queued(session, key):
                    run.already += 1
                    continue
                inputs = with_makeup_alert(
                    digest_inputs(
                        session, manager, timezone, start, end, since, now=now, policy=policy
                    ),
                    makeup_alert_minutes,
                )
                digest = compile_digest(
                    inputs, now=now, period=period, policy=policy, max_share=max_share
                )
                if digest.quiet and skip_quiet:
                    run.quiet_skipped += 1
                    continue
                book = texts.phrasebook(session, [s.student_id for s in inputs.students])
                if preview_dir is not None:
                    run.previews.extend(
                        write_preview(mailer, digest, preview_dir, book, web_url=web_url)
                    )
                    continue
                # Not mailer.queue: whether the key was queued is known from above.
                message = mailer.message(
                    MailKind.DIGEST,
                    key,
                    to=manager,
                    context=digest_context(digest, book, web_url=web_url),
                    now=now,
                    # Replies to a digest reach our inbox with no key: held for a person, never applied.
                    reply_to=mailer.reply_address_for_contact(None),
                )
                outbox.queue_many(session, [message])
                digests.record_digest(
                    session, manager.person_id, start, digest.classroom_share, now
                )
                run.queued += 1
        except (DatabaseError, FileAccessError):
            raise  # these fail for every case manager alike: the database, the preview folder
        except Exception as exc:
            # One case manager's broken data must not stop everyone else's digest.
            run.failed += 1
            log.warning("digest for person %s not queued: %s", manager.person_id, loggable(exc))
    return run


def digest_inputs(
    session: Session,
    manager: MemberView,
    timezone: str,
    start: date,
    end: date,
    since: date,
    *,
    now: datetime,
    policy: SendPolicy,
) -> DigestInputs:
    """What a digest of [start, end) is made from: the store's rows, then how each routine is
    going and each service's minutes, counted as `Tracker.service_minutes` counts them."""
    inputs = digests.digest_inputs(session, manager, timezone, period_start=start, since=since)
    views = [item for student in inputs.students for item in student.items]
    routines, minutes = digest_figures(
        session,
        views,
        mondays=covered_weeks(start, end),
        end=end,
        timezone=timezone,
        now=now,
        policy=policy,
    )
    uses = accommodation_uses(
        session,
        views,
        since=week_of(end) - timedelta(weeks=DEFAULT_WEEKS),
        until=end - timedelta(days=1),
        today=end,
        timezone=timezone,
    )
    return dataclasses.replace(inputs, routines=routines, minutes=minutes, accommodations=uses)


def with_makeup_alert(inputs: DigestInputs, minutes: int | None) -> DigestInputs:
    return dataclasses.replace(inputs, makeup_alert_minutes=minutes)


def write_preview(
    mailer: Mailer,
    digest: Digest,
    folder: Path,
    book: Phrasebook | None = None,
    *,
    web_url: str | None = None,
) -> list[Path]:
    rendered = mailer.renderer.render(
        MailKind.DIGEST,
        digest.case_manager.language,
        digest_context(digest, book or Phrasebook(), web_url=web_url),
    )
    _make_folder(folder)
    stem = re.sub(r"[^a-z0-9]+", "-", digest.case_manager.email.lower()).strip("-")
    html = folder / f"digest-{stem}-{digest.period_start.isoformat()}.html"
    text = html.with_suffix(".txt")
    for path, content in (
        (html, rendered.html),
        (text, f"Subject: {rendered.subject}\n\n{rendered.text}"),
    ):
        try:
            path.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(path, exc) from None
    return [html, text]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(folder, exc) from None
