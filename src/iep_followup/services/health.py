"""`iep-followup check`: each part of the set-up, ok or what to fix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from iep_followup.config import Settings, require_secret
from iep_followup.errors import IepFollowupError
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.schedule import JobSpec
from iep_followup.services.setup import send_policy
from iep_followup.store.db import Database


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def run_checks(
    settings: Settings,
    database: Database,
    load_jobs: Callable[[], tuple[JobSpec, ...]],
    imap_login: Callable[[], Awaitable[str]] | None,
) -> list[Check]:
    checks = [
        _try("secret key", lambda: (require_secret(settings), "set")[1]),
        _try("database", lambda: _database(database)),
        _try("schedule", lambda: f"{len(load_jobs())} jobs"),
        _try(
            "school calendar", lambda: f"{len(send_policy(settings).calendar.closed)} days closed"
        ),
    ]
    if settings.smtp_url is None:
        checks.append(
            Check("outgoing mail", True, f"no SMTP server set: .eml files in {settings.mail_dir}/")
        )
    else:
        checks.append(await _smtp(settings.smtp_url.get_secret_value()))
    if imap_login is None:
        checks.append(Check("incoming mail (IMAP)", True, "not configured"))
    else:
        try:
            checks.append(Check("incoming mail (IMAP)", True, await imap_login()))
        except IepFollowupError as exc:
            checks.append(Check("incoming mail (IMAP)", False, str(exc)))
    from iep_followup.services.ops_checks import service_checks  # it imports Check from here

    checks.extend(await asyncio.to_thread(service_checks, settings))
    return checks


def _try(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except IepFollowupError as exc:
        return Check(name, False, str(exc))


def _database(database: Database) -> str:
    database.require_current()
    return f"{database.engine.url.render_as_string(hide_password=True)} at revision {database.current_revision()}"


async def _smtp(url: str) -> Check:
    name = "outgoing mail (SMTP)"
    try:
        async with SmtpTransport(parse_smtp_url(url)) as transport:
            return Check(name, True, await transport.check())
    except IepFollowupError as exc:
        return Check(name, False, str(exc))
