"""Rendering emails: Jinja2 templates (subject, text, HTML) in the recipient's language, with Babel formats."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_percent
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import Markup

from iep_followup.catalogs import load_translations
from iep_followup.domain import (
    Cadence,
    ItemStatus,
    MissReason,
    PeriodOutcome,
    Relationship,
    Role,
)
from iep_followup.errors import ConfigError
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.labels import (
    CADENCE_LABELS,
    MISS_LABELS,
    PERIOD_LABELS,
    RELATIONSHIP_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    WRITTEN_IN_LABELS,
)
from iep_followup.markers import REPLY_MARKERS
from iep_followup.resources import templates_dir

LOCALES = {"en": "en_US", "es": "es_US"}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class Renderer:
    """Renders every kind of email. A district's own template folder wins; ours fills the gaps."""

    def __init__(self, override: Path | None = None) -> None:
        if override is not None and not override.is_dir():
            raise ConfigError(f"IEP_FOLLOWUP_TEMPLATES_DIR: {override} is not a folder")
        self.folders = tuple(p for p in (override, templates_dir()) if p is not None)
        self._environments: dict[str, Environment] = {}

    def render(self, kind: MailKind, language: str, context: Mapping[str, Any]) -> RenderedEmail:
        env = self._environment(language)
        values = {
            **context,
            "language": language,
            "marker": REPLY_MARKERS.get(language, REPLY_MARKERS["en"]),
        }
        try:
            subject = env.get_template(f"{kind.value}/subject.txt").render(values)
            text = env.get_template(f"{kind.value}/body.txt").render(values)
            html = env.get_template(f"{kind.value}/body.html").render(values)
        except (TemplateError, TypeError, ValueError, LookupError, AttributeError) as exc:
            # A district's own template can fail in many ways; say which one, never crash a job.
            raise ConfigError(
                f"email template {kind.value} ({language}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        # A subject is one line, whatever a template or a student's name contains.
        return RenderedEmail(" ".join(subject.split()), text.strip() + "\n", html)

    def _environment(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = self._build(language)
        return self._environments[language]

    def _build(self, language: str) -> Environment:
        env = _Environment(
            loader=FileSystemLoader([str(f) for f in self.folders]),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.i18n"],
            # Templates are read once per process (a restart picks up edits): checking each
            # file's mtime on every email costs a tenth of the rendering time.
            auto_reload=False,
        )
        translations = load_translations(language, self.folders)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(_newstyle_gettext(translations))
        env.filters.update(_Filters(LOCALES.get(language, "en_US"), translations).as_dict())
        return env


def _newstyle_gettext(translations: gettext.NullTranslations) -> dict[str, Any]:
    """Jinja2's newstyle gettext, called directly.

    The same behaviour as the i18n extension's (translate, mark safe when autoescaping, then
    always %-format with the keyword arguments), but `_()` is one call where the extension
    makes three through the template context: a request email makes fifty of them.
    """

    @pass_eval_context
    def gettext_(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        text = translations.gettext(string)
        # The catalog's text is ours; Markup's % escapes the variables, as jinja2 does.
        return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704

    @pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text = translations.ngettext(singular, plural, num)
        # The catalog's text is ours; Markup's % escapes the variables, as jinja2 does.
        return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704

    return {"_": gettext_, "gettext": gettext_, "ngettext": ngettext}


class _Environment(Environment):
    """Our contexts are plain dicts: `item.title` looks the key up first.

    Jinja tries the attribute first and falls back to the key only after an AttributeError;
    with thousands of lookups per digest, raising them was a third of the rendering time.
    (A key now wins over a dict method of the same name, which is what a template means.)
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class _Filters:
    """Locale-aware formatting used by the templates.

    Babel formats are memoised: a digest shows hundreds of dates and percentages, mostly
    the same few, and Babel re-reads its pattern and locale data on every call.
    """

    def __init__(self, locale: str, translations: gettext.NullTranslations) -> None:
        self.locale = Locale.parse(locale)
        self._ = translations.gettext
        self._date = lru_cache(maxsize=4096)(self._format_date)
        self._percent = lru_cache(maxsize=512)(self._format_percent)

    @cached_property
    def _short(self) -> str:
        return "MMM d" if self.locale.language == "en" else "d MMM"

    def _format_date(self, value: date, style: str) -> str:
        if style == "short":
            return format_date(value, self._short, locale=self.locale)
        if style == "weekday":
            return format_date(
                value,
                "EEEE, MMMM d" if self.locale.language == "en" else "EEEE d 'de' MMMM",
                locale=self.locale,
            )
        return format_date(value, "long", locale=self.locale)

    def date(self, value: date, style: str = "long") -> str:
        return self._date(value, style)

    def datetime(self, value: datetime, timezone: str) -> str:
        return format_datetime(value, "medium", tzinfo=ZoneInfo(timezone), locale=self.locale)

    def percent(self, value: int) -> str:
        return self._percent(value)

    def _format_percent(self, value: int) -> str:
        return format_percent(value / 100, locale=self.locale)

    def role(self, value: Role) -> str:
        return self._(ROLE_LABELS[Role(value)])

    def status(self, value: ItemStatus) -> str:
        return self._(STATUS_LABELS[ItemStatus(value)])

    def period(self, value: PeriodOutcome) -> str:
        return self._(PERIOD_LABELS[PeriodOutcome(value)])

    def missed(self, value: MissReason) -> str:
        return self._(MISS_LABELS[MissReason(value)])

    def cadence(self, value: Cadence) -> str:
        return self._(CADENCE_LABELS[Cadence(value)])

    def relationship(self, value: Relationship) -> str:
        return self._(RELATIONSHIP_LABELS[Relationship(value)])

    def written_in(self, language: str) -> str:
        return self._(WRITTEN_IN_LABELS.get(language, WRITTEN_IN_LABELS["en"]))

    @staticmethod
    def first_name(name: str) -> str:
        """Greetings use the first name, as a school's family liaison writes them."""
        return name.split(maxsplit=1)[0] if name.split() else name

    def translate(self, message_id: str) -> str:
        return self._(message_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "datetime": self.datetime,
            "percent": self.percent,
            "role": self.role,
            "status": self.status,
            "period": self.period,
            "missed": self.missed,
            "cadence": self.cadence,
            "relationship": self.relationship,
            "written_in": self.written_in,
            "first_name": self.first_name,
            "translate": self.translate,
        }
