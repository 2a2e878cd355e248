"""Commands about meetings and items: init, import, status, balance, update, record."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

import click

from iep_followup.cli.app import ROW_ID, Context, cli, now_option, pass_context
from iep_followup.cli.output import echo_json, print_balance, print_items
from iep_followup.domain import (
    MAX_MINUTES,
    ItemStatus,
    PeriodOutcome,
    UpdateInput,
    UpdateSource,
    parse_enum,
    recorded_change,
)
from iep_followup.meetingfile import load_meeting_file
from iep_followup.privacy import COMMAND_LINE
from iep_followup.translations import TranslationGap, translation_gaps
from iep_followup.vocabulary import period_label, status_label


@cli.command()
@click.option(
    "--env-file",
    "env_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read settings from this file and write a new secret there (e.g. /etc/iep-followup/env, "
    "the systemd units' environment file). Default: the global --env-file.",
)
@pass_context
def init(ctx: Context, env_file: Path | None) -> None:
    """Create or upgrade the database.

    Safe to run again: it does nothing when the database is current. Without a secret, it
    writes one to the settings file (readable by its owner only when it creates it).
    """
    if env_file is not None:
        ctx.env_file = env_file  # before the settings are first read
    with ctx.tracker(migrated=False) as tracker:
        applied = tracker.init_database()
        target = tracker.database.engine.url.render_as_string(hide_password=True)
    if applied:
        click.echo(f"Database ready at {target} (applied {', '.join(applied)}).")
    else:
        click.echo(f"Database at {target} is already up to date.")
    if ctx.settings.secret_key is None and ctx.env_file is not None:
        # The daemon refuses to run without a signing secret: make one, once, where settings live.
        _append_secret(ctx.env_file, f"IEP_FOLLOWUP_SECRET_KEY={secrets.token_urlsafe(32)}\n")
        click.echo(
            f"Wrote a new IEP_FOLLOWUP_SECRET_KEY to {ctx.env_file} (keep it secret; changing it voids open reply keys)."
        )


def _append_secret(path: Path, line: str) -> None:
    """Append to the settings file; a new one is created readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as env:
        if env.tell() > 0 and not path.read_bytes().endswith(b"\n"):
            env.write("\n")  # a last line without its newline stays its own line
        env.write(line)


def print_translation_gaps(gaps: list[TranslationGap]) -> None:
    for gap in gaps:
        click.echo(f"warning: {gap.message}", err=True)


@cli.command("import")
# Not click.Path(exists=..., dir_okay=False): the meeting file's own error is one line.
@click.argument("meeting_file", type=click.Path(path_type=Path))
@click.option(
    "--hold-summaries",
    is_flag=True,
    help="Queue no summary until `release-summaries` (add missing translations first).",
)
@now_option
@pass_context
def import_meeting(ctx: Context, meeting_file: Path, hold_summaries: bool, now: str | None) -> None:
    """Record a meeting from a YAML file.

    What the meeting decided (see examples/); queues each member's summary.
    """
    record = load_meeting_file(meeting_file)
    # Before anything is queued: what readers would get in another language than their own.
    print_translation_gaps(translation_gaps(record))
    with ctx.tracker(now=now) as tracker:
        result = tracker.record_meeting(record, hold_summaries=hold_summaries)
        reports = tracker.balance(record.student.external_id)
    if not result.changes:
        click.echo(f"{meeting_file}: nothing changed (already imported).")
    else:
        verb = "Imported" if result.created else "Updated"
        click.echo(f"{verb} {meeting_file} for student {result.student_external_id}:")
        for change in result.changes:
            click.echo(f"  - {change}")
    for kept in result.kept:
        click.echo(f"warning: {kept}", err=True)
    if result.summaries_queued:
        click.echo(
            f"Queued {result.summaries_queued} meeting summary email(s); `iep-followup deliver` sends them."
        )
    if result.summaries_held:
        click.echo(
            "Summaries held: add the missing versions to the file, import it again, then run"
            f" `iep-followup release-summaries {result.student_external_id}`."
        )
    click.echo()
    print_balance(reports)


@cli.command("release-summaries")
@click.argument("student_id")
@now_option
@pass_context
def release_summaries(ctx: Context, student_id: str, now: str | None) -> None:
    """Send the summaries held at import.

    Queues the meeting summaries that `import --hold-summaries` kept back.
    """
    with ctx.tracker(now=now) as tracker:
        print_translation_gaps(tracker.translation_gaps(student_id))
        queued = tracker.release_summaries(student_id)
    if queued:
        click.echo(f"Queued {queued} meeting summary email(s); `iep-followup deliver` sends them.")
    else:
        click.echo(f"No summaries were held for student {student_id}.")


@cli.command()
@click.option("--student", "student", metavar="ID", help="Only this student (the district's id).")
@click.option("--owner", metavar="EMAIL", help="Only items owned by this person.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def status(ctx: Context, student: str | None, owner: str | None, as_json: bool) -> None:
    """Action items: owner, due date, progress."""
    with ctx.tracker() as tracker:
        today = tracker.now().date()
        if student and not owner:
            view = tracker.student_status(student, client=COMMAND_LINE)
            if as_json:
                echo_json(view)
                return
            click.echo(
                f"{view.name} ({view.external_id}), grade {view.grade or '?'}, {view.school or 'school not set'}"
            )
            if view.meeting_on and view.meeting_kind:
                click.echo(
                    f"Last meeting: {view.meeting_kind.value.replace('_', ' ')} on {view.meeting_on.isoformat()}"
                )
            for strength in view.strengths:
                click.echo(f"  + {strength}")
            click.echo()
            print_items(view.items, today)
            return
        items = tracker.items(student=student, owner=owner)
        failing = tracker.failing_addresses()
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("No action items yet. Import a meeting file first: iep-followup import FILE")
    else:
        print_items(items, today)
    if failing:
        click.echo()
        click.echo(
            "Email addresses that fail (check each with its owner; if it is right, run"
            " `iep-followup person clear-failing EMAIL`; if it changed, fix the meeting file"
            " and import it again):"
        )
        for address in failing:
            click.echo(f"  ! {address.name} <{address.email}>: {address.reason}")


@cli.command()
@click.option("--student", metavar="ID", help="Only this student.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def balance(ctx: Context, student: str | None, as_json: bool) -> None:
    """Who carries what, nothing or too much."""
    with ctx.tracker() as tracker:
        reports = tracker.balance(student)
    if as_json:
        echo_json(reports)
    elif not reports:
        click.echo("No students yet. Import a meeting file first: iep-followup import FILE")
    else:
        print_balance(reports)


_PERIODS = {
    "yes": PeriodOutcome.HAPPENED,
    "partly": PeriodOutcome.PARTLY,
    "no": PeriodOutcome.MISSED,
    "n/a": PeriodOutcome.NOT_APPLICABLE,  # an accommodation that did not come up
}


@cli.command()
@click.argument("item_id", type=ROW_ID)
@click.option(
    "--status", "status_", metavar="STATUS", help="open, in_progress, blocked, done or dropped."
)
@click.option("--percent", type=click.IntRange(0, 100), help="How far along, 0-100.")
@click.option(
    "--due", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="A new due date."
)
@click.option(
    "--period",
    type=click.Choice(list(_PERIODS)),
    help="A routine: did it happen this period? (yes, partly, no).",
)
@click.option(
    "--minutes", type=click.IntRange(0, MAX_MINUTES), help="A routine: service minutes given."
)
@click.option("--note", help="A note for the item's history (the reason, when blocked).")
@click.option("--by", metavar="EMAIL", help="Who is reporting (a team member).")
@now_option
@pass_context
def update(
    ctx: Context,
    item_id: int,
    status_: str | None,
    percent: int | None,
    due: datetime | None,
    period: str | None,
    minutes: int | None,
    note: str | None,
    by: str | None,
    now: str | None,
) -> None:
    """Record an update on one action item."""
    change = UpdateInput(
        status=parse_enum(ItemStatus, status_, "status") if status_ else None,
        percent=percent,
        due_on=due.date() if due else None,
        note=note,
        period=_PERIODS[period] if period else None,
        minutes=minutes,
    )
    with ctx.tracker(now=now) as tracker:
        item = tracker.record_update(item_id, change, by=by, source=UpdateSource.CLI)
    if item.kind.has_periods:
        # A routine has no percent: say what this period got, as its history does.
        said = recorded_change(item.kind, change)
        got = [period_label(said.period)] if said.period else []
        got += [f"{said.minutes} minutes"] if said.minutes is not None else []
        # Its status says little ("not started" while its weeks go by) unless blocked or ended.
        stuck = (
            f" It is {status_label(item.status)}."
            if item.status.is_closed or item.status is ItemStatus.BLOCKED
            else ""
        )
        click.echo(
            f"Recorded. Item {item.id} ({item.title}), a routine until "
            f"{item.due_on.isoformat()}: {', '.join(got) or 'a note'} this period.{stuck}"
        )
        return
    click.echo(
        f"Recorded. Item {item.id} ({item.title}) is now {status_label(item.status)}, {item.percent}% done, due {item.due_on.isoformat()}."
    )


@cli.command("record")
@click.argument("student_id")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="First day (default: the latest meeting's).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Last day (default: today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@now_option
@pass_context
def implementation_record(
    ctx: Context,
    student_id: str,
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
    now: str | None,
) -> None:
    """The plan carried out: accommodations, services."""
    with ctx.tracker(now=now) as tracker:
        found = tracker.implementation_record(
            student_id,
            since=since.date() if since else None,
            until=until.date() if until else None,
        )
    if as_json:
        echo_json(found.as_json())
        return
    click.echo(
        f"{found.student_name} ({found.student}), {found.since.isoformat()} to {found.until.isoformat()}"
    )
    click.echo("Accommodations (weeks used / not used / didn't come up / no answer):")
    for a in found.accommodations:
        w = a.weeks
        why = f"  why not: {'; '.join(w.reasons)}" if w.reasons else ""
        click.echo(
            f"  {a.text} | {a.implementer_name}: {w.used} / {w.not_used} / {w.not_applicable}"
            f" / {w.no_answer}{why}"
        )
    if not found.accommodations:
        click.echo("  none")
    click.echo("Services (minutes delivered of promised):")
    for s in found.services:
        click.echo(f"  {s.title} | {s.owner}: {s.delivered_minutes} of {s.promised_minutes}")
    if not found.services:
        click.echo("  none")
