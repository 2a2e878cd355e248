"""What district IT's probes read: /healthz, /readyz and /metrics, on the desk or the daemon's ops port."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iep_followup.logs import request_id
from iep_followup.tracker import Tracker
from iep_followup.web.security import Access, SecurityHeaders, tracker_of

log = logging.getLogger("iep_followup.web")

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


async def healthz(request: Request) -> Response:
    """The process answers. Touches nothing: no database, no session, no cookie."""
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    """Ready to work: 200 "ok", or 503 and the one-line reason."""
    every: int | None = getattr(request.app.state, "heartbeat_every", None)
    ready = await asyncio.to_thread(tracker_of(request).readiness, heartbeat_every=every)
    return PlainTextResponse(ready.reason + "\n", status_code=200 if ready.ready else 503)


def may_read_metrics(request: Request, token: str | None) -> bool:
    """From this machine (and not relayed by a proxy on it), or with the metrics token."""
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, given = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False  # a reverse proxy on this machine relays other hosts' requests
    return _is_loopback(request.client.host if request.client else "")


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


async def metrics(request: Request) -> Response:
    """Prometheus' text format; 404 to anyone who may not read it (as if there were none)."""
    tracker = tracker_of(request)
    secret = tracker.settings.metrics_token
    if not may_read_metrics(request, secret.get_secret_value() if secret else None):
        return PlainTextResponse("Not Found\n", status_code=404)
    from iep_followup.web.metrics import exposition

    body, content_type = exposition(await asyncio.to_thread(tracker.ops_metrics))
    return Response(body, media_type=content_type)


def _probe(path: str, endpoint: object) -> Route:
    route = Route(path, endpoint, methods=["GET"], name=path.strip("/"))  # type: ignore[arg-type]
    # Public as far as sign-in goes: /metrics checks its own rule (may_read_metrics).
    route.access = Access.PUBLIC  # type: ignore[attr-defined]
    return route


ROUTES: list[BaseRoute] = [
    _probe("/healthz", healthz),
    _probe("/readyz", readyz),
    _probe("/metrics", metrics),
]


def create_ops_app(tracker: Tracker, *, heartbeat_every: int | None = None) -> Starlette:
    """Only the probes: what a daemon without the desk serves on IEP_FOLLOWUP_OPS_LISTEN."""
    app = Starlette(
        routes=list(ROUTES), middleware=[Middleware(RequestLog), Middleware(SecurityHeaders)]
    )
    app.state.tracker = tracker
    app.state.heartbeat_every = heartbeat_every
    return app


class RequestLog:
    """Gives each request an id (a proxy's X-Request-ID when it looks like one), sends it back,
    and logs one line per request: the route's name, never its path (a sign-in link's token is
    in it), the status and the time taken. Probes are not logged: they come every few seconds.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = given if _GIVEN_ID.fullmatch(given) else secrets.token_hex(8)
        request_id.set(current)  # each request is its own task: nothing leaks to the next
        status = 500
        started = time.monotonic()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["path"] not in PROBES:
                route = scope.get("route")
                name = getattr(route, "name", None) or "-"
                duration = time.monotonic() - started
                log.info(
                    "%s %s %s (%.3fs)",
                    scope["method"],
                    name,
                    status,
                    duration,
                    extra={"event": "request", "duration": round(duration, 3)},
                )
