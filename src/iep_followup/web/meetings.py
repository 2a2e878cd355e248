"""Record a meeting: paste or upload a meeting file, read the preview, then save and send the summaries.

The file is read exactly as `iep-followup import` reads it (one error, with its line); the preview
shows the student, team, items and the balance check. Only the meeting's case manager (or an
administrator) may record it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.errors import MeetingFileError, NotYourMeetingError, ValidationError
from iep_followup.meetingfile import MAX_FILE_BYTES
from iep_followup.web.i18n import LANGUAGE_WORDS
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of

SOURCE = "meeting.yaml"


class _UnreadableError(Exception):
    """An upload that is too big or not UTF-8 text."""


async def new_meeting(request: Request, who: Visitor) -> Response:
    return render(request, who, "meeting_new.html", text="", problem=None)


async def _text(form: FormData) -> tuple[str, str]:
    """The meeting file's text and name: the upload when one was chosen, else the pasted text."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise _UnreadableError("too_big")
        try:
            return raw.decode("utf-8-sig"), upload.filename[:100]
        except UnicodeDecodeError:
            raise _UnreadableError("not_text") from None
    return str(form.get("meeting", "")), SOURCE


def _problem(exc: Exception) -> dict[str, object]:
    """What the page says: a kind it words itself, or the file's line, field and problem."""
    problem: dict[str, object] = {"kind": None, "line": None, "field": None, "text": str(exc)}
    if isinstance(exc, MeetingFileError):
        problem.update(line=exc.line, field=exc.field, text=exc.problem)
    elif isinstance(exc, _UnreadableError):
        problem["kind"] = str(exc)
    elif isinstance(exc, NotYourMeetingError):
        problem["kind"] = "not_yours"
    return problem


async def preview(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    form = await request.form()
    text = ""
    try:
        text, source = await _text(form)
        found = await asyncio.to_thread(
            tracker_of(request).desk_preview_meeting, who.reader, text, source=source
        )
    except (MeetingFileError, ValidationError, NotYourMeetingError, _UnreadableError) as exc:
        status = 403 if isinstance(exc, NotYourMeetingError) else 400
        return render(request, who, "meeting_new.html", status, text=text, problem=_problem(exc))
    return render(
        request,
        who,
        "meeting_preview.html",
        preview=found,
        text=text,
        language_words=LANGUAGE_WORDS,
    )


async def record(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    form = await request.form()
    text = str(form.get("meeting", ""))
    try:
        done = await asyncio.to_thread(
            tracker_of(request).desk_record_meeting,
            who.reader,
            text,
            client=client_of(request),
        )
    except (MeetingFileError, ValidationError, NotYourMeetingError) as exc:
        status = 403 if isinstance(exc, NotYourMeetingError) else 400
        return render(request, who, "meeting_new.html", status, text=text, problem=_problem(exc))
    where = quote(done.student_external_id, safe="")
    # Someone on another caseload's team kept their details: the page says so.
    done_as = "recorded_kept" if done.kept else "recorded"
    return RedirectResponse(f"/students/{where}?done={done_as}", status_code=303)


ROUTES: list[Route] = [
    page("/meetings/new", new_meeting, access=Access.READER),
    page("/meetings/preview", preview, access=Access.READER, methods=("POST",)),
    page("/meetings", record, access=Access.READER, methods=("POST",)),
]
