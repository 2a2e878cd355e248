"""A real SMTP server for tests (aiosmtpd on loopback) that records what it receives.

It can refuse recipients (5xx), defer messages (4xx), leave out SMTPUTF8, and stop and start
again on the same port, so delivery is tested against the real protocol, not a mock.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    smtputf8: bool = False  # sent with MAIL FROM ... SMTPUTF8

    @property
    def message(self) -> EmailMessage:
        # An SMTPUTF8 message has UTF-8 headers, which the bytes parser leaves undecoded.
        parsed = (
            message_from_bytes(self.data, policy=default)
            if self.data.isascii()
            else message_from_string(self.data.decode("utf-8"), policy=default)
        )
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> "550 5.1.1 ..." at RCPT
    defer_next: int = 0  # answer 451 to this many DATA commands
    defer_every: int = 0  # answer 451 to every n-th DATA command (0: never)
    delay: float = 0.0  # seconds to wait before answering DATA (a slow server)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self._count += 1
            if self.defer_next > 0:
                self.defer_next -= 1
                return "451 4.3.0 Please try again later"
            if self.defer_every and self._count % self.defer_every == 0:
                return "451 4.3.0 Please try again later"
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                    envelope.smtp_utf8,
                )
            )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, *, smtputf8: bool = True) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.smtputf8 = smtputf8  # offered in the EHLO answer (aiosmtpd's Controller default)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self._controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=5,
            enable_SMTPUTF8=self.smtputf8,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
