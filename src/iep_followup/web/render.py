"""Rendering a page: the template in the reader's language, with what every page needs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from iep_followup.web.i18n import environment, pick_language
from iep_followup.web.security import LANGUAGE_COOKIE, Visitor, tracker_of


def language_of(request: Request) -> str:
    return pick_language(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def render(
    request: Request, who: Visitor, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    env = environment(language_of(request), tracker_of(request).settings.timezone)
    html = env.get_template(template).render(
        reader=who.reader, csrf=who.csrf, path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status_code)
