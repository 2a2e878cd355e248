"""Signing in by a one-time emailed link, and out (here or everywhere). Nothing changes on a GET."""

from __future__ import annotations

import asyncio
import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.errors import TooManyRequestsError, ValidationError, loggable
from iep_followup.tracker import Tracker
from iep_followup.web.render import render
from iep_followup.web.security import (
    Access,
    Visitor,
    client_of,
    end_session,
    page,
    start_session,
    tracker_of,
)

LOG = logging.getLogger(__name__)


async def sign_in_form(request: Request, who: Visitor) -> Response:
    if who.reader is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, who, "signin.html", error=None, email="")


async def ask_for_link(request: Request, who: Visitor) -> Response:
    form = await request.form()
    email = str(form.get("email", "")).strip()[:320]
    tracker = tracker_of(request)
    try:
        address = await asyncio.to_thread(
            tracker.record_sign_in_request, email, client=client_of(request)
        )
    except ValidationError:
        return render(request, who, "signin.html", 400, error="not_an_address", email=email)
    except TooManyRequestsError:
        return render(request, who, "signin.html", 429, error="too_many", email=email)
    # The same answer, after the same work, whether or not the address may sign in: no
    # account discovery, by the words or by the time taken. Looking the address up and
    # writing the email happen once the answer is sent.
    return RedirectResponse(
        "/signin/sent",
        status_code=303,
        background=BackgroundTask(_send_link, tracker, address),
    )


def _send_link(tracker: Tracker, address: str) -> None:
    """After the answer, in a worker thread: nobody waits for it, so its errors are logged
    (type and our own words only: a driver's text can hold SQL and the address)."""
    try:
        tracker.send_sign_in_link(address)
    except Exception as exc:  # one link lost, logged; the desk goes on
        LOG.warning("a sign-in link could not be queued: %s", loggable(exc))


async def link_sent(request: Request, who: Visitor) -> Response:
    return render(request, who, "signin_sent.html")


async def confirm_form(request: Request, who: Visitor) -> Response:
    # Mail scanners open links: this page only shows a button, the POST signs in.
    token = request.path_params["token"]
    state = await asyncio.to_thread(tracker_of(request).sign_in_link_state, token)
    status = 200 if state == "ok" else 400
    return render(request, who, "confirm.html", status, state=state, token=token)


async def confirm(request: Request, who: Visitor) -> Response:
    token = request.path_params["token"]
    signed = await asyncio.to_thread(tracker_of(request).sign_in, token, client=client_of(request))
    if signed is None:
        state = await asyncio.to_thread(tracker_of(request).sign_in_link_state, token)
        return render(request, who, "confirm.html", 400, state=state, token=token)
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, signed[0])
    return response


async def sign_out(request: Request, who: Visitor) -> Response:
    form = await request.form()
    everywhere = form.get("everywhere") == "1"
    if who.reader is not None and who.session_id is not None:
        await asyncio.to_thread(
            tracker_of(request).sign_out,
            who.session_id,
            who.reader,
            everywhere=everywhere,
            client=client_of(request),
        )
    response = RedirectResponse("/signin", status_code=303)
    end_session(response)
    return response


ROUTES: list[Route] = [
    page("/signin", sign_in_form, access=Access.PUBLIC),
    page("/signin", ask_for_link, access=Access.PUBLIC, methods=("POST",)),
    page("/signin/sent", link_sent, access=Access.PUBLIC),
    page("/signin/{token}", confirm_form, access=Access.PUBLIC),
    page("/signin/{token}", confirm, access=Access.PUBLIC, methods=("POST",)),
    page("/signout", sign_out, access=Access.READER, methods=("POST",)),
]
