"""Record a meeting field by field: a plain form, checked, then saved and the summaries sent.

No script: "Add another ..." posts the form and it comes back with one more row, every value
kept. "Check" reads the form exactly as a meeting file is read (meetingform turns the fields
into one; meetingfile holds the rules) and shows the first problem by its field, the balance
check, the missing translations and each member's summary email; "Save and send the
summaries" records it as the paste path does. "Edit this meeting" opens the student's latest
meeting in the same form: saving brings it up to date as a re-import does.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.domain import (
    SUPPORTED_LANGUAGES,
    Cadence,
    ItemKind,
    MeetingKind,
    Relationship,
    Role,
)
from iep_followup.errors import MeetingFileError, NotYourMeetingError, ValidationError
from iep_followup.meetingform import (
    Converted,
    counts,
    field_for,
    from_record,
    readers_languages,
    to_data,
    with_row_added,
)
from iep_followup.vocabulary import CADENCE_LABELS, RELATIONSHIP_LABELS, ROLE_LABELS
from iep_followup.web.i18n import LANGUAGE_WORDS
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of

SOURCE = "form"
KIND_LABELS = {
    MeetingKind.INITIAL: "Initial",
    MeetingKind.ANNUAL_REVIEW: "Annual review",
    MeetingKind.AMENDMENT: "Amendment",
    MeetingKind.RE_EVALUATION: "Re-evaluation",
}
# Gettext message ids: a language named in the reader's language ("inglés" at the Spanish desk).
ITEM_KIND_LABELS = {ItemKind.TASK: "A task", ItemKind.ROUTINE: "A routine, kept each period"}


async def blank_form(request: Request, who: Visitor) -> Response:
    return _form(request, who, {}, amends=False)


async def edit_form(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    record = await asyncio.to_thread(
        tracker_of(request).desk_latest_meeting, who.reader, request.path_params["external_id"]
    )
    return _form(request, who, from_record(record), amends=True)


async def posted(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    action = fields.pop("action", "check")
    amends = fields.get("amends") == "yes"
    if action.startswith("add-"):
        return _form(request, who, with_row_added(fields, action), amends=amends)
    converted = to_data(fields)
    tracker = tracker_of(request)
    try:
        if action != "save":
            found = await asyncio.to_thread(
                tracker.desk_preview_meeting, who.reader, converted.yaml_text(), source=SOURCE
            )
            return _form(request, who, fields, amends=amends, preview=found)
        done = await asyncio.to_thread(
            tracker.desk_record_meeting,
            who.reader,
            converted.yaml_text(),
            client=client_of(request),
            source=SOURCE,
        )
    except (MeetingFileError, ValidationError, NotYourMeetingError) as exc:
        status = 403 if isinstance(exc, NotYourMeetingError) else 400
        problem = _problem(exc, converted)
        return _form(request, who, fields, status, amends=amends, problem=problem)
    where = quote(done.student_external_id, safe="")
    # Someone on another caseload's team kept their details: the page says so.
    done_as = "recorded_kept" if done.kept else "recorded"
    return RedirectResponse(f"/students/{where}?done={done_as}", status_code=303)


def _problem(exc: Exception, converted: Converted) -> dict[str, Any]:
    """What the page says, and the form field it is about (linked from the error summary)."""
    if isinstance(exc, NotYourMeetingError):
        return {"kind": "not_yours", "field": None, "text": ""}
    path = exc.field if isinstance(exc, MeetingFileError) else None
    text = exc.problem if isinstance(exc, MeetingFileError) else str(exc)
    return {"kind": None, "field": field_for(path, converted), "path": path, "text": text}


def _form(
    request: Request,
    who: Visitor,
    fields: dict[str, str],
    status: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("problem", None)
    context.setdefault("preview", None)
    return render(
        request,
        who,
        "meeting_form.html",
        status,
        fields=fields,
        rows=counts(fields),
        versions=readers_languages(fields),
        readers=_readers(fields),
        language_words=LANGUAGE_WORDS,
        language_options=[(code, LANGUAGE_WORDS[code]) for code in SUPPORTED_LANGUAGES],
        roles=[(r.value, ROLE_LABELS[r]) for r in Role],
        relationships=[(r.value, RELATIONSHIP_LABELS[r]) for r in Relationship],
        kinds=[(k.value, KIND_LABELS[k]) for k in MeetingKind],
        cadences=[(c.value, CADENCE_LABELS[c]) for c in Cadence],
        # An accommodation's check-ins come from `accommodations:`, never from an action row.
        item_kinds=[(k.value, ITEM_KIND_LABELS[k]) for k in ItemKind if k in ITEM_KIND_LABELS],
        **context,
    )


def _readers(fields: dict[str, str]) -> dict[str, list[str]]:
    """Language -> the names of the members who read it (named beside each version's box)."""
    found: dict[str, list[str]] = {}
    for i in range(counts(fields)["members"]):
        name = fields.get(f"member-{i}-name", "").strip()
        if name:
            found.setdefault(fields.get(f"member-{i}-language") or "en", []).append(name)
    return found


ROUTES: list[Route] = [
    page("/meetings/form", blank_form, access=Access.READER),
    page("/meetings/form", posted, access=Access.READER, methods=("POST",)),
    page("/students/{external_id}/meeting", edit_form, access=Access.READER),
]
