"""The `iep-followup` command line: readable tables for people, --json for scripts."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import secrets
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click

from iep_followup.balance import BalanceReport, role_label
from iep_followup.config import Settings, load_settings
from iep_followup.digest import Period
from iep_followup.domain import ItemStatus, UpdateInput, UpdateSource, parse_enum
from iep_followup.errors import DatabaseError, IepFollowupError
from iep_followup.meetingfile import load_meeting_file
from iep_followup.tracker import Tracker, system_clock
from iep_followup.views import ItemView


class Context:
    def __init__(self, verbose: bool, env_file: Path | None) -> None:
        self.verbose = verbose
        self.env_file = env_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.env_file)
        return self._settings

    def tracker(self, *, migrated: bool = True, now: str | None = None) -> Tracker:
        clock = fixed_clock(now, self.settings.timezone) if now else system_clock
        tracker = Tracker(self.settings, clock=clock)
        if migrated:
            tracker.database.require_current()
        return tracker


pass_context = click.make_pass_decorator(Context)


def fixed_clock(text: str, timezone: str) -> Callable[[], datetime]:
    """--now: an ISO date-time; without an offset it is read in the district's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date-time like 2026-11-23T08:30", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return lambda: moment


now_option = click.option(
    "--now",
    metavar="ISO",
    help="Act as if it were this moment (replay, testing). Default: the real time.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show debug logs and full tracebacks.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Settings file read before the environment.",
)
@click.version_option(package_name="iep-followup")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, env_file: Path) -> None:
    """Follow-through for IEP meetings: who does what, asked by email, reported to the case manager."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(verbose, env_file)


@cli.command()
@pass_context
def init(ctx: Context) -> None:
    """Create the database, or upgrade it to this version. Safe to run again."""
    with ctx.tracker(migrated=False) as tracker:
        applied = tracker.init_database()
        target = tracker.database.engine.url.render_as_string(hide_password=True)
    if applied:
        click.echo(f"Database ready at {target} (applied {', '.join(applied)}).")
    else:
        click.echo(f"Database at {target} is already up to date.")
    if ctx.settings.secret_key is None and ctx.env_file is not None:
        # The daemon refuses to run without a signing secret: make one, once, where settings live.
        with ctx.env_file.open("a", encoding="utf-8") as env:
            env.write(f"IEP_FOLLOWUP_SECRET_KEY={secrets.token_urlsafe(32)}\n")
        click.echo(
            f"Wrote a new IEP_FOLLOWUP_SECRET_KEY to {ctx.env_file} (keep it secret; changing it voids open reply keys)."
        )


@cli.command("import")
@click.argument("meeting_file", type=click.Path(dir_okay=False, path_type=Path))
@now_option
@pass_context
def import_meeting(ctx: Context, meeting_file: Path, now: str | None) -> None:
    """Record what a meeting decided, from a YAML meeting file (see examples/), and queue the summaries."""
    record = load_meeting_file(meeting_file)
    with ctx.tracker(now=now) as tracker:
        result = tracker.record_meeting(record)
        reports = tracker.balance(record.student.external_id)
    if not result.changes:
        click.echo(f"{meeting_file}: nothing changed (already imported).")
    else:
        verb = "Imported" if result.created else "Updated"
        click.echo(f"{verb} {meeting_file} for student {result.student_external_id}:")
        for change in result.changes:
            click.echo(f"  - {change}")
    if result.summaries_queued:
        click.echo(
            f"Queued {result.summaries_queued} meeting summary email(s); `iep-followup deliver` sends them."
        )
    click.echo()
    _print_balance(reports)


@cli.command()
@click.option("--student", "student", metavar="ID", help="Only this student (the district's id).")
@click.option("--owner", metavar="EMAIL", help="Only items owned by this person.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def status(ctx: Context, student: str | None, owner: str | None, as_json: bool) -> None:
    """Action items with their owner, due date and progress."""
    with ctx.tracker() as tracker:
        today = tracker.now().date()
        if student and not owner:
            view = tracker.student_status(student)
            if as_json:
                _echo_json(view)
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
            _print_items(view.items, today)
            return
        items = tracker.items(student=student, owner=owner)
        failing = tracker.failing_addresses()
    if as_json:
        _echo_json(items)
        return
    if not items:
        click.echo("No action items yet. Import a meeting file first: iep-followup import FILE")
    else:
        _print_items(items, today)
    if failing:
        click.echo()
        click.echo("Email addresses that fail (fix them in the meeting file and import it again):")
        for name, email, reason in failing:
            click.echo(f"  ! {name} <{email}>: {reason}")


@cli.command()
@click.option("--student", metavar="ID", help="Only this student.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def balance(ctx: Context, student: str | None, as_json: bool) -> None:
    """Who carries what on each team, and who carries nothing or too much."""
    with ctx.tracker() as tracker:
        reports = tracker.balance(student)
    if as_json:
        _echo_json(reports)
    elif not reports:
        click.echo("No students yet. Import a meeting file first: iep-followup import FILE")
    else:
        _print_balance(reports)


@cli.command()
@click.argument("item_id", type=int)
@click.option(
    "--status", "status_", metavar="STATUS", help="open, in_progress, blocked, done or dropped."
)
@click.option("--percent", type=click.IntRange(0, 100), help="How far along, 0-100.")
@click.option(
    "--due", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="A new due date."
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
    )
    with ctx.tracker(now=now) as tracker:
        item = tracker.record_update(item_id, change, by=by, source=UpdateSource.CLI)
    click.echo(
        f"Recorded. Item {item.id} ({item.title}) is now {item.status.value.replace('_', ' ')}, {item.percent}% done, due {item.due_on.isoformat()}."
    )


@cli.command("request-updates")
@now_option
@click.option("--dry-run", is_flag=True, help="Show who would be asked and why; send nothing.")
@pass_context
def request_updates(ctx: Context, now: str | None, dry_run: bool) -> None:
    """Queue the update requests and reminders that are due now."""
    with ctx.tracker(now=now) as tracker:
        run = tracker.request_updates(dry_run=dry_run)
    if dry_run:
        rows = [
            [line.name, line.email, line.action, str(line.items or ""), line.reason]
            for line in run.lines
        ]
        if rows:
            _print_table(["OWNER", "EMAIL", "WOULD", "ITEMS", "WHY"], rows)
        else:
            click.echo("Nobody has open items with a check-in cadence.")
        return
    click.echo(
        f"Queued {run.asked} request(s) and {run.reminded} reminder(s); {run.waiting} owner(s) not due now."
    )
    if run.failed:
        click.echo(f"{run.failed} could not be queued (see the log with -v).", err=True)
    if run.asked or run.reminded:
        click.echo("`iep-followup deliver` sends them.")


@cli.command()
@now_option
@pass_context
def deliver(ctx: Context, now: str | None) -> None:
    """Send the queued emails that are due (SMTP, or .eml files when no server is set)."""
    with ctx.tracker(now=now) as tracker:
        target = "SMTP" if ctx.settings.smtp_url else f"files in {ctx.settings.mail_dir}/"
        report = asyncio.run(tracker.deliver())
    click.echo(
        f"Sent {report.sent} to {target}; {report.retried} will be retried; {report.failed} failed."
    )
    if report.error:
        click.echo(f"Stopped early: {report.error}", err=True)
        sys.exit(1)


@cli.command("outbox")
@click.option("--failed", is_flag=True, help="Only messages that could not be delivered.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def outbox_command(ctx: Context, failed: bool, as_json: bool) -> None:
    """The newest queued, sent and failed emails (not their content)."""
    with ctx.tracker() as tracker:
        rows = tracker.outbox(failed_only=failed)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No failed messages." if failed else "The outbox is empty.")
        return
    table = [
        [
            str(m.id),
            m.kind.value,
            m.to_address,
            m.status.value,
            str(m.attempts),
            (m.sent_at or m.next_attempt_at).strftime("%Y-%m-%d %H:%M"),
            _cut(m.last_error or "", 50),
        ]
        for m in rows
    ]
    _print_table(["ID", "KIND", "TO", "STATUS", "TRIES", "WHEN (UTC)", "LAST ERROR"], table)


@cli.command()
@now_option
@click.option(
    "--period",
    type=click.Choice([p.value for p in Period]),
    help="Default: IEP_FOLLOWUP_DIGEST_PERIOD.",
)
@click.option(
    "--preview",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write each digest's HTML and text to DIR and send nothing.",
)
@pass_context
def digest(ctx: Context, now: str | None, period: str | None, preview: Path | None) -> None:
    """Queue each case manager's digest for this period (once), or preview them."""
    with ctx.tracker(now=now) as tracker:
        run = tracker.digests(period=Period(period) if period else None, preview_dir=preview)
    if preview is not None:
        if not run.previews:
            click.echo("No case manager has a digest to preview.")
        for path in run.previews:
            click.echo(f"Wrote {path}")
    else:
        click.echo(f"Queued {run.queued} digest(s); {run.already} already queued for this period.")
    if run.quiet_skipped:
        click.echo(
            f"{run.quiet_skipped} all-quiet digest(s) skipped (IEP_FOLLOWUP_DIGEST_SKIP_QUIET)."
        )
    if run.failed:
        click.echo(f"{run.failed} digest(s) failed (see the log with -v).", err=True)
        sys.exit(1)


@cli.command()
@click.argument("source", default="-", metavar="[FILE|-]")
@now_option
@pass_context
def ingest(ctx: Context, source: str, now: str | None) -> None:
    """Ingest one email (a saved .eml, or standard input for an MTA pipe).

    Exits 0 once the message is recorded, whatever its outcome, and 75 (try again later)
    when the database cannot be reached, so a mail server keeps the message and retries.
    """
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        with ctx.tracker(now=now) as tracker:
            result = tracker.ingest(raw, via="pipe")
    except DatabaseError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(75)
    suffix = f", {result.applied} update(s) recorded" if result.applied else ""
    click.echo(f"{result.outcome.value}: {result.reason}{suffix}")


@cli.group(invoke_without_command=True)
@click.option("--held", is_flag=True, help="Only replies waiting for a person to check them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def inbox(click_ctx: click.Context, held: bool, as_json: bool) -> None:
    """Inbound emails and what was done with each (applied, ignored, held, rejected)."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    with ctx.tracker() as tracker:
        rows = tracker.inbox(held_only=held)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("Nothing is held for review." if held else "No email has come in yet.")
        return
    table = [
        [
            str(m.id),
            m.received_at.strftime("%Y-%m-%d %H:%M"),
            m.from_address or "?",
            m.outcome.value,
            _cut(m.reason, 70),
        ]
        for m in rows
    ]
    _print_table(["ID", "RECEIVED (UTC)", "FROM", "OUTCOME", "WHY"], table)
    if any(m.outcome.value == "held" for m in rows):
        click.echo("Release a held reply after checking it: iep-followup inbox release ID")


@inbox.command("release")
@click.argument("inbound_id", type=int)
@now_option
@pass_context
def inbox_release(ctx: Context, inbound_id: int, now: str | None) -> None:
    """Apply a held reply as its request's owner's, after a person has checked it."""
    with ctx.tracker(now=now) as tracker:
        result = tracker.release(inbound_id)
    click.echo(
        f"Released message {inbound_id}: {result.applied} update(s) recorded; a confirmation is queued."
    )


@cli.command("poll-inbox")
@now_option
@pass_context
def poll_inbox(ctx: Context, now: str | None) -> None:
    """Read new replies from the IMAP mailbox once (what the daemon does every 90 seconds)."""
    from iep_followup.daemon import Daemon

    with ctx.tracker(now=now) as tracker:
        if ctx.settings.imap_url is None:
            raise click.UsageError("IEP_FOLLOWUP_IMAP_URL is not set")
        daemon = Daemon(tracker, ())
        click.echo(asyncio.run(daemon.poll_once()))


@cli.command()
@pass_context
def check(ctx: Context) -> None:
    """Check the set-up: settings, database, schedule, SMTP and IMAP logins. Exit 1 if anything fails."""
    from iep_followup.daemon import imap_login, load_jobs
    from iep_followup.services.health import run_checks

    with ctx.tracker(migrated=False) as tracker:
        checks = asyncio.run(
            run_checks(
                ctx.settings,
                tracker.database,
                lambda: load_jobs(ctx.settings.jobs_file),
                imap_login(tracker) if ctx.settings.imap_url is not None else None,
            )
        )
    for item in checks:
        click.echo(f"{'ok  ' if item.ok else 'FAIL'}  {item.name}: {item.detail}")
    if not all(item.ok for item in checks):
        sys.exit(1)


@cli.command()
@pass_context
def run(ctx: Context) -> None:
    """Run the daemon: deliver, ask, listen and report on schedule (jobs/schedule.toml) until SIGTERM."""
    from iep_followup.daemon import Daemon, load_jobs

    _log_to_stderr(logging.DEBUG if ctx.verbose else logging.INFO)
    jobs = load_jobs(ctx.settings.jobs_file)
    tracker = ctx.tracker(migrated=False)
    tracker.preflight()
    sys.exit(asyncio.run(Daemon(tracker, jobs).run()))


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where the demo keeps its database, emails and digest (emptied first).",
)
def demo(folder: Path) -> None:
    """Show the whole loop on this machine, with no set-up: meeting, requests, replies, digest."""
    from iep_followup.demo import run_demo

    sys.exit(asyncio.run(run_demo(folder, echo=click.echo)))


def _log_to_stderr(level: int) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Our own job lines say what happened; the libraries' per-run chatter would drown them.
    for noisy in ("apscheduler", "alembic", "mail.log", "aioimaplib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


# --- output helpers ---------------------------------------------------------------


def _print_items(items: Sequence[ItemView], today: date) -> None:
    rows = [
        [
            str(i.id),
            i.student_external_id,
            _cut(i.title, 48),
            f"{i.owner_name} ({role_label(i.owner_role)})",
            i.due_on.isoformat() + (" overdue" if i.is_overdue(today) else ""),
            i.status.value.replace("_", " "),
            f"{i.percent}%",
        ]
        for i in items
    ]
    _print_table(["ID", "STUDENT", "ITEM", "OWNER", "DUE", "STATUS", "DONE"], rows)


def _print_balance(reports: Sequence[BalanceReport]) -> None:
    for report in reports:
        click.echo(
            f"Balance for {report.student_name} ({report.student_external_id}): {report.open_items} open items"
        )
        rows = [
            [load.name, role_label(load.role), str(load.open_items), f"{load.share:.0%}"]
            for load in report.loads
        ]
        _print_table(["MEMBER", "ROLE", "OPEN", "SHARE"], rows)
        if report.warnings:
            click.echo("Warnings:")
            for warning in report.warnings:
                click.echo(f"  ! {warning.message}")
        else:
            click.echo("Everyone has a part, and no one carries too much.")
        click.echo()


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(_jsonable(value), ensure_ascii=False, indent=2))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: library errors become one line on stderr and exit code 1."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="iep-followup", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except IepFollowupError as exc:
        _fail(str(exc), verbose)
    except Exception as exc:
        _fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for details)", verbose)
    sys.exit(0)


def _fail(message: str, verbose: bool) -> NoReturn:
    if verbose:
        traceback.print_exc()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
