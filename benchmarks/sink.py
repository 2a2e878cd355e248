"""An SMTP sink on loopback in its own process: aiosmtpd that counts messages, connections and repeated Message-IDs."""

from __future__ import annotations

import multiprocessing
import re
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class SinkStats:
    messages: int
    connections: int
    duplicates: int  # messages whose Message-ID the sink had already seen since the last reset


class _CountingHandler:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.connections = 0
        self.duplicates = 0
        self.seen: set[bytes] = set()
        # In-Reply-To -> when the message answering it was accepted (time.monotonic(), which
        # on Linux is one clock for every process): the latency stage's finish line.
        self.answered: dict[str, float] = {}

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1  # aiosmtplib greets once per connection
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages += 1
        content: bytes = envelope.content
        header_end = content.find(b"\r\n\r\n")
        found = _MESSAGE_ID.search(content, 0, header_end if header_end > 0 else len(content))
        answers = _IN_REPLY_TO.search(content, 0, header_end if header_end > 0 else len(content))
        if answers is not None:
            self.answered.setdefault(answers.group(1).decode(), time.monotonic())
        if found is not None:
            if found.group(1) in self.seen:
                self.duplicates += 1
            self.seen.add(found.group(1))
        return "250 OK"


def _serve(port: int, control: Connection) -> None:
    from aiosmtpd.controller import Controller

    handler = _CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    control.send("ready")
    try:
        while True:
            command = control.recv()
            if command == "stop":
                break
            if command == "answered":
                control.send(dict(handler.answered))
                continue
            stats = SinkStats(handler.messages, handler.connections, handler.duplicates)
            if command == "reset":
                handler.reset()
            control.send(stats)
    finally:
        controller.stop()


class Sink:
    """Start with `with Sink() as sink:`; `sink.reset()` returns the counts so far and zeroes them."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._control, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.port, child), daemon=True, name="smtp-sink"
        )

    def __enter__(self) -> Sink:
        self._process.start()
        if not self._control.poll(30) or self._control.recv() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._control.send("stop")
        self._process.join(10)

    def stats(self) -> SinkStats:
        self._control.send("stats")
        result: SinkStats = self._control.recv()
        return result

    def answered(self) -> dict[str, float]:
        """In-Reply-To -> when the first message answering it was accepted (time.monotonic())."""
        self._control.send("answered")
        result: dict[str, float] = self._control.recv()
        return result

    def reset(self) -> SinkStats:
        self._control.send("reset")
        result: SinkStats = self._control.recv()
        return result
