"""IMAP poller: hands each new message's raw bytes to a callback, marks it only once handled.

Incremental by UID (state kept through the `ImapStateStore` port), restart-safe, and
bounded by a timeout on every server round trip; between polls it can wait in IDLE
(RFC 2177) for the server to announce mail. Errors leave as one `MailboxError`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, Protocol
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import aioimaplib

from iep_followup.errors import ConfigError, MailboxError
from iep_followup.inbound.message import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

ENV_VAR = "IEP_FOLLOWUP_IMAP_URL"
PROCESSED_KEYWORD = "$IepProcessed"
DEFAULT_TIMEOUT = 30.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# RFC 2177: servers may drop a client idle for 30 minutes, so IDLE is renewed before that.
IDLE_SECONDS = 25 * 60
_EXISTS = re.compile(rb"^\*? ?\d+ EXISTS\b", re.IGNORECASE)

InboundHandler = Callable[[bytes], Awaitable[bool]]
# For a message over the size limit: its header only, and its real size.
TooLargeHandler = Callable[[bytes, int], Awaitable[bool]]
TokenProvider = Callable[[], Awaitable[str]]


class _DropTraffic(logging.Filter):
    """aioimaplib logs raw protocol traffic (message bodies, the XOAUTH2 string) below WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


logging.getLogger("aioimaplib.aioimaplib").addFilter(_DropTraffic())


@dataclass(frozen=True)
class ImapConfig:
    """Where and how to poll; usually from `parse_imap_url`. The password stays out of repr."""

    host: str
    user: str
    password: str = field(repr=False)
    port: int = 993
    tls: bool = True
    mailbox: str = "INBOX"
    processed_folder: str | None = None
    auth: Literal["login", "xoauth2"] = "login"
    timeout: float = DEFAULT_TIMEOUT

    @property
    def address(self) -> str:
        """Where we connect, for messages and logs (never the password)."""
        scheme = "imaps" if self.tls else "imap"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{self.user}@{host}:{self.port}/{self.mailbox}"


class IdleEnd(Enum):
    """Why `ImapPoller.wait_for_mail` returned; all but NOT_OFFERED mean "poll now"."""

    NEW_MAIL = "the server announced new mail"
    UNREAD = "mail was waiting before IDLE began"
    TIMEOUT = "IDLE ran its time and is to be renewed"
    INTERRUPTED = "a poll wanted the connection, or the server ended IDLE"
    NOT_OFFERED = "the server does not offer IDLE"


@dataclass(frozen=True)
class PollResult:
    """One poll: `failed` is 0 or 1, since a poll stops at the first message not handled."""

    fetched: int
    handled: int
    failed: int
    uidvalidity: int
    last_uid: int


class ImapStateStore(Protocol):
    """Where the poller keeps (UIDVALIDITY, last handled UID) per mailbox between runs."""

    def load(self, mailbox: str) -> tuple[int, int] | None: ...

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None: ...


class MemoryImapState:
    """An `ImapStateStore` in a dict, for tests and the demo (forgotten on exit)."""

    def __init__(self) -> None:
        self.saved: dict[str, tuple[int, int]] = {}

    def load(self, mailbox: str) -> tuple[int, int] | None:
        return self.saved.get(mailbox)

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        self.saved[mailbox] = (uidvalidity, last_uid)


def parse_imap_url(url: str) -> ImapConfig:
    """`imaps://user:pass@host:993/INBOX?processed=Done&auth=xoauth2&timeout=30` -> ImapConfig."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{ENV_VAR} is not a valid URL (bad host or port).") from None
    host, tls = _server(parts)
    options = _options(parts.query)
    auth = options.get("auth", "login").lower()
    if auth not in ("login", "xoauth2"):
        raise ConfigError(f"{ENV_VAR}: auth must be login or xoauth2, not {auth!r}.")
    user, password = _credentials(parts, needs_password=auth == "login")
    mailbox = _folder(unquote(parts.path.lstrip("/")) or "INBOX", "the mailbox")
    processed = options.get("processed")
    if processed is not None:
        processed = _folder(processed, "processed")
        if processed == mailbox:
            raise ConfigError(f"{ENV_VAR}: processed must differ from the polled mailbox.")
    return ImapConfig(
        host=host,
        user=user,
        password=password,
        port=port if port is not None else (993 if tls else 143),
        tls=tls,
        mailbox=mailbox,
        processed_folder=processed,
        auth="xoauth2" if auth == "xoauth2" else "login",
        timeout=_timeout(options),
    )


def _server(parts: SplitResult) -> tuple[str, bool]:
    """The host, and whether to use TLS: plain IMAP only on this machine."""
    if parts.scheme not in ("imap", "imaps"):
        raise ConfigError(f"{ENV_VAR} must start with imaps:// (or imap:// for a local server).")
    host = parts.hostname
    if not host:
        raise ConfigError(f"{ENV_VAR} has no host name.")
    tls = parts.scheme == "imaps"
    if not tls and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"{ENV_VAR} uses imap:// without TLS for {host}; use imaps:// "
            "(plain imap:// is allowed only for 127.0.0.1, ::1 or localhost)."
        )
    return host, tls


def _options(query_string: str) -> dict[str, str]:
    """The URL's query options, each known and given once."""
    try:
        query = parse_qs(query_string, keep_blank_values=True, strict_parsing=bool(query_string))
    except ValueError:
        raise ConfigError(f"{ENV_VAR} has a malformed query string.") from None
    unknown = set(query) - {"processed", "auth", "timeout"}
    if unknown:
        raise ConfigError(
            f"{ENV_VAR} has unknown option(s) {', '.join(sorted(unknown))}; "
            "known: processed, auth, timeout."
        )
    if any(len(values) > 1 for values in query.values()):
        raise ConfigError(f"{ENV_VAR} repeats an option.")
    return {key: values[0] for key, values in query.items()}


def _credentials(parts: SplitResult, *, needs_password: bool) -> tuple[str, str]:
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if not user:
        raise ConfigError(f"{ENV_VAR} has no user name (imaps://user:password@host/INBOX).")
    if needs_password and not password:
        raise ConfigError(f"{ENV_VAR} has no password (imaps://user:password@host/INBOX).")
    if _CONTROL.search(user + password):
        raise ConfigError(f"{ENV_VAR}: user and password must not contain control characters.")
    return user, password


def _timeout(options: dict[str, str]) -> float:
    try:
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        raise ConfigError(f"{ENV_VAR}: timeout must be a number of seconds.") from None
    if not 0 < timeout <= 3600:
        raise ConfigError(f"{ENV_VAR}: timeout must be between 0 and 3600 seconds.")
    return timeout


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _folder(name: str, what: str) -> str:
    # Non-ASCII folder names need IMAP's modified UTF-7, which we do not implement.
    if not name or not name.isascii() or _CONTROL.search(name):
        raise ConfigError(f"{ENV_VAR}: {what} must be a non-empty ASCII folder name.")
    return name


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _server_text(response: Any) -> str:
    """The server's own words from a tagged reply, as one short line."""
    lines = [line for line in response.lines if isinstance(line, bytes)]
    text = lines[-1].decode("utf-8", "replace") if lines else ""
    return " ".join(text.split())[:200] or "(no text)"


class _Connection:
    """One authenticated IMAP session and whether the server has hung up on it."""

    def __init__(self, config: ImapConfig, ssl_context: ssl.SSLContext | None) -> None:
        self.lost = asyncio.Event()
        # IMAP4 rather than IMAP4_SSL: only IMAP4 passes the connection-lost callback on.
        self.imap = aioimaplib.IMAP4(
            host=config.host,
            port=config.port,
            timeout=config.timeout,
            conn_lost_cb=self._on_lost,
            ssl_context=(ssl_context or ssl.create_default_context()) if config.tls else None,
        )
        self.capabilities: frozenset[str] = frozenset()
        self.can_keyword = False
        self.uidvalidity: int | None = None  # of the mailbox selected on this connection

    def _on_lost(self, _exc: Exception | None) -> None:
        self.lost.set()

    async def xoauth2(self, user: str, token: str) -> Any:
        """AUTHENTICATE XOAUTH2 (with SASL-IR) that also answers a refusal.

        On a bad token Gmail and Dovecot send "+ <error>" and wait for an empty line
        before saying NO; aioimaplib's own xoauth2() never sends it and hangs.
        """
        protocol = self.imap.protocol
        sasl = base64.b64encode(f"user={user}\1auth=Bearer {token}\1\1".encode()).decode("ascii")
        command = _XOAuth2Command(protocol, sasl)
        response = await protocol.execute(command, scrub=sasl)
        if response.result == "OK":
            protocol.state = aioimaplib.AUTH
        return response

    def discard(self) -> None:
        """Drop the socket now; used after any failure, when the session state is unknown."""
        # aioimaplib does not cancel its own connect task when a wait_for around it expires.
        task = getattr(self.imap, "_client_task", None)
        if task is not None and not task.done():
            task.cancel()
        transport = getattr(self.imap.protocol, "transport", None)
        if transport is not None:
            transport.abort()
        self.lost.set()


class _XOAuth2Command(aioimaplib.Command):  # type: ignore[misc]
    def __init__(self, protocol: Any, sasl: str) -> None:
        super().__init__("AUTHENTICATE", protocol.new_tag(), "XOAUTH2", sasl, loop=protocol.loop)
        self._protocol = protocol
        self._answered = False

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        super().append_to_resp(line, result=result)
        if result == "Pending" and line.startswith(b"+") and not self._answered:
            self._answered = True
            self._protocol.transport.write(b"\r\n")


class ImapPoller:
    """Polls one mailbox; reuse one instance so the connection is kept between polls.

    `poll_once` raises `MailboxError` (one line, no password, no message text) when the
    server cannot be reached, refuses the login, times out or drops the connection; the
    next call reconnects. Nothing else escapes it except errors from your own state store.
    A handler that raises or returns False is not an error: the poll stops there and the
    message is offered again next time (so handle permanent problems yourself and
    return True once you have recorded them, or one bad message blocks the mailbox).

    A message over `max_bytes` is never downloaded: `too_large` gets its header and size
    (without `too_large`, it is skipped with a warning).
    """

    def __init__(
        self,
        config: ImapConfig,
        state: ImapStateStore,
        *,
        token_provider: TokenProvider | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        if config.auth == "xoauth2" and token_provider is None:
            raise ConfigError(
                f"{ENV_VAR} asks for auth=xoauth2 but no token_provider was given to ImapPoller."
            )
        self.config = config
        self._state = state
        self._token_provider = token_provider
        self._ssl_context = ssl_context
        self.max_bytes = max_bytes
        self._conn: _Connection | None = None
        # One poll at a time: the session and the stored UID are not safe to share.
        self._lock = asyncio.Lock()
        # Handled messages whose flag/move did not reach the server: retried next poll.
        self._unmarked: tuple[int, set[int]] | None = None
        # Set when a poll (or close) waits for the connection: ends an IDLE in progress.
        self._wanted = asyncio.Event()

    @property
    def idling(self) -> bool:
        """Whether the kept connection is in IDLE now (from the moment IDLE is sent)."""
        conn = self._conn
        return conn is not None and not conn.lost.is_set() and bool(conn.imap.has_pending_idle())

    async def __aenter__(self) -> ImapPoller:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def poll_once(
        self, handle: InboundHandler, too_large: TooLargeHandler | None = None
    ) -> PollResult:
        self._wanted.set()
        async with self._lock:
            self._wanted.clear()
            return await self._poll(handle, too_large)

    async def _poll(self, handle: InboundHandler, too_large: TooLargeHandler | None) -> PollResult:
        conn, uidvalidity = await self._select()
        mailbox = self.config.mailbox
        saved = self._state.load(mailbox)
        if saved is None or saved[0] != uidvalidity:
            # A new UIDVALIDITY means old UIDs mean nothing: read everything again
            # (the caller dedupes by Message-ID).
            if saved is not None:
                log.info("UIDVALIDITY of %s changed; reading it from the start", mailbox)
            last_uid = 0
            self._unmarked = None
            self._state.save(mailbox, uidvalidity, last_uid)
        else:
            last_uid = saved[1]
        await self._retry_marks(conn, uidvalidity)

        fetched = handled = failed = 0
        uids = await self._uids_after(conn, last_uid)
        sizes = await self._sizes(conn, uids)
        for uid in uids:
            size = sizes.get(uid, 0)  # a server that does not say is trusted
            raw = await self._fetch(conn, uid, header_only=size > self.max_bytes)
            if raw is None:
                # Expunged by someone else between SEARCH and FETCH: nothing to hand over.
                log.warning("UID %d of %s vanished before it was fetched; skipped", uid, mailbox)
                last_uid = uid
                self._state.save(mailbox, uidvalidity, last_uid)
                continue
            fetched += 1
            try:
                if size <= self.max_bytes:
                    ok = await handle(raw)
                elif too_large is not None:
                    ok = await too_large(raw, size)
                else:
                    log.warning("UID %d is larger than %d bytes; skipped", uid, self.max_bytes)
                    ok = True
            except Exception as exc:
                log.warning("handler raised %s for UID %d; will retry", type(exc).__name__, uid)
                ok = False
            if ok is not True:
                # last_uid is a high-water mark, so we cannot skip past this message.
                failed += 1
                break
            handled += 1
            last_uid = uid
            # Saved before marking: if the server drops us now, we will not hand it over twice.
            self._state.save(mailbox, uidvalidity, last_uid)
            await self._mark(conn, uidvalidity, uid)
        return PollResult(fetched, handled, failed, uidvalidity, last_uid)

    async def check(self) -> str:
        """Log in and open the mailbox without touching a message (for `iep-followup check`)."""
        async with self._lock:
            _conn, uidvalidity = await self._select()
        return f"{self.config.address}: logged in, mailbox open (UIDVALIDITY {uidvalidity})"

    async def close(self) -> None:
        self._wanted.set()
        async with self._lock:
            self._wanted.clear()
            await self._close()

    async def wait_for_mail(self, timeout: float = IDLE_SECONDS) -> IdleEnd:
        """Wait in IDLE on the kept connection until the server announces new mail.

        Also returns after `timeout` (IDLE is renewed by calling again, after a poll), when
        `poll_once` or `close` wants the connection, or at once when mail is already waiting.
        Meant to be called right after `poll_once`, in a loop. Raises `MailboxError` on any
        connection problem (the connection is dropped; the next poll reconnects).
        """
        async with self._lock:
            if self._wanted.is_set():
                return IdleEnd.INTERRUPTED
            conn = self._conn
            if conn is None or conn.lost.is_set() or conn.uidvalidity is None:
                await self._select()
                return IdleEnd.UNREAD  # a new session: what came before it is unknown
            if "IDLE" not in conn.capabilities:
                return IdleEnd.NOT_OFFERED
            # A message that arrived after the last poll's search may have been announced
            # in a reply aioimaplib drops (an EXISTS during UID STORE): look once more.
            saved = self._state.load(self.config.mailbox)
            if saved is None or saved[0] != conn.uidvalidity:
                return IdleEnd.UNREAD
            if await self._uids_after(conn, saved[1]):
                return IdleEnd.UNREAD
            return await self._idle(conn, timeout)

    async def _idle(self, conn: _Connection, timeout: float) -> IdleEnd:
        imap = conn.imap
        pushes: asyncio.Queue[Any] = imap.protocol.idle_queue
        # Left over from an earlier IDLE (an EXISTS after DONE, a timer's stop marker):
        # aioimaplib does not clear them, and they would end this IDLE at once.
        while not pushes.empty():
            pushes.get_nowait()
        # idle_start waits for the server's "+ idling"; _call bounds it and notices a hang-up
        # (aioimaplib alone waits forever when the server closes instead of answering).
        idle = await self._call(conn, "IDLE", imap.idle_start(timeout=timeout))
        end = await self._wait_for_push(conn, pushes, idle, timeout)
        if not idle.done():
            imap.idle_done()  # sends DONE

        async def finished() -> Any:
            return await idle

        response = await self._call(conn, "IDLE", finished())
        if response.result != "OK":
            raise MailboxError(
                f"IMAP server {self.config.address} ended IDLE with {_server_text(response)}"
            )
        return end

    async def _wait_for_push(
        self,
        conn: _Connection,
        pushes: asyncio.Queue[Any],
        idle: asyncio.Future[Any],
        timeout: float,
    ) -> IdleEnd:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return IdleEnd.TIMEOUT
            push = asyncio.ensure_future(pushes.get())
            wanted = asyncio.ensure_future(self._wanted.wait())
            lost = asyncio.ensure_future(conn.lost.wait())
            try:
                done, _ = await asyncio.wait(
                    {push, wanted, lost, idle},
                    timeout=remaining,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            except asyncio.CancelledError:
                self._drop_if(conn)  # stopped mid-IDLE: the session cannot be reused
                raise
            finally:
                for waiter in (push, wanted, lost):
                    waiter.cancel()
            if lost in done:
                self._drop_if(conn)
                raise MailboxError(
                    f"IMAP connection to {self.config.address} was lost during IDLE."
                )
            if push in done:
                lines = push.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return IdleEnd.TIMEOUT
                if any(isinstance(line, bytes) and _EXISTS.match(line) for line in lines):
                    return IdleEnd.NEW_MAIL
                continue  # "OK Still here", flag changes, expunges: nothing to read
            if wanted in done or idle in done:
                return IdleEnd.INTERRUPTED

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if not conn.lost.is_set():
            with contextlib.suppress(MailboxError):
                await self._call(conn, "LOGOUT", conn.imap.logout())
        conn.discard()
        # Let the transport finish closing before a test's event loop ends.
        await asyncio.sleep(0)

    # -- session ---------------------------------------------------------------------

    async def _select(self) -> tuple[_Connection, int]:
        conn = self._conn
        if conn is not None and not conn.lost.is_set():
            try:
                return conn, await self._select_on(conn)
            except MailboxError:
                # The kept connection went stale between polls; try once with a new one.
                log.info("IMAP connection to %s went stale; reconnecting", self.config.address)
        self._drop()
        conn = await self._connect()
        self._conn = conn
        try:
            return conn, await self._select_on(conn)
        except MailboxError:
            self._drop()
            raise

    async def _connect(self) -> _Connection:
        cfg = self.config
        conn = _Connection(cfg, self._ssl_context)
        try:
            await self._call(conn, "connect", conn.imap.wait_hello_from_server())
            if cfg.auth == "xoauth2":
                assert self._token_provider is not None
                token = await self._token_provider()
                response = await self._call(conn, "AUTHENTICATE", conn.xoauth2(cfg.user, token))
            else:
                response = await self._call(
                    conn, "LOGIN", conn.imap.login(_quoted(cfg.user), cfg.password)
                )
            if response.result != "OK":
                raise MailboxError(
                    f"IMAP server {cfg.address} refused the login: {_server_text(response)} "
                    f"Check {ENV_VAR}."
                )
            # Capabilities change after login (MOVE, UIDPLUS); ask again.
            await self._call(conn, "CAPABILITY", conn.imap.protocol.capability())
            conn.capabilities = frozenset(c.upper() for c in conn.imap.protocol.capabilities)
            if cfg.processed_folder is not None:
                # Fails harmlessly when the folder exists already.
                await self._call(conn, "CREATE", conn.imap.create(_quoted(cfg.processed_folder)))
        except BaseException:
            conn.discard()
            raise
        return conn

    async def _select_on(self, conn: _Connection) -> int:
        response = await self._call(conn, "SELECT", conn.imap.select(_quoted(self.config.mailbox)))
        if response.result != "OK":
            raise MailboxError(
                f"IMAP server {self.config.address} cannot open the mailbox: "
                f"{_server_text(response)}"
            )
        text = b"\n".join(line for line in response.lines if isinstance(line, bytes))
        match = re.search(rb"\[UIDVALIDITY (\d+)\]", text)
        if match is None:
            raise MailboxError(f"IMAP server {self.config.address} sent no UIDVALIDITY on SELECT.")
        flags = re.search(rb"\[PERMANENTFLAGS \(([^)]*)\)\]", text)
        conn.can_keyword = flags is not None and b"\\*" in flags.group(1).split()
        conn.uidvalidity = int(match.group(1))
        return conn.uidvalidity

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.discard()

    async def _call(self, conn: _Connection, step: str, request: Coroutine[Any, Any, Any]) -> Any:
        """Run one IMAP round trip, bounded by the timeout and cut short if the server hangs up.

        Any failure drops the connection (its protocol state is unknown afterwards) and
        becomes a one-line MailboxError. Only the exception type is reported: aioimaplib
        puts whole commands, including the XOAUTH2 string, into some exception texts.
        """
        where = self.config.address
        if conn.lost.is_set():
            request.close()
            self._drop_if(conn)
            raise MailboxError(f"IMAP connection to {where} was lost before {step}.")
        task = asyncio.ensure_future(request)
        lost = asyncio.ensure_future(conn.lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=self.config.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            # Cancelled mid-command (shutdown): the session state is unknown, so drop it.
            self._drop_if(conn)
            conn.discard()
            raise
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task in done:
            try:
                return task.result()
            except (TimeoutError, aioimaplib.CommandTimeout):
                message = f"IMAP server {where} did not answer {step} in time."
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                message = f"IMAP connection to {where} failed during {step}: {reason}."
            except Exception as exc:
                message = f"IMAP {step} at {where} failed: {type(exc).__name__}."
        elif lost in done:
            message = f"IMAP connection to {where} was lost during {step}."
        else:
            message = f"IMAP server {where} did not answer {step} within {self.config.timeout:g}s."
        self._drop_if(conn)
        conn.discard()
        raise MailboxError(message)

    def _drop_if(self, conn: _Connection) -> None:
        if self._conn is conn:
            self._drop()

    # -- messages --------------------------------------------------------------------

    async def _uids_after(self, conn: _Connection, last_uid: int) -> list[int]:
        response = await self._call(
            conn, "UID SEARCH", conn.imap.uid_search("UID", f"{last_uid + 1}:*", charset=None)
        )
        if response.result != "OK":
            raise MailboxError(f"IMAP UID SEARCH failed: {_server_text(response)}")
        uids: set[int] = set()
        for line in response.lines[:-1]:
            if isinstance(line, bytes):
                uids.update(int(word) for word in line.split() if word.isdigit())
        # "n:*" always matches the newest message, even when its UID is below n.
        return sorted(uid for uid in uids if uid > last_uid)

    async def _sizes(self, conn: _Connection, uids: list[int]) -> dict[int, int]:
        """Each message's size, in one round trip, so that none too big is downloaded."""
        if not uids:
            return {}
        response = await self._call(
            conn,
            "UID FETCH",
            conn.imap.uid("fetch", f"{uids[0]}:{uids[-1]}", "(UID RFC822.SIZE)"),
        )
        if response.result != "OK":
            raise MailboxError(f"IMAP UID FETCH failed: {_server_text(response)}")
        sizes: dict[int, int] = {}
        for line in response.lines:
            text = line if isinstance(line, bytes) else b""
            uid, size = re.search(rb"\bUID (\d+)", text), re.search(rb"\bRFC822\.SIZE (\d+)", text)
            if uid is not None and size is not None:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    async def _fetch(self, conn: _Connection, uid: int, *, header_only: bool) -> bytes | None:
        section = "HEADER" if header_only else ""
        response = await self._call(
            conn, "UID FETCH", conn.imap.uid("fetch", str(uid), f"(UID BODY.PEEK[{section}])")
        )
        if response.result != "OK":
            raise MailboxError(f"IMAP UID FETCH failed: {_server_text(response)}")
        lines = response.lines
        for index, item in enumerate(lines):
            # aioimaplib gives a literal (the message) as a bytearray between its
            # opening line "n FETCH (UID u BODY[] {size}" (or BODY[HEADER]) and the closing ")".
            if not isinstance(item, bytearray) or index == 0:
                continue
            around = bytes(lines[index - 1])
            if index + 1 < len(lines):
                around += b" " + bytes(lines[index + 1])
            match = re.search(rb"UID (\d+)", around)
            if (
                match is not None
                and int(match.group(1)) == uid
                and f"BODY[{section}]".encode() in around
            ):
                return bytes(item)
        return None

    async def _mark(self, conn: _Connection, uidvalidity: int, uid: int) -> None:
        if self._unmarked is None or self._unmarked[0] != uidvalidity:
            self._unmarked = (uidvalidity, set())
        pending = self._unmarked[1]
        pending.add(uid)
        await self._mark_now(conn, str(uid))
        pending.discard(uid)

    async def _retry_marks(self, conn: _Connection, uidvalidity: int) -> None:
        if self._unmarked is None or self._unmarked[0] != uidvalidity or not self._unmarked[1]:
            return
        pending = self._unmarked[1]
        await self._mark_now(conn, ",".join(str(uid) for uid in sorted(pending)))
        pending.clear()

    async def _mark_now(self, conn: _Connection, uid_set: str) -> None:
        """Move the messages to the processed folder, or flag them seen and processed."""
        imap = conn.imap
        folder = self.config.processed_folder
        if folder is not None and "MOVE" in conn.capabilities:
            response = await self._call(
                conn, "UID MOVE", imap.uid("move", uid_set, _quoted(folder))
            )
        elif folder is not None:
            response = await self._call(
                conn, "UID COPY", imap.uid("copy", uid_set, _quoted(folder))
            )
            if response.result == "OK":
                response = await self._call(
                    conn, "UID STORE", imap.uid("store", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
                )
            if response.result == "OK" and "UIDPLUS" in conn.capabilities:
                response = await self._call(conn, "UID EXPUNGE", imap.uid("expunge", uid_set))
        else:
            flags = f"\\Seen {PROCESSED_KEYWORD}" if conn.can_keyword else "\\Seen"
            response = await self._call(
                conn, "UID STORE", imap.uid("store", uid_set, "+FLAGS.SILENT", f"({flags})")
            )
        if response.result != "OK":
            raise MailboxError(
                f"IMAP server {self.config.address} would not mark handled messages: "
                f"{_server_text(response)}"
            )
