"""The desk's templates in the reader's language: its own catalog, then the emails' (same vocabulary)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from iep_followup.catalogs import load_translations
from iep_followup.domain import ItemStatus, MissReason, PeriodOutcome, Role, UpdateSource
from iep_followup.resources import templates_dir
from iep_followup.vocabulary import (
    MISS_LABELS,
    PERIOD_LABELS,
    ROLE_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
)

HERE = Path(__file__).parent
LANGUAGES = ("en", "es")
LOCALES = {"en": "en_US", "es": "es_US"}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
# A language named in the reader's own language (a msgid of the desk's catalog).
LANGUAGE_WORDS = {"en": "English", "es": "Spanish"}


def pick_language(cookie: str | None, accept: str | None) -> str:
    """The reader's choice (cookie), else the browser's first language we have, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


@cache
def environment(language: str, timezone: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    translations = load_translations(language, (HERE, templates_dir()))
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    locale = LOCALES[language]
    zone = ZoneInfo(timezone)

    def day(value: date) -> str:
        return format_date(value, "medium", locale=locale)

    def short(value: date) -> str:
        """A day as the emails write it ("Dec 7" / "7 dic"): the digest's lines read the same."""
        return format_date(value, "MMM d" if language == "en" else "d MMM", locale=locale)

    def moment(value: datetime) -> str:
        return format_datetime(value, "medium", tzinfo=zone, locale=locale)

    def status(value: ItemStatus) -> str:
        return translations.gettext(STATUS_LABELS[ItemStatus(value)])

    def role(value: Role) -> str:
        return translations.gettext(ROLE_LABELS[Role(value)])

    def period(value: PeriodOutcome) -> str:
        return translations.gettext(PERIOD_LABELS[PeriodOutcome(value)])

    def missed(value: MissReason) -> str:
        return translations.gettext(MISS_LABELS[MissReason(value)])

    def channel(value: UpdateSource) -> str:
        return translations.gettext(SOURCE_LABELS[UpdateSource(value)])

    filters: dict[str, Any] = {
        "day": day,
        "short": short,
        "moment": moment,
        "status": status,
        "role": role,
        "period": period,
        "missed": missed,
        "channel": channel,
    }
    env.filters.update(filters)
    env.globals.update(language=language, languages=LANGUAGE_NAMES)
    return env
