"""Commands about a person's email address: clear a failing mark, show its history."""

from __future__ import annotations

import click

from iep_followup.cli.app import Context, cli, pass_context
from iep_followup.cli.output import echo_json


@cli.group()
def person() -> None:
    """Whether a person's address takes mail."""


@person.command("clear-failing")
@click.argument("email")
@click.option("--by", metavar="EMAIL", help="Who checked the address (kept in its history).")
@pass_context
def clear_failing(ctx: Context, email: str, by: str | None) -> None:
    """Say an address works again.

    After checking it with its owner.
    """
    with ctx.tracker() as tracker:
        cleared = tracker.clear_failing(email, by=by, source="cli")
    if cleared:
        click.echo(f"{email}: no longer marked failing; it will be asked for updates again.")
    else:
        click.echo(f"{email}: was not marked failing; nothing changed.")


@person.command()
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
def history(ctx: Context, email: str, as_json: bool) -> None:
    """When an address bounced or was cleared.

    Each time it bounced, was marked failing or was cleared, and why.
    """
    with ctx.tracker() as tracker:
        events = tracker.address_history(email)
    if as_json:
        echo_json(events)
        return
    if not events:
        click.echo(f"{email}: no bounces or failures recorded.")
    for event in events:
        when = event.created_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{when}  {event.kind.value.replace('_', ' ')} ({event.source}): {event.reason}")
