"""Outgoing mail transports: an SMTP server (aiosmtplib) or a folder of .eml files."""

from __future__ import annotations

import ipaddress
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from iep_followup.addresses import ascii_domain, needs_smtputf8
from iep_followup.errors import ConfigError, DeliveryError, TransportUnavailableError


class Transport(Protocol):
    """Send already-built messages. Use as an async context manager around a batch."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> None:
        """Hand one message over; raises DeliveryError(permanent=...) when it was not accepted."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    timeout: float
    starttls: bool | None  # None: use it when the server offers it

    @property
    def is_loopback(self) -> bool:
        return _is_loopback(self.host)


def parse_smtp_url(url: str) -> SmtpConfig:
    """smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (TLS); ?timeout=30&starttls=no."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "IEP_FOLLOWUP_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    starttls_setting = query.get("starttls", "").lower()
    starttls: bool | None = (
        None if not starttls_setting else starttls_setting in ("1", "yes", "true", "required")
    )
    if username and not implicit:
        if starttls is False:
            raise ConfigError(
                "IEP_FOLLOWUP_SMTP_URL: sending a password without encryption is not allowed; remove starttls=no"
            )
        starttls = True  # credentials only ever travel encrypted
    try:
        timeout = float(query.get("timeout", "30"))
        port = parts.port or (465 if implicit else 587)
    except ValueError:
        raise ConfigError("IEP_FOLLOWUP_SMTP_URL: port and timeout must be numbers") from None
    return SmtpConfig(parts.hostname, port, username, password, implicit, timeout, starttls)


class SmtpTransport:
    """One connection reused across a batch; every operation has a timeout."""

    def __init__(self, config: SmtpConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._disconnect()

    async def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> None:
        client = await self._connected()
        try:
            # Domains as A-labels; a message with a non-ASCII local part (its headers are
            # UTF-8, see build_message) needs SMTPUTF8, and there is no ASCII fallback for it.
            envelope = ascii_domain(sender), ascii_domain(recipient)
            options: list[str] = []
            if not message.isascii() or needs_smtputf8(sender) or needs_smtputf8(recipient):
                if not await self._offers(client, "smtputf8"):
                    raise _no_smtputf8(recipient)
                options.append("SMTPUTF8")
                if client.supports_extension("8bitmime"):
                    options.append("BODY=8BITMIME")  # the UTF-8 headers are 8-bit data
            await client.sendmail(
                envelope[0],
                [envelope[1]],
                message,
                mail_options=options,
                timeout=self.config.timeout,
            )
        except ValueError as exc:
            # An address that cannot go on an SMTP command line (aiosmtplib checks, and encodes
            # it, halfway through a transaction): this message can never be sent, the rest can.
            await self._disconnect()
            raise DeliveryError(
                f"cannot send to {recipient!r}: {_describe(exc)}",
                permanent=True,
                address_failing=False,
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0] if exc.recipients else None
            code = refusal.code if refusal else 550
            raise self._failure(code, refusal.message if refusal else str(exc)) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failure(exc.code, exc.message) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self._disconnect()
            raise TransportUnavailableError(f"mail server unreachable: {_describe(exc)}") from None

    async def _offers(self, client: aiosmtplib.SMTP, extension: str) -> bool:
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo(timeout=self.config.timeout)
            except aiosmtplib.SMTPHeloError:
                return False  # a server that answers only HELO offers no extension
        return client.supports_extension(extension)

    @staticmethod
    def _failure(code: int, text: str) -> DeliveryError:
        # 4xx defers only this message (the connection stays); 5xx refuses it for good.
        return DeliveryError(f"{code} {' '.join(text.split())}", permanent=500 <= code < 600)

    async def check(self) -> str:
        """Connect and log in, send nothing (for `iep-followup check`); raises TransportUnavailableError."""
        await self._connected()
        login = f" as {self.config.username}" if self.config.username else ""
        return f"{self.config.host}:{self.config.port}{login}"

    async def _connected(self) -> aiosmtplib.SMTP:
        """The batch's connection, opened (and logged in) on first use."""
        if self._client is not None and self._client.is_connected:
            return self._client
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.implicit_tls,
            start_tls=config.starttls,
            timeout=config.timeout,
            tls_context=self._tls_context,
        )
        try:
            await client.connect()
            if config.username:
                await client.login(config.username, config.password or "")
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            # Nothing can be sent until this is fixed: no message is failed for it.
            reason = (
                f"{exc.code} {exc.message}"
                if isinstance(exc, aiosmtplib.SMTPResponseException)
                else _describe(exc)
            )
            raise TransportUnavailableError(
                f"cannot log in to the mail server ({' '.join(reason.split())}); check IEP_FOLLOWUP_SMTP_URL"
                if isinstance(exc, aiosmtplib.SMTPAuthenticationError)
                else f"mail server {config.host}:{config.port} unreachable ({' '.join(reason.split())}); check IEP_FOLLOWUP_SMTP_URL"
            ) from None
        self._client = client
        return client

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit(timeout=self.config.timeout)
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            client.close()


class FileTransport:
    """The embedded default: each message becomes an .eml file (written atomically) in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def __aenter__(self) -> Self:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(
                f"cannot create mail folder {self.folder}: {exc.strerror}", permanent=False
            ) from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> None:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip("<>"))[:180] + ".eml"
        target = self.folder / name
        partial = self.folder / f".{name}.partial"
        try:
            partial.write_bytes(message)
            partial.replace(target)  # a reader never sees half a message
        except OSError as exc:
            raise TransportUnavailableError(f"cannot write {target}: {exc.strerror}") from None


def _no_smtputf8(recipient: str) -> DeliveryError:
    # The server has not refused the address: it was never offered. Nobody is marked failing.
    where = (
        f"the address {recipient}"
        if needs_smtputf8(recipient)
        else "an address in this message (its From or Reply-To)"
    )
    return DeliveryError(
        f"{where} has non-ASCII characters before the @ and the mail server does not support "
        "SMTPUTF8; use a mail server that does, or give the person an address without them",
        permanent=True,
        address_failing=False,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
