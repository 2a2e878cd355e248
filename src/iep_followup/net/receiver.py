"""Embedded SMTP receiver: accepts mail for the reply address and hands over the raw bytes.

The aiosmtpd handler stays thin; `hand_in` is the plain function that does the work
(healthchecks' smtpd pattern), so it can be called and tested without a server.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from iep_followup.errors import ConfigError, ReceiverError
from iep_followup.inbound.message import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

ENV_VAR = "IEP_FOLLOWUP_REPLY_ADDRESS"
DEFAULT_SIZE_LIMIT = MAX_MESSAGE_BYTES
DEFAULT_HANDLE_TIMEOUT = 60.0
ACCEPTED = "250 OK"
TRY_LATER = "451 4.3.0 try again later"
NOT_HERE = "550 5.1.1 No such recipient here"

InboundHandler = Callable[[bytes], Awaitable[bool]]

# RFC 5322 atext plus dots: what may follow "local+" in a plus address.
_TAG = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DELIVERED_TO = re.compile(rb"^delivered-to[ \t]*:", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class _DropBodies(logging.Filter):
    """aiosmtpd logs every DATA line at DEBUG; message text must never reach our logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("DATA readline"))


logging.getLogger("mail.log").addFilter(_DropBodies())


def check_reply_address(reply_address: str) -> str:
    local, at, domain = reply_address.strip().rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in reply_address.strip()):
        raise ConfigError(
            f"{ENV_VAR} must be a plain address such as iep-replies@district.example.org."
        )
    return reply_address.strip()


def is_reply_recipient(address: str, reply_address: str) -> bool:
    """True for the reply address and its plus forms (local+key@domain), ignoring case."""
    local, at, domain = address.rpartition("@")
    base, _, base_domain = reply_address.rpartition("@")
    if not at or domain.lower() != base_domain.lower():
        return False
    local, base = local.lower(), base.lower()
    if local == base:
        return True
    tag = local.removeprefix(base + "+")
    return tag != local and _TAG.fullmatch(tag) is not None


def with_original_to(raw: bytes, recipients: Sequence[str]) -> bytes:
    """Prepend `X-Original-To: <recipient>` unless an MTA already added Delivered-To.

    The plus part of the envelope recipient carries the reply key; without this header
    it would be lost whenever the visible To: differs from the envelope (Bcc, lists).
    """
    end = _HEADER_END.search(raw)
    headers = raw[: end.start()] if end else raw
    if _DELIVERED_TO.search(headers):
        return raw
    added = b"".join(f"X-Original-To: {rcpt}\r\n".encode() for rcpt in recipients)
    return added + raw


async def hand_in(
    raw: bytes,
    recipients: Sequence[str],
    handle: InboundHandler,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    timeout: float = DEFAULT_HANDLE_TIMEOUT,
) -> str:
    """Hand one received message to `handle`; returns the SMTP reply for the DATA command.

    `handle` runs on `loop` when given (thread-safely), else on the calling loop. Only
    True means the caller has committed the message; anything else, an exception or a
    timeout asks the sender to try again later, which is what MTAs do best.
    """
    message = with_original_to(raw, recipients)

    async def run() -> bool:
        return await handle(message)

    try:
        if loop is None:
            ok = await asyncio.wait_for(run(), timeout)
        else:
            coro = run()
            try:
                future = asyncio.run_coroutine_threadsafe(coro, loop)
            except RuntimeError:
                coro.close()
                raise
            ok = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except Exception as exc:
        # The type only: exception texts may quote the message.
        log.warning("reply handler failed with %s; answered 451", type(exc).__name__)
        return TRY_LATER
    return ACCEPTED if ok is True else TRY_LATER


class ReplyHandler:
    """aiosmtpd handler: accepts only the reply address and passes DATA to `hand_in`."""

    def __init__(
        self,
        reply_address: str,
        handle: InboundHandler,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        handle_timeout: float = DEFAULT_HANDLE_TIMEOUT,
    ) -> None:
        self.reply_address = check_reply_address(reply_address)
        self.handle = handle
        self.loop = loop
        self.handle_timeout = handle_timeout

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not is_reply_recipient(address, self.reply_address):
            return NOT_HERE
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return ACCEPTED

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        return await hand_in(
            envelope.original_content or b"",
            envelope.rcpt_tos,
            self.handle,
            loop=self.loop,
            timeout=self.handle_timeout,
        )


class _Controller(Controller):
    """A Controller serving on a socket we bound: bind errors surface at once, port 0 works."""

    def __init__(self, handler: ReplyHandler, sock: socket.socket, **smtp_options: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_options)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class SmtpReceiver:
    """A running receiver (an aiosmtpd Controller: its own thread and event loop)."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller
        self._running = True

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def stop(self) -> None:
        """Stop listening and end the receiver's thread; safe to call twice."""
        if self._running:
            self._running = False
            self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_receiver(
    host: str,
    port: int,
    reply_address: str,
    handle: InboundHandler,
    size_limit: int = DEFAULT_SIZE_LIMIT,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    handle_timeout: float = DEFAULT_HANDLE_TIMEOUT,
) -> SmtpReceiver:
    """Listen for SMTP on host:port (port 0: any free port, see `.port`) in a background thread.

    The receiver runs its own event loop in its own thread. Without `loop`, `handle` runs
    there, so it must not touch objects bound to another loop (an async DB engine, an
    aiosmtplib client). Pass your running loop to have `handle` run on it instead; that
    loop must keep running (never block it waiting for mail, e.g. with a synchronous
    SMTP client), or every delivery waits `handle_timeout` and gets a 451.

    Mail over `size_limit` bytes is refused before it is kept in memory: SIZE is advertised,
    and DATA past the limit is read and thrown away, then answered 552, so the sending
    server returns the message to its sender.
    """
    handler = ReplyHandler(reply_address, handle, loop=loop, handle_timeout=handle_timeout)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReceiverError(f"SMTP receiver cannot listen on {host}:{port}: {reason}.") from None
    controller = _Controller(
        handler,
        sock,
        data_size_limit=size_limit,
        # Our banner name; also spares aiosmtpd a getfqdn() DNS lookup at start.
        server_hostname=handler.reply_address.rpartition("@")[2],
    )
    try:
        controller.start()
    except Exception as exc:
        controller.stop(no_assert=True)
        if not controller.loop.is_closed():
            controller.loop.close()
        sock.close()
        raise ReceiverError(
            f"SMTP receiver on {host}:{port} did not start: {type(exc).__name__}."
        ) from None
    return SmtpReceiver(controller)
