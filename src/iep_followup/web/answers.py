"""One-tap answer links: the page a request's button opens, no sign-in, in the owner's language.

GET only shows the form (mail scanners open every link first); the POST records, once per
form. Tokens never reach a log: the server writes no access log, and nothing here logs.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from iep_followup import AnswerOutcome, AnswerPage
from iep_followup.domain import MAX_MINUTES, MAX_NOTE, MissReason, parse_whole_number
from iep_followup.errors import ValidationError
from iep_followup.vocabulary import ANSWER_LABELS
from iep_followup.web.i18n import LANGUAGES, environment
from iep_followup.web.render import language_of
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of

REFUSED_STATUS = {"too_many": 429, "closed": 409}


def _render(
    request: Request,
    who: Visitor,
    language: str,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    env = environment(
        language if language in LANGUAGES else "en", tracker_of(request).settings.timezone
    )
    html = env.get_template(template).render(
        csrf=who.csrf, labels=ANSWER_LABELS, path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status_code)


def _refused(request: Request, who: Visitor, state: str, owner_language: str = "") -> HTMLResponse:
    # Nothing about the item or the child: the link may not be the visitor's. A closed item's
    # link is good (checked like any other): its page is in its owner's language.
    return _render(
        request,
        who,
        owner_language if state == "closed" and owner_language else language_of(request),
        "answer_refused.html",
        REFUSED_STATUS.get(state, 400),
        state=state,
    )


def _form(
    request: Request,
    who: Visitor,
    found: AnswerPage,
    *,
    choice: str | None,
    nonce: str,
    note: str = "",
    new_date: str = "",
    minutes: str = "",
    error: str | None = None,
) -> HTMLResponse:
    return _render(
        request,
        who,
        found.language,
        "answer.html",
        400 if error else 200,
        page=found,
        choice=choice,
        token=request.path_params["token"],
        nonce=nonce,
        note=note,
        new_date=new_date,
        minutes=minutes,
        max_minutes=MAX_MINUTES,
        miss_reasons=[reason.value for reason in MissReason],
        error=error,
    )


async def answer_form(request: Request, who: Visitor) -> Response:
    found = await asyncio.to_thread(tracker_of(request).answer_page, request.path_params["token"])
    if found.state != "ok":
        return _refused(request, who, found.state, found.language)
    wanted = request.query_params.get("choice")
    chosen = next((a for a in found.choices if a.choice == wanted), None)
    # A fresh nonce for each form shown: sending this form twice records it once.
    return _form(
        request,
        who,
        found,
        choice=chosen.choice if chosen else None,
        nonce=secrets.token_urlsafe(18),
    )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationError("not a date", field="new_date") from None


def _minutes(value: str) -> int | None:
    """A whole number as typed, or None when left empty; its bounds are the domain's."""
    if not value:
        return None
    return parse_whole_number(value, "minutes")


async def record(request: Request, who: Visitor) -> Response:
    token = request.path_params["token"]
    form = await request.form()
    choice, note = str(form.get("choice", ""))[:32], str(form.get("note", ""))[: MAX_NOTE + 1]
    new_date, nonce = str(form.get("new_date", "")).strip()[:32], str(form.get("nonce", ""))[:64]
    minutes = str(form.get("minutes", "")).strip()[:8]
    missed = str(form.get("missed", "")).strip()[:32] or None
    tracker = tracker_of(request)
    try:
        outcome: AnswerOutcome = await asyncio.to_thread(
            tracker.record_answer,
            token,
            choice,
            note=note,
            new_date=_date(new_date),
            minutes=_minutes(minutes),
            nonce=nonce,
            client=client_of(request),
            missed=missed,
        )
    except ValidationError as exc:
        found = await asyncio.to_thread(tracker.answer_page, token)
        if found.state != "ok":
            return _refused(request, who, found.state, found.language)
        # Nothing was recorded: the same form again, with what they wrote and what to fix.
        return _form(
            request,
            who,
            found,
            choice=choice if any(a.choice == choice for a in found.choices) else None,
            nonce=nonce,
            note=note,
            new_date=new_date,
            minutes=minutes,
            error=exc.field or "choice",
        )
    if outcome.state not in ("recorded", "already"):
        return _refused(request, who, outcome.state, outcome.page.language)
    return _render(
        request, who, outcome.page.language, "answer_done.html", outcome=outcome, token=token
    )


ROUTES: list[Route] = [
    page("/answer/{token}", answer_form, access=Access.PUBLIC),
    page("/answer/{token}", record, access=Access.PUBLIC, methods=("POST",)),
]
