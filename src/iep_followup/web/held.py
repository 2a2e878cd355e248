"""Held replies: read the kept words and the original (as text), then apply as written, apply
to an item the reader picks, or dismiss."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.domain import parse_row_id
from iep_followup.errors import ValidationError
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of


async def held_list(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    replies = await asyncio.to_thread(tracker_of(request).held_replies, who.reader)
    done = request.query_params.get("done")
    return render(
        request, who, "held_list.html", replies=replies, done=done if done in DONE else None
    )


async def held_reply(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    reply = await asyncio.to_thread(
        tracker_of(request).held_reply,
        who.reader,
        request.path_params["inbound_id"],
        client=client_of(request),
    )
    return render(request, who, "held.html", reply=reply, error=None)


async def release(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    tracker = tracker_of(request)
    inbound_id = request.path_params["inbound_id"]
    try:
        await asyncio.to_thread(
            tracker.release_held, who.reader, inbound_id, client=client_of(request)
        )
    except ValidationError:
        reply = await asyncio.to_thread(
            tracker.held_reply, who.reader, inbound_id, client=client_of(request)
        )
        return render(request, who, "held.html", 409, reply=reply, error="cannot_release")
    return RedirectResponse("/held?done=released", status_code=303)


async def apply_to_item(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    tracker = tracker_of(request)
    inbound_id = request.path_params["inbound_id"]
    form = await request.form()
    chosen = str(form.get("item", "")).strip()
    try:
        if not chosen.isascii() or not chosen.isdigit():
            raise ValidationError("pick an item", field="item")
        await asyncio.to_thread(
            tracker.apply_held_to_item,
            who.reader,
            inbound_id,
            parse_row_id(chosen, "item"),
            client=client_of(request),
        )
    except ValidationError as exc:
        # Nothing was recorded: the same page, with why.
        reply = await asyncio.to_thread(
            tracker.held_reply, who.reader, inbound_id, client=client_of(request)
        )
        error = f"cannot_apply_{exc.field}" if exc.field in APPLY_ERRORS else "cannot_apply"
        return render(request, who, "held.html", 409, reply=reply, error=error)
    return RedirectResponse("/held?done=applied", status_code=303)


async def dismiss(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    form = await request.form()
    await asyncio.to_thread(
        tracker_of(request).dismiss_held,
        who.reader,
        request.path_params["inbound_id"],
        reason=str(form.get("reason", "")),
        client=client_of(request),
    )
    return RedirectResponse("/held?done=dismissed", status_code=303)


DONE = ("released", "applied", "dismissed")
APPLY_ERRORS = ("item", "sender", "empty")  # else: the rules refused the change

ROUTES: list[Route] = [
    page("/held", held_list, access=Access.READER),
    page("/held/{inbound_id:int}", held_reply, access=Access.READER),
    page("/held/{inbound_id:int}/release", release, access=Access.READER, methods=("POST",)),
    page("/held/{inbound_id:int}/apply", apply_to_item, access=Access.READER, methods=("POST",)),
    page("/held/{inbound_id:int}/dismiss", dismiss, access=Access.READER, methods=("POST",)),
]
