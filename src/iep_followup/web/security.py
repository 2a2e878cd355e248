"""Who is asking, and may they: session cookies, CSRF on every POST, security headers, route access."""

from __future__ import annotations

import asyncio
import enum
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iep_followup.desk import FORM_TOKEN_HOURS, SESSION_IDLE_HOURS, Reader
from iep_followup.domain import parse_row_id
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.tracker import Tracker

SESSION_COOKIE = "iep_session"
# Before sign-in: a double-submitted value the Tracker signed and dated. On https its cookie is
# `__Host-` (Secure, Path=/, no Domain), which no sibling subdomain can set; on plain http
# (loopback, the demo) a planted cookie still fails the signature.
CSRF_COOKIE = "iep_csrf"
HOST_CSRF_COOKIE = "__Host-iep_csrf"
LANGUAGE_COOKIE = "iep_lang"

HEADERS = {
    # No script at all; styles only from our own file.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Access(enum.Enum):
    PUBLIC = "public"  # anyone: sign-in pages, the language switch, styles
    READER = "reader"  # a signed-in case manager or administrator; pages check the student too


@dataclass(frozen=True)
class Visitor:
    """The request's reader (None before sign-in) and the CSRF token its forms must carry."""

    reader: Reader | None
    session_id: str | None
    csrf: str
    new_csrf_cookie: bool


Handler = Callable[[Request, Visitor], Awaitable[Response]]


def tracker_of(request: Request) -> Tracker:
    tracker: Tracker = request.app.state.tracker
    return tracker


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_https(request: Request) -> bool:
    return tracker_of(request).desk_base_url().startswith("https://")


async def visitor(request: Request) -> Visitor:
    tracker = tracker_of(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        found = await asyncio.to_thread(tracker.desk_session, session_id)
        if found is not None:
            return Visitor(found[0], session_id, found[1], new_csrf_cookie=False)
    cookie = request.cookies.get(csrf_cookie(request), "")
    if cookie and tracker.desk_form_token_is_ours(cookie):
        return Visitor(None, None, cookie, new_csrf_cookie=False)
    return Visitor(None, None, tracker.desk_form_token(), new_csrf_cookie=True)


def csrf_cookie(request: Request) -> str:
    return HOST_CSRF_COOKIE if is_https(request) else CSRF_COOKIE


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def start_session(request: Request, response: Response, session_id: str) -> None:
    set_cookie(request, response, SESSION_COOKIE, session_id, SESSION_IDLE_HOURS * 3600)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


class CsrfError(Exception):
    """A POST without the form's token, or with another one."""


async def check_csrf(request: Request, who: Visitor) -> None:
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
        raise CsrfError


def page(
    path: str, handler: Handler, *, access: Access, methods: tuple[str, ...] = ("GET",)
) -> Route:
    """A route whose access is declared: the route table test walks every one of them.

    Every POST is checked for the CSRF token before the handler runs; a READER route sends
    a visitor with no session to the sign-in page.
    """

    async def endpoint(request: Request) -> Response:
        try:
            return await respond(request)
        finally:
            await request.close()  # an uploaded file's spooled copy

    async def respond(request: Request) -> Response:
        who = await visitor(request)
        if request.method == "POST":
            try:
                await check_csrf(request, who)
            except CsrfError:
                return Response("The form was too old or not ours. Go back and try again.", 403)
        if access is Access.READER and who.reader is None:
            response: Response = RedirectResponse("/signin", status_code=303)
        else:
            check_path_ids(request)
            response = await handler(request, who)
        if who.new_csrf_cookie:
            set_cookie(request, response, csrf_cookie(request), who.csrf, FORM_TOKEN_HOURS * 3600)
        return response

    route = Route(path, endpoint, methods=list(methods), name=handler.__name__)
    route.access = access  # type: ignore[attr-defined]
    return route


def check_path_ids(request: Request) -> None:
    """A number in the path past what a database holds names nothing: not found, as a missing
    row is (before it reaches a driver, which would raise instead)."""
    for name, value in request.path_params.items():
        if isinstance(value, int):
            try:
                parse_row_id(value, name)
            except ValidationError:
                raise NotFoundError(f"no {name} {value}") from None


def route_access(route: Any) -> Access | None:
    access = getattr(route, "access", None)
    return access if isinstance(access, Access) else None


class SecurityHeaders:
    """Adds the security headers to every response, whatever produced it (errors, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
