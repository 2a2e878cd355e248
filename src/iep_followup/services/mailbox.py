"""Reading the school's IMAP mailbox: build the poller from the settings, poll it once, log in to check."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable

from iep_followup.config import Settings
from iep_followup.errors import ConfigError
from iep_followup.net.imap import ImapPoller, InboundHandler, TooLargeHandler, parse_imap_url
from iep_followup.store.db import Database
from iep_followup.store.inbox import DbImapState
from iep_followup.views import InboxPoll

NOT_CONFIGURED = "no IMAP mailbox configured"


def new_poller(settings: Settings, database: Database) -> ImapPoller | None:
    """A poller for IEP_FOLLOWUP_IMAP_URL that keeps its progress in the database; None when unset."""
    if settings.imap_url is None:
        return None
    return ImapPoller(
        parse_imap_url(settings.imap_url.get_secret_value()),
        DbImapState(database),
        token_provider=_token_provider(settings),
        max_bytes=settings.max_reply_bytes,
    )


async def poll_inbox(
    database: Database, poller: ImapPoller, handle: InboundHandler, too_large: TooLargeHandler
) -> InboxPoll:
    """One pass over the mailbox, by one daemon at a time."""
    with database.exclusive("iep-followup:poll-inbox") as mine:
        if not mine:
            return InboxPoll(skipped="another daemon is polling")
        result = await poller.poll_once(handle, too_large)
    return InboxPoll(result.fetched, result.handled, result.failed)


async def check_login(settings: Settings, database: Database) -> str:
    """Log in and open the mailbox, touching no message."""
    poller = new_poller(settings, database)
    if poller is None:
        return "not configured"
    try:
        return await poller.check()
    finally:
        await poller.close()


def _token_provider(settings: Settings) -> Callable[[], Awaitable[str]] | None:
    token, command = settings.imap_oauth_token, settings.imap_oauth_token_command
    if command:

        async def from_command() -> str:
            process = await asyncio.create_subprocess_exec(
                *shlex.split(command),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(process.communicate(), 30)
            if process.returncode != 0 or not out.strip():
                raise ConfigError("IEP_FOLLOWUP_IMAP_OAUTH_TOKEN_COMMAND did not print a token")
            return out.decode().strip()

        return from_command
    if token is not None:
        secret = token.get_secret_value()

        async def from_setting() -> str:
            return secret

        return from_setting
    return None
