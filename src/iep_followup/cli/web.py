"""Commands for the case manager's desk: serve it, print a sign-in link."""

from __future__ import annotations

from logging import INFO
from typing import Any

import click

from iep_followup.cli.app import Context, cli, now_option, pass_context
from iep_followup.config import parse_listen


@cli.group(invoke_without_command=True)
@click.pass_context
def web(click_ctx: click.Context) -> None:
    """Serve the case manager's desk.

    Listens on IEP_FOLLOWUP_WEB_LISTEN (default 127.0.0.1:8000).
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    import uvicorn

    from iep_followup.web import create_app

    host, port = parse_listen(ctx.settings.web_listen)
    logging: dict[str, Any] = {}
    if ctx.settings.log_format == "json":  # every line as JSON, uvicorn's too
        from iep_followup.logs import configure

        configure(INFO, "json")
        logging["log_config"] = None
    with ctx.tracker() as tracker:
        click.echo(f"The desk is at {tracker.desk_base_url()}/ (Ctrl-C stops it)")
        # No access log: a sign-in link's token is in its path.
        uvicorn.run(
            create_app(tracker),
            host=host,
            port=port,
            access_log=False,
            log_level="warning",
            **logging,
        )


@web.command("link")
@click.argument("email")
@now_option
@pass_context
def web_link(ctx: Context, email: str, now: str | None) -> None:
    """Print a one-time sign-in link.

    For EMAIL: a case manager, or one of IEP_FOLLOWUP_ADMINS.
    """
    with ctx.tracker(now=now) as tracker:
        click.echo(tracker.sign_in_link(email))
