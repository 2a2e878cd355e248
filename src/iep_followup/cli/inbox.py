"""Commands about incoming mail: ingest, inbox (and release), poll-inbox."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import BinaryIO

import click

from iep_followup.cli.app import ROW_ID, Context, cli, now_option, pass_context
from iep_followup.cli.output import cut, echo_json, print_table
from iep_followup.errors import DatabaseError, FileAccessError, IepFollowupError


@cli.command()
@click.argument("source", default="-", metavar="[FILE|-]")
@now_option
@pass_context
def ingest(ctx: Context, source: str, now: str | None) -> None:
    """Ingest one email from a file or stdin.

    FILE is a saved .eml; `-` (the default) reads standard input, for an MTA pipe.

    Exits 0 once the message is recorded, whatever its outcome, and 75 (try again later)
    when the database cannot be reached or refuses to write (read-only, disk full, no
    permission), so a mail server keeps the message and retries.
    """
    limit = ctx.settings.max_reply_bytes
    try:
        if source == "-":
            raw, size = _read_bounded(sys.stdin.buffer, limit)
        else:
            with Path(source).open("rb") as file:
                raw, size = _read_bounded(file, limit)
    except OSError as exc:
        raise FileAccessError(source, exc) from None
    try:
        with ctx.tracker(now=now) as tracker:
            result = tracker.ingest(raw, via="pipe", size=size if size > limit else None)
    except DatabaseError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(75)
    except IepFollowupError:
        raise  # the settings, say: one line and exit 1, from the entry point
    except Exception as exc:  # whatever it is, the mail server keeps the message and retries
        # One line, the type only: an exception's text may hold SQL or the message.
        click.echo(f"error: message not recorded ({type(exc).__name__}); try again later", err=True)
        sys.exit(75)
    suffix = f", {result.applied} update(s) recorded" if result.applied else ""
    click.echo(f"{result.outcome.value}: {result.reason}{suffix}")


def _read_bounded(stream: BinaryIO, limit: int) -> tuple[bytes, int]:
    """The first `limit` + 1 bytes and the whole size: a message too big to read is only counted."""
    head = stream.read(limit + 1)
    size = len(head)
    while chunk := stream.read(1 << 20):
        size += len(chunk)
    return head, size


@cli.group(invoke_without_command=True)
@click.option("--held", is_flag=True, help="Only replies waiting for a person to check them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def inbox(click_ctx: click.Context, held: bool, as_json: bool) -> None:
    """Emails that came in, and what was done.

    Each inbound email and its outcome: applied, ignored, held or rejected.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    with ctx.tracker() as tracker:
        rows = tracker.inbox(held_only=held)
    if as_json:
        echo_json(rows)
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
            cut(m.reason, 70),
        ]
        for m in rows
    ]
    print_table(["ID", "RECEIVED (UTC)", "FROM", "OUTCOME", "WHY"], table)
    if any(m.outcome.value == "held" for m in rows):
        click.echo("Release a held reply after checking it: iep-followup inbox release ID")


@inbox.command("release")
@click.argument("inbound_id", type=ROW_ID)
@now_option
@pass_context
def inbox_release(ctx: Context, inbound_id: int, now: str | None) -> None:
    """Apply a held reply after checking it.

    It counts as written by its real sender.
    """
    with ctx.tracker(now=now) as tracker:
        result = tracker.release(inbound_id)
    click.echo(f"Message {inbound_id}: {result.applied} update(s) recorded; {result.reason}.")


@inbox.command("show")
@click.argument("inbound_id", type=ROW_ID)
@pass_context
def inbox_show(ctx: Context, inbound_id: int) -> None:
    """Print a held reply to read it.

    The words we kept from it, then the whole email as text.
    """
    with ctx.tracker() as tracker:
        reply = tracker.held_text(inbound_id)
    click.echo(f"From: {reply.from_address or '?'}")
    click.echo(f"Received: {reply.received_at:%Y-%m-%d %H:%M} UTC")
    if reply.students:
        click.echo(f"Student: {', '.join(reply.students)}")
    click.echo(f"Held because: {reply.reason}")
    click.echo("\n--- What we kept ---")
    click.echo(reply.kept_text or "(nothing)")
    click.echo("\n--- The whole email, as it came ---")
    click.echo(reply.original)
    if reply.can_release:
        click.echo(f"\nTo apply it as written: iep-followup inbox release {inbound_id}")


@cli.command("poll-inbox")
@now_option
@pass_context
def poll_inbox(ctx: Context, now: str | None) -> None:
    """Read the IMAP mailbox once.

    What the daemon does every 90 seconds.
    """
    with ctx.tracker(now=now) as tracker:
        if ctx.settings.imap_url is None:
            raise click.UsageError("IEP_FOLLOWUP_IMAP_URL is not set")
        click.echo(asyncio.run(tracker.poll_inbox()).summary())
