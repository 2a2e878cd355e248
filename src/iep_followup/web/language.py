"""The reader's language, chosen on any page and remembered in a cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.web.i18n import LANGUAGES
from iep_followup.web.security import LANGUAGE_COOKIE, Access, Visitor, page, set_cookie


def local_path(value: str) -> str:
    """Only a path on this site: never an open redirect to another one."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def choose_language(request: Request, who: Visitor) -> Response:
    form = await request.form()
    language = str(form.get("language", ""))
    response = RedirectResponse(local_path(str(form.get("next", "/"))), status_code=303)
    if language in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, language, 365 * 24 * 3600)
    return response


ROUTES: list[Route] = [page("/language", choose_language, access=Access.PUBLIC, methods=("POST",))]
