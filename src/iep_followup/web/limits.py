"""The desk's body limit: a request body over IEP_FOLLOWUP_WEB_MAX_BODY is refused with 413
before it is read (by its Content-Length), or as soon as a streamed (chunked) body passes it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFUSED = b"The request is larger than the desk accepts. Nothing was saved."


class _TooLargeError(Exception):
    """A streamed body passed the limit while the app was reading it."""


class BodyLimit:
    """Pure ASGI middleware: nothing past `max_bytes()` of a body ever reaches the app.

    A declared Content-Length over the limit is answered at once, without reading a byte of the
    body (no form parser, no spooled upload); a body without one (chunked) is counted as it is
    received and cut off at the limit. Either way the answer is 413 and the connection closes,
    so the client stops sending.
    """

    def __init__(self, app: ASGIApp, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes  # read per request: the app is built before settings are

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, b"The request's Content-Length is not a number.")
            return
        if declared is not None and declared > limit:
            await _refuse(send, 413, REFUSED)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLargeError:
            if not started:  # else a handler answered before reading: nothing more to say
                await _refuse(send, 413, REFUSED)


def _content_length(scope: Scope) -> int | None:
    """The declared length, None when there is none, -1 when it is not a plain number."""
    found = None
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.strip()
            if not text.isdigit():
                return -1
            length = int(text) if len(text) <= 18 else 10**18  # no int() of a megabyte of digits
            found = length if found is None else max(found, length)
    return found


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
