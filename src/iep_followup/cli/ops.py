"""Commands district IT runs: backup, restore and retention."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from iep_followup.cli.app import Context, cli, now_option, pass_context


@cli.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def backup(ctx: Context, dest: Path) -> None:
    """Copy the whole database to DEST (a new file).

    SQLite: an online backup, consistent while the daemon runs. PostgreSQL: pg_dump's custom
    format; where pg_dump is not installed, the exact command to run. Exit 1 if not done.
    """
    with ctx.tracker(migrated=False) as tracker:
        outcome = tracker.backup(dest)
    _report(outcome.done, outcome.detail, outcome.command)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def restore(ctx: Context, source: Path) -> None:
    """Restore a backup file onto an empty database.

    The database of IEP_FOLLOWUP_DATABASE_URL must have no tables: a new SQLite file, or a
    new PostgreSQL database (pg_restore). Stop the daemon first.
    """
    with ctx.tracker(migrated=False) as tracker:
        outcome = tracker.restore(source)
    _report(outcome.done, outcome.detail, outcome.command)


def _report(done: bool, detail: str, command: str | None) -> None:
    click.echo(detail, err=not done)
    if command is not None:
        click.echo(command)
    if not done:
        sys.exit(1)


@cli.command()
@now_option
@pass_context
def retention(ctx: Context, now: str | None) -> None:
    """Remove the raw text of old emails.

    Emails sent and received more than IEP_FOLLOWUP_RETAIN_MAIL_DAYS ago lose their raw text;
    the updates they recorded stay. The daemon's `retention` job does the same daily.
    """
    with ctx.tracker(now=now) as tracker:
        gone = tracker.forget_old_mail()
    click.echo(
        f"Removed the raw text of {gone.received} received and {gone.sent} sent emails older "
        f"than {ctx.settings.retain_mail_days} days."
    )
