"""Commands about outgoing mail: request-updates, deliver, outbox, digest."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from iep_followup.cli.app import Context, cli, now_option, pass_context
from iep_followup.cli.output import cut, echo_json, print_table
from iep_followup.digest import Period


@cli.command("request-updates")
@now_option
@click.option("--dry-run", is_flag=True, help="Show who would be asked and why; send nothing.")
@pass_context
def request_updates(ctx: Context, now: str | None, dry_run: bool) -> None:
    """Queue the requests and reminders due now."""
    with ctx.tracker(now=now) as tracker:
        run = tracker.request_updates(dry_run=dry_run)
    if dry_run:
        rows = [
            [line.name, line.email, line.action, str(line.items or ""), line.reason]
            for line in run.lines
        ]
        if rows:
            print_table(["OWNER", "EMAIL", "WOULD", "ITEMS", "WHY"], rows)
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
    """Send the queued emails that are due.

    Over SMTP, or as .eml files when no server is set.
    """
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
    """Emails queued, sent and failed.

    The newest first, never their content.
    """
    with ctx.tracker() as tracker:
        rows = tracker.outbox(failed_only=failed)
    if as_json:
        echo_json(rows)
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
            cut(m.last_error or "", 50),
        ]
        for m in rows
    ]
    print_table(["ID", "KIND", "TO", "STATUS", "TRIES", "WHEN (UTC)", "LAST ERROR"], table)


@cli.command()
@now_option
@click.option(
    "--period",
    type=click.Choice([p.value for p in Period]),
    help="Default: IEP_FOLLOWUP_DIGEST_PERIOD.",
)
@click.option(
    "--preview",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write each digest's HTML and text to DIR and send nothing.",
)
@pass_context
def digest(ctx: Context, now: str | None, period: str | None, preview: Path | None) -> None:
    """Queue each case manager's digest.

    One per period, once; --preview DIR writes them to a folder and sends nothing.
    """
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
