"""A child's record, for progress reports and due process: a CSV and a print-ready page.

Only for the child's case manager or an administrator (anyone else: not found). Reading only.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from iep_followup.desk import RECORD_COLUMNS, record_rows, spreadsheet_safe
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of


async def record_csv(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    tracker = tracker_of(request)
    found = await asyncio.to_thread(
        tracker.desk_record,
        who.reader,
        request.path_params["external_id"],
        client=client_of(request),
        csv=True,
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECORD_COLUMNS)
    for row in record_rows(found, ZoneInfo(tracker.settings.timezone)):
        writer.writerow([spreadsheet_safe(value) for value in row])
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", found.page.status.external_id)
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM: spreadsheets then read the accents right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="record-{name}.csv"'},
    )


async def record_page(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    found = await asyncio.to_thread(
        tracker_of(request).desk_record,
        who.reader,
        request.path_params["external_id"],
        client=client_of(request),
    )
    return render(
        request, who, "record.html", page=found.page, student=found.page.status, mail=found.mail
    )


ROUTES: list[Route] = [
    page("/students/{external_id}/record", record_page, access=Access.READER),
    page("/students/{external_id}/record.csv", record_csv, access=Access.READER),
]
