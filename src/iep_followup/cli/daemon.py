"""Commands that run things: check, run (the daemon), demo."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from iep_followup.cli.app import Context, cli, pass_context


@cli.command()
@pass_context
def check(ctx: Context) -> None:
    """Check the settings, database and mail logins.

    Settings, database, schedule, SMTP and IMAP logins, the desk (its address and port), the SMTP
    receiver, the health and metrics port and the metrics token: one line each. Exit 1 if
    anything fails.
    """
    from iep_followup.daemon import load_jobs
    from iep_followup.services.health import run_checks

    with ctx.tracker(migrated=False) as tracker:
        checks = asyncio.run(
            run_checks(
                ctx.settings,
                tracker.database,
                lambda: load_jobs(ctx.settings.jobs_file),
                tracker.check_mailbox if ctx.settings.imap_url is not None else None,
            )
        )
    for item in checks:
        click.echo(f"{'ok  ' if item.ok else 'FAIL'}  {item.name}: {item.detail}")
    if not all(item.ok for item in checks):
        sys.exit(1)


@cli.command()
@pass_context
def run(ctx: Context) -> None:
    """Run the daemon until SIGTERM.

    Deliver, ask, listen and report on schedule (jobs/schedule.toml).
    """
    from iep_followup.daemon import Daemon, heartbeat_every, load_jobs

    _log_to_stderr(logging.DEBUG if ctx.verbose else logging.INFO, ctx.settings.log_format)
    jobs = load_jobs(ctx.settings.jobs_file)
    tracker = ctx.tracker(migrated=False)
    tracker.preflight()
    desk = ops = None
    every = heartbeat_every(jobs)
    if "web_listen" in ctx.settings.model_fields_set:  # set explicitly: serve the desk too
        from iep_followup.web.serve import DeskServer

        desk = DeskServer(tracker, heartbeat_every=every)
    elif ctx.settings.ops_listen is not None:  # no desk: the probes on their own port
        from iep_followup.web.serve import OpsServer

        ops = OpsServer(tracker, heartbeat_every=every)
    sys.exit(asyncio.run(Daemon(tracker, jobs, desk=desk, ops=ops).run()))


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where the demo keeps its database, emails and digest (emptied first).",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Then serve the case manager's desk on 127.0.0.1 with a sign-in link, until Ctrl-C.",
)
def demo(folder: Path, serve: bool) -> None:
    """Run the whole loop here, with no set-up.

    Meeting, requests, replies and digest, in the --dir folder, which is left as a working
    configuration: its .env holds the demo's settings, for the commands it prints at the end.
    With --serve, the desk then shows the demo's data on 127.0.0.1 (IEP_FOLLOWUP_WEB_LISTEN's
    port, 8000 by default, or the next free one) until Ctrl-C.
    """
    from iep_followup.demo import run_demo

    sys.exit(asyncio.run(run_demo(folder, echo=click.echo, serve=serve)))


def _log_to_stderr(level: int, log_format: str = "text") -> None:
    from iep_followup.logs import configure

    configure(level, log_format)
    # Our own job lines say what happened; the libraries' per-run chatter would drown them.
    for noisy in ("apscheduler", "alembic", "mail.log", "aioimaplib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


# --- output helpers ---------------------------------------------------------------
