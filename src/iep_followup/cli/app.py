"""The command group, its shared context and options, and the entry point."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

from iep_followup.config import Settings, load_settings, require_settings_file
from iep_followup.domain import parse_row_id
from iep_followup.errors import IepFollowupError, ValidationError
from iep_followup.tracker import Tracker, system_clock


class Context:
    def __init__(
        self, verbose: bool, env_file: Path | None, *, env_file_named: bool = False
    ) -> None:
        self.verbose = verbose
        self.env_file = env_file
        self.env_file_named = env_file_named  # --env-file given: it must exist
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            if self.env_file is not None and self.env_file_named:
                require_settings_file(self.env_file)
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


class RowId(click.ParamType[int]):
    """An item's or a message's id as typed: the domain's check, so a number past what a
    database holds is a usage error naming the argument, not a driver's OverflowError."""

    name = "id"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        try:
            return parse_row_id(value, param.name if param and param.name else "id")
        except ValidationError as exc:
            self.fail(str(exc), param, ctx)


ROW_ID = RowId()

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
    named = ctx.get_parameter_source("env_file") is not click.core.ParameterSource.DEFAULT
    ctx.obj = Context(verbose, env_file, env_file_named=named)


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
