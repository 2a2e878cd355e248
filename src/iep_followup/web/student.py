"""A student: strengths first, the team, every item with its history and the balance check;
small forms change an item (reassign, reschedule, close, drop, open a closed one again: each
with a reason) or a member (their address works again, away until)."""

from __future__ import annotations

import asyncio
from datetime import date
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.desk import ItemAction, ItemChange, MemberAction, MemberChange, OwnerReport
from iep_followup.domain import PeriodOutcome, parse_row_id
from iep_followup.errors import ValidationError
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of

DONE = {*ItemChange, *MemberChange, "recorded", "recorded_kept", "for_owner"}


async def student(request: Request, who: Visitor) -> Response:
    done = request.query_params.get("done")
    return await _page(request, who, 200, done=done if done in DONE else None)


async def _page(request: Request, who: Visitor, status: int, **context: object) -> Response:
    assert who.reader is not None
    found = await asyncio.to_thread(
        tracker_of(request).desk_student,
        who.reader,
        request.path_params["external_id"],
        client=client_of(request),
    )
    # What the digest says about the student, in plain sight (same functions as the digest).
    attention = await asyncio.to_thread(
        tracker_of(request).desk_attention, who.reader, request.path_params["external_id"]
    )
    context = {"done": None, "error": None, "error_on": None, **context}
    return render(
        request,
        who,
        "student.html",
        status,
        page=found,
        student=found.status,
        attention=attention,
        **context,
    )


def _date(form: FormData, name: str) -> date | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("write the date as YYYY-MM-DD", field=name) from None


def _int(form: FormData, name: str) -> int | None:
    text = str(form.get(name, "")).strip()
    return parse_row_id(text, name) if text else None


async def _change_item(request: Request, who: Visitor, change: ItemChange) -> Response:
    assert who.reader is not None
    form = await request.form()
    external_id = request.path_params["external_id"]
    item_id = request.path_params["item_id"]
    try:
        if change is ItemChange.CLOSE and form.get("outcome") == "dropped":
            change = ItemChange.DROP
        action = ItemAction(
            change, str(form.get("reason", "")), _int(form, "owner"), _date(form, "due_on")
        )
        await asyncio.to_thread(
            tracker_of(request).desk_change_item,
            who.reader,
            external_id,
            item_id,
            action,
            client=client_of(request),
        )
    except ValidationError as exc:
        return await _page(request, who, 400, error=exc.field or "change", error_on=item_id)
    return _done(external_id, change.value, f"item-{item_id}")


async def record_for_owner(request: Request, who: Visitor) -> Response:
    """What the item's owner told the case manager, recorded as their update (channel: desk)."""
    assert who.reader is not None
    form = await request.form()
    external_id = request.path_params["external_id"]
    item_id = request.path_params["item_id"]
    period = str(form.get("period", ""))
    try:
        report = OwnerReport(
            period=PeriodOutcome(period) if period in set(PeriodOutcome) else None,
            minutes=_int(form, "minutes"),
            percent=_int(form, "percent"),
            done=form.get("done") == "1",
            due_on=_date(form, "due_on"),
            note=str(form.get("note", "")),
            unblock=form.get("unblock") == "1",
        )
        await asyncio.to_thread(
            tracker_of(request).desk_record_for_owner,
            who.reader,
            external_id,
            item_id,
            report,
            client=client_of(request),
        )
    except ValidationError as exc:
        return await _page(request, who, 400, error=exc.field or "change", error_on=item_id)
    return _done(external_id, "for_owner", f"item-{item_id}")


async def _change_member(request: Request, who: Visitor, change: MemberChange) -> Response:
    assert who.reader is not None
    form = await request.form()
    external_id = request.path_params["external_id"]
    try:
        away = _date(form, "away_until") if change is MemberChange.AWAY else None
        await asyncio.to_thread(
            tracker_of(request).desk_change_member,
            who.reader,
            external_id,
            request.path_params["person_id"],
            MemberAction(change, away),
            client=client_of(request),
        )
    except ValidationError as exc:
        return await _page(request, who, 400, error=exc.field or "change", error_on=None)
    return _done(external_id, change.value, "team")


def _done(external_id: str, done: str, anchor: str) -> Response:
    return RedirectResponse(
        f"/students/{quote(external_id, safe='')}?done={done}#{anchor}", status_code=303
    )


async def reassign(request: Request, who: Visitor) -> Response:
    return await _change_item(request, who, ItemChange.REASSIGN)


async def reschedule(request: Request, who: Visitor) -> Response:
    return await _change_item(request, who, ItemChange.RESCHEDULE)


async def close(request: Request, who: Visitor) -> Response:
    """Done, or dropped (the form's `outcome`): either way with the reason."""
    return await _change_item(request, who, ItemChange.CLOSE)


async def reopen(request: Request, who: Visitor) -> Response:
    """A done or dropped item under way again, with the reason."""
    return await _change_item(request, who, ItemChange.REOPEN)


async def clear_failing(request: Request, who: Visitor) -> Response:
    return await _change_member(request, who, MemberChange.CLEAR_FAILING)


async def away(request: Request, who: Visitor) -> Response:
    return await _change_member(request, who, MemberChange.AWAY)


ITEM = "/students/{external_id}/items/{item_id:int}"
MEMBER = "/students/{external_id}/team/{person_id:int}"
POST = ("POST",)

ROUTES: list[Route] = [
    page("/students/{external_id}", student, access=Access.READER),
    page(ITEM + "/reassign", reassign, access=Access.READER, methods=POST),
    page(ITEM + "/reschedule", reschedule, access=Access.READER, methods=POST),
    page(ITEM + "/close", close, access=Access.READER, methods=POST),
    page(ITEM + "/reopen", reopen, access=Access.READER, methods=POST),
    page(ITEM + "/record", record_for_owner, access=Access.READER, methods=POST),
    page(MEMBER + "/clear-failing", clear_failing, access=Access.READER, methods=POST),
    page(MEMBER + "/away", away, access=Access.READER, methods=POST),
]
