"""Hearing about new outbox mail from other processes: PostgreSQL LISTEN (psycopg 3) on OUTBOX_CHANNEL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from iep_followup.errors import DatabaseError
from iep_followup.store.db import OUTBOX_CHANNEL


async def listen_for_outbox(
    url: str, on_mail: Callable[[], None], *, on_listening: Callable[[], None] = lambda: None
) -> None:
    """Call `on_mail` for each commit (in any process) that queued mail, until cancelled.

    `on_listening` runs once LISTEN is in place. Raises DatabaseError (one line, no password)
    when the connection cannot be made or is lost; the caller waits and calls again.
    """
    try:
        import psycopg
    except ModuleNotFoundError:
        raise DatabaseError(
            "the PostgreSQL driver is not installed (psycopg); install iep-followup[postgres]"
        ) from None
    parsed = make_url(url)
    target = parsed.render_as_string(hide_password=True)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        # TCP keepalives: a server that vanished without closing the socket is noticed.
        connection = await psycopg.AsyncConnection.connect(
            conninfo,
            autocommit=True,
            connect_timeout=30,
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
        async with connection:
            await connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
            on_listening()
            async for _notify in connection.notifies():
                on_mail()
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseError(f"database {target}: not listening for new mail: {reason}") from None
    raise DatabaseError(f"database {target}: the server closed the listening connection")
