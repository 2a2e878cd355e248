"""Commands district IT runs: backup and restore."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from iep_followup.cli.app import Context, cli, pass_context


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
