"""The IEP domain: enums and frozen, self-validating value objects.

Nothing here does I/O; everything that enters the library is checked here once.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError

from iep_followup.addresses import canonical_address
from iep_followup.errors import ItemClosedError, ValidationError

SUPPORTED_LANGUAGES = ("en", "es")

# What the library stores, at most, in characters: one set of limits for every database.
# store/models.py sizes its columns from these, so SQLite (which does not enforce a length)
# and PostgreSQL (which does) accept exactly the same data.
MAX_EXTERNAL_ID = 64
MAX_NAME = 200  # a student's or a person's name
MAX_SCHOOL = 200
MAX_GRADE = 32  # "7", "K", "Pre-K", "12 (transition)": a program belongs in the notes
MAX_EMAIL = 320
MAX_LANGUAGE = 8
MAX_TIMEZONE = 64  # IANA names are at most about 30
MAX_KEY = 64  # the ids of concerns and action items
MAX_TITLE = 300
MAX_TEXT = 500  # a strength or a concern
MAX_NOTE = 4000  # an update's note
MAX_MEETING_NOTES = 20_000

# Never stored: C0 controls other than tab and line breaks, DEL (PostgreSQL refuses NUL;
# the others rewrite a terminal), and lone surrogates (no UTF-8 form). One-line texts also
# refuse C1 controls; notes keep them, as mail decoded with the wrong charset holds some.
_NOT_IN_NOTES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_NOT_IN_LINES = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Explicit bidi formatting (embeddings, overrides, isolates) reorders the text around it: a
# name with U+202E reads backwards on every page and in every email, and can pass for another.
# One-line fields (names, schools, ids) refuse all of it. Longer texts (titles, strengths,
# concerns) may quote a right-to-left phrase in an embedding or an isolate, which only sets
# direction, but never an override, which reverses the characters themselves. The marks
# (U+200E, U+200F, U+061C) only steer their neighbours and stay everywhere.
_BIDI_FORMATTING = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BIDI_OVERRIDES = re.compile("[\u202d\u202e]")
# In a one-line field (a name, a school, an id) a line break is refused, not folded away.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Invisible characters make two ids that look the same differ (a student recorded twice).
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)

E = TypeVar("E", bound=enum.StrEnum)


class Role(enum.StrEnum):
    CASE_MANAGER = "case_manager"
    CLASSROOM_TEACHER = "classroom_teacher"
    SPECIAL_EDUCATION_TEACHER = "special_education_teacher"
    SCHOOL_PSYCHOLOGIST = "school_psychologist"
    SPEECH_LANGUAGE_PATHOLOGIST = "speech_language_pathologist"
    OCCUPATIONAL_THERAPIST = "occupational_therapist"
    PHYSICAL_THERAPIST = "physical_therapist"
    PARENT = "parent"
    GUARDIAN = "guardian"
    ADVOCATE = "advocate"
    NOTE_TAKER = "note_taker"
    ADMINISTRATOR = "administrator"
    STUDENT = "student"
    OTHER = "other"

    @property
    def is_family(self) -> bool:
        """Family, not school staff: they get plain-language help and never see staff business."""
        return self in FAMILY_ROLES


# The one definition of "family": the child's parents or guardians, and the child when they
# sit on their own team (older students do). An advocate knows the process; staff know the jargon.
FAMILY_ROLES = frozenset({Role.PARENT, Role.GUARDIAN, Role.STUDENT})


class Relationship(enum.StrEnum):
    """How a family member is related to the child, as the team recorded it."""

    MOTHER = "mother"
    FATHER = "father"
    STEPMOTHER = "stepmother"
    STEPFATHER = "stepfather"
    GRANDMOTHER = "grandmother"
    GRANDFATHER = "grandfather"
    AUNT = "aunt"
    UNCLE = "uncle"
    SISTER = "sister"
    BROTHER = "brother"
    FOSTER_PARENT = "foster_parent"
    GUARDIAN = "guardian"


class MeetingKind(enum.StrEnum):
    INITIAL = "initial"
    ANNUAL_REVIEW = "annual_review"
    AMENDMENT = "amendment"
    RE_EVALUATION = "re_evaluation"


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    EVERY_TWO_WEEKS = "every_two_weeks"
    MONTHLY = "monthly"
    NONE = "none"

    @property
    def interval(self) -> timedelta | None:
        """How long after the last check-in an item is due for the next one."""
        return _CADENCE_INTERVALS[self]


_CADENCE_INTERVALS: dict[Cadence, timedelta | None] = {
    Cadence.WEEKLY: timedelta(days=7),
    Cadence.EVERY_TWO_WEEKS: timedelta(days=14),
    # A school month: four weeks keeps the check-in on the same weekday.
    Cadence.MONTHLY: timedelta(days=28),
    Cadence.NONE: None,
}


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_closed(self) -> bool:
        return self in (ItemStatus.DONE, ItemStatus.DROPPED)


OPEN_STATUSES = frozenset(s for s in ItemStatus if not s.is_closed)


class ItemKind(enum.StrEnum):
    """A task has one outcome; a routine is a duty kept each period until its end date."""

    TASK = "task"
    ROUTINE = "routine"
    # One implementer's weekly check-in on one accommodation: used this week, or not, or it
    # did not come up. Recorded like a routine's periods; made from `accommodations:`.
    ACCOMMODATION = "accommodation"

    @property
    def has_periods(self) -> bool:
        """Kept each period until its end date: never closed by "done"."""
        return self is not ItemKind.TASK


class PeriodOutcome(enum.StrEnum):
    """A routine's check-in: did it happen this period?"""

    HAPPENED = "happened"  # yes
    PARTLY = "partly"
    MISSED = "missed"  # no (and why, in the note)
    NOT_APPLICABLE = "not_applicable"  # an accommodation that did not come up this period


MAX_MINUTES = 3000  # in one report, or promised in one week: 50 hours
MAX_SESSIONS = 14  # a service's sessions in one week: two a school day at most


class MissReason(enum.StrEnum):
    """Why a service's session did not happen."""

    STUDENT_ABSENT = "student_absent"
    PROVIDER_ABSENT = "provider_absent"
    SCHOOL_CLOSED = "school_closed"  # closed, or an event took the time
    OTHER = "other"

    @property
    def is_owed(self) -> bool:
        """Missed on the school's side: the minutes are owed as make-up (a student's absence
        is not)."""
        return self in (MissReason.PROVIDER_ABSENT, MissReason.SCHOOL_CLOSED)


def missed_minutes(
    minutes_per_week: int, sessions_per_week: int | None, sessions: int, given: int | None
) -> int:
    """The minutes a report of missed sessions says were lost: the sessions' length when the
    plan counts sessions, else what the week's report fell short of the promise (never more
    than a week's minutes)."""
    if sessions_per_week:
        lost = sessions * (minutes_per_week // sessions_per_week)
    else:
        lost = minutes_per_week - (given or 0)
    return max(0, min(lost, minutes_per_week))


def check_minutes(value: int, field_name: str = "minutes", *, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_MINUTES:
        raise ValidationError(
            f"{field_name.replace('_', ' ')} must be a whole number from {least} to "
            f"{MAX_MINUTES}, not {shown(value)}",
            field=field_name,
        )
    return value


class UpdateSource(enum.StrEnum):
    EMAIL = "email"
    CLI = "cli"
    API = "api"
    IMPORT = "import"
    WEB = "web"  # the case manager's desk
    WEB_LINK = "web_link"  # a one-tap answer link in a request (answers.py)


# The largest key SQLite's INTEGER and PostgreSQL's BIGINT hold: a typed number past it names
# nothing, and reaching a driver it raises (OverflowError, NumericValueOutOfRange) instead.
MAX_ROW_ID = 2**63 - 1


def parse_whole_number(
    value: object, field_name: str, *, least: int = 0, most: int = MAX_ROW_ID
) -> int:
    """A whole number as a person typed it (a form field, a path, a command's argument).

    Only ASCII digits (no sign, no "1e3", no "١٢"), checked against [least, most] before it goes
    near a database; anything else is a ValidationError naming the field.
    """
    text = str(value).strip()
    wanted = f"{field_name.replace('_', ' ')} must be a whole number from {least} to {most}"
    # The length first: int() of thousands of digits is slow (and refused past 4,300).
    if not text.isascii() or not text.isdigit() or len(text) > len(str(most)):
        raise ValidationError(f"{wanted}, not {shown(text)}", field=field_name)
    number = int(text)
    if not least <= number <= most:
        raise ValidationError(f"{wanted}, not {shown(text)}", field=field_name)
    return number


def parse_row_id(value: object, field_name: str) -> int:
    """The id of a stored row (an item, a person, a message) as typed: 1 to MAX_ROW_ID."""
    return parse_whole_number(value, field_name, least=1)


def shown(value: object, limit: int = 40) -> str:
    """A value quoted for an error message, cut short: a message stays one readable line."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(str(value))} characters)"


def parse_enum(kind: type[E], value: object, field_name: str) -> E:
    """Read an enum from user text, forgiving case, spaces and hyphens."""
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(
            f"unknown {field_name} {shown(value)}; use one of: {allowed}", field=field_name
        ) from None


def normalize_email(address: str, field_name: str = "email") -> str:
    """Return the address's key (Unicode, lowercased) after a syntax check; see addresses.py."""
    _check_length(address.strip(), field_name, MAX_EMAIL)
    try:
        return canonical_address(address)
    except EmailNotValidError as exc:
        raise ValidationError(
            f"{shown(address)} is not a valid email address ({exc})", field=field_name
        ) from None


def check_timezone(name: str, field_name: str = "timezone") -> str:
    try:
        _check_length(name, field_name, MAX_TIMEZONE)
        ZoneInfo(name)
    # OSError: the name is looked up as a file (too long for a file name, a folder, ...).
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(
            f"unknown time zone {shown(name)}; use an IANA name such as America/Chicago",
            field=field_name,
        ) from None
    return name


def check_language(code: str, field_name: str = "language") -> str:
    lang = code.strip().lower().replace("_", "-").split("-")[0]
    if lang not in SUPPORTED_LANGUAGES:
        raise ValidationError(
            f"language {shown(code)} is not supported yet; use one of: {', '.join(SUPPORTED_LANGUAGES)}",
            field=field_name,
        )
    return lang


def check_percent(value: int, field_name: str = "percent") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError(
            f"percent must be a whole number from 0 to 100, not {shown(value)}", field=field_name
        )
    return value


def check_text(
    value: str, field_name: str, *, max_length: int = MAX_TEXT, required: bool = True
) -> str:
    """One line of text as written, each run of whitespace made one space."""
    text = " ".join(str(value).split())
    if not text and required:
        raise ValidationError(f"{field_name} must not be empty", field=field_name)
    _check_length(text, field_name, max_length)
    _refuse(_NOT_IN_LINES, text, field_name, "a control character")
    _refuse(_BIDI_OVERRIDES, text, field_name, "a bidi override character")
    return text


def check_line(
    value: str, field_name: str, *, max_length: int = MAX_NAME, required: bool = True
) -> str:
    """A one-line field (a name, a school, a grade, an id) as written: a line break, a tab or
    any other control character in it is refused (not made a space), as is bidi formatting."""
    raw = str(value).strip()
    _refuse(_LINE_BREAKS, raw, field_name, "a line break")
    _refuse(_NOT_IN_LINES, raw, field_name, "a control character")
    _refuse(_BIDI_FORMATTING, raw, field_name, "a bidi formatting character")
    return check_text(raw, field_name, max_length=max_length, required=required)


def check_id(value: str, field_name: str, *, max_length: int = MAX_EXTERNAL_ID) -> str:
    """An identifier from another system, as written; nothing invisible in it, and nothing that
    would change the desk's address made of it (/students/<id>): no '/', '\\' or '..'."""
    _refuse(_INVISIBLE, str(value), field_name, "an invisible character")
    text = check_line(value, field_name, max_length=max_length)
    if "/" in text or "\\" in text or ".." in text or not text.strip("."):
        raise ValidationError(
            f"{field_name} {shown(text)} cannot hold '/', '\\' or '..': the desk's links are "
            "made of it",
            field=field_name,
        )
    return text


def check_note(value: str, field_name: str, *, max_length: int = MAX_NOTE) -> str:
    """Free text kept as written, line breaks included."""
    _check_length(value, field_name, max_length)
    _refuse(_NOT_IN_NOTES, value, field_name, "a control character")
    return value


def _check_length(text: str, field_name: str, max_length: int) -> None:
    if len(text) > max_length:
        raise ValidationError(
            f"{field_name} is longer than {max_length} characters (it has {len(text)}); shorten it",
            field=field_name,
        )


def _refuse(pattern: re.Pattern[str], text: str, field_name: str, what: str) -> None:
    found = pattern.search(text)
    if found:
        raise ValidationError(
            f"{field_name} contains {what} (U+{ord(found.group()):04X}); remove it",
            field=field_name,
        )


class Translations(Mapping[str, str]):
    """Versions of one free text in languages other than the one it was written in.

    A read-only, hashable mapping (language -> text), checked like the text itself.
    """

    __slots__ = ("_versions",)

    def __init__(
        self,
        versions: Mapping[str, str] | None = None,
        *,
        field_name: str = "text",
        max_length: int = MAX_TEXT,
        multiline: bool = False,
    ) -> None:
        checked: dict[str, str] = {}
        for language, text in (versions or {}).items():
            code = check_language(str(language), f"{field_name}.{language}")
            where = f"{field_name}.{code}"
            if multiline:
                value = check_note(str(text).strip(), where, max_length=max_length)
            else:
                value = check_text(str(text), where, max_length=max_length)
            if code in checked:
                raise ValidationError(f"{where} is given twice", field=where)
            checked[code] = value
        self._versions = dict(sorted(checked.items()))

    def __getitem__(self, language: str) -> str:
        return self._versions[language]

    def __iter__(self) -> Iterator[str]:
        return iter(self._versions)

    def __len__(self) -> int:
        return len(self._versions)

    def __hash__(self) -> int:
        return hash(tuple(self._versions.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._versions) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Translations({self._versions!r})"


NO_TRANSLATIONS = Translations()


def _translations(value: Mapping[str, str], field_name: str, max_length: int) -> Translations:
    if isinstance(value, Translations):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{field_name} versions must be a mapping of language to text, like {{es: ...}}",
            field=field_name,
        )
    return Translations(value, field_name=field_name, max_length=max_length)


def require_aware(moment: datetime, field_name: str = "now") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(f"{field_name} must be timezone-aware", field=field_name)
    return moment


@dataclass(frozen=True)
class StudentInfo:
    external_id: str
    name: str
    school: str = ""
    grade: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "external_id", check_id(self.external_id, "id"))
        object.__setattr__(self, "name", check_line(self.name, "name", max_length=MAX_NAME))
        school = check_line(self.school, "school", max_length=MAX_SCHOOL, required=False)
        object.__setattr__(self, "school", school)
        grade = check_line(self.grade, "grade", max_length=MAX_GRADE, required=False)
        object.__setattr__(self, "grade", grade)


@dataclass(frozen=True)
class MemberInfo:
    name: str
    email: str
    role: Role
    language: str = "en"
    timezone: str | None = None
    away_until: date | None = None
    relationship: Relationship | None = None  # to the child, for family members

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", check_line(self.name, "name", max_length=MAX_NAME))
        object.__setattr__(self, "email", normalize_email(self.email))
        object.__setattr__(self, "role", parse_enum(Role, self.role, "role"))
        object.__setattr__(self, "language", check_language(self.language))
        if self.timezone is not None:
            check_timezone(self.timezone)
        if self.relationship is not None:
            relationship = parse_enum(Relationship, self.relationship, "relationship")
            object.__setattr__(self, "relationship", relationship)


@dataclass(frozen=True)
class StrengthInfo:
    text: str
    said_by: str | None = None  # email of the member who said it
    translations: Mapping[str, str] = NO_TRANSLATIONS  # the text in other languages

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", check_text(self.text, "text"))
        translations = _translations(self.translations, "text", MAX_TEXT)
        object.__setattr__(self, "translations", translations)
        if self.said_by is not None:
            object.__setattr__(self, "said_by", normalize_email(self.said_by, "said_by"))


@dataclass(frozen=True)
class ItemInfo:
    """One action item as the meeting agreed it: one owner, a due date, a cadence."""

    key: str  # stable id chosen in the meeting file, so re-imports update instead of adding
    title: str
    owner: str  # email
    due_on: date
    cadence: Cadence = Cadence.WEEKLY
    service_minutes_per_week: int | None = None
    translations: Mapping[str, str] = NO_TRANSLATIONS  # the title in other languages
    kind: ItemKind = ItemKind.TASK  # a routine's due date is the day it ends
    accommodation: str | None = None  # an accommodation's check-in: that accommodation's id
    sessions_per_week: int | None = None  # a service's sessions: a missed one is their share

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _check_key(self.key))
        if self.sessions_per_week is not None:
            _check_sessions(self.sessions_per_week)
            if self.service_minutes_per_week is None or self.kind != ItemKind.ROUTINE:
                raise ValidationError(
                    "sessions_per_week is for a routine with minutes_per_week (a service)",
                    field="sessions_per_week",
                )
        if self.accommodation is not None:
            object.__setattr__(self, "accommodation", _check_key(self.accommodation))
        object.__setattr__(self, "kind", parse_enum(ItemKind, self.kind, "kind"))
        object.__setattr__(self, "title", check_text(self.title, "title", max_length=MAX_TITLE))
        translations = _translations(self.translations, "title", MAX_TITLE)
        object.__setattr__(self, "translations", translations)
        object.__setattr__(self, "owner", normalize_email(self.owner, "owner"))
        object.__setattr__(self, "cadence", parse_enum(Cadence, self.cadence, "cadence"))
        if not isinstance(self.due_on, date) or isinstance(self.due_on, datetime):
            raise ValidationError(
                f"due must be a date like 2027-01-15, not {shown(self.due_on)}", field="due"
            )
        if self.service_minutes_per_week is not None:
            check_minutes(self.service_minutes_per_week, "service_minutes_per_week", least=1)


@dataclass(frozen=True)
class ConcernInfo:
    key: str
    text: str
    raised_by: str | None = None
    items: tuple[ItemInfo, ...] = ()
    translations: Mapping[str, str] = NO_TRANSLATIONS  # the text in other languages

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _check_key(self.key))
        object.__setattr__(self, "text", check_text(self.text, "text"))
        translations = _translations(self.translations, "text", MAX_TEXT)
        object.__setattr__(self, "translations", translations)
        if self.raised_by is not None:
            object.__setattr__(self, "raised_by", normalize_email(self.raised_by, "raised_by"))
        object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True)
class AccommodationInfo:
    """A support applied in class ("extended time on tests"), by each of its implementers.

    Each implementer is asked in their weekly check-in whether they used it: yes, no (and
    why) or it did not come up. `concern` is the id of the concern it answers, if any.
    """

    key: str
    text: str
    implementers: tuple[str, ...]  # emails of team members, usually every teacher of the child
    concern: str | None = None
    translations: Mapping[str, str] = NO_TRANSLATIONS  # the text in other languages

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _check_key(self.key))
        object.__setattr__(self, "text", check_text(self.text, "text", max_length=MAX_TITLE))
        translations = _translations(self.translations, "text", MAX_TITLE)
        object.__setattr__(self, "translations", translations)
        if isinstance(self.implementers, str):
            object.__setattr__(self, "implementers", (self.implementers,))
        implementers = tuple(normalize_email(e, "implementers") for e in self.implementers)
        if not implementers:
            raise ValidationError(
                "an accommodation needs at least one implementer (a team member's email)",
                field="implementers",
            )
        object.__setattr__(self, "implementers", implementers)
        if self.concern is not None:
            object.__setattr__(self, "concern", _check_key(self.concern))


# An accommodation is asked about for the life of the plan: an IEP runs a year.
ACCOMMODATION_TERM = timedelta(days=365)


def accommodation_item_key(accommodation: str, implementer: str) -> str:
    """The stable id of one implementer's check-in on one accommodation (re-imports find it)."""
    digest = hashlib.sha256(canonical_address(implementer).encode()).hexdigest()[:8]
    return f"{accommodation[: MAX_KEY - 9]}.{digest}"


def accommodation_checks(record: MeetingRecord) -> tuple[tuple[str | None, ItemInfo], ...]:
    """Each implementer's weekly check-in on each accommodation, as an item (and its concern)."""
    return tuple(
        (
            accommodation.concern,
            ItemInfo(
                key=accommodation_item_key(accommodation.key, implementer),
                title=accommodation.text,
                owner=implementer,
                due_on=record.held_on + ACCOMMODATION_TERM,
                cadence=Cadence.WEEKLY,
                translations=accommodation.translations,
                kind=ItemKind.ACCOMMODATION,
                accommodation=accommodation.key,
            ),
        )
        for accommodation in record.accommodations
        for implementer in accommodation.implementers
    )


@dataclass(frozen=True)
class MeetingRecord:
    """Everything one meeting decided, checked as a whole before anything is stored."""

    student: StudentInfo
    held_on: date
    kind: MeetingKind
    members: tuple[MemberInfo, ...]
    strengths: tuple[StrengthInfo, ...] = ()
    concerns: tuple[ConcernInfo, ...] = ()
    notes: str = field(default="")
    # The language the meeting's texts are written in; `translations` on each text add others.
    language: str = "en"
    notes_translations: Mapping[str, str] = NO_TRANSLATIONS
    accommodations: tuple[AccommodationInfo, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", parse_enum(MeetingKind, self.kind, "kind"))
        object.__setattr__(self, "accommodations", tuple(self.accommodations))
        check_note(self.notes, "notes", max_length=MAX_MEETING_NOTES)
        object.__setattr__(self, "language", check_language(self.language))
        if not isinstance(self.notes_translations, Translations):
            notes_translations = Translations(
                self.notes_translations,
                field_name="notes",
                max_length=MAX_MEETING_NOTES,
                multiline=True,
            )
            object.__setattr__(self, "notes_translations", notes_translations)
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "strengths", tuple(self.strengths))
        object.__setattr__(self, "concerns", tuple(self.concerns))
        for where, problem in meeting_problems(self):
            problem.location = where
            raise problem

    @property
    def items(self) -> tuple[ItemInfo, ...]:
        return tuple(item for concern in self.concerns for item in concern.items)


Location = tuple[str | int, ...]


def meeting_problems(record: MeetingRecord) -> Iterator[tuple[Location, ValidationError]]:
    """Cross-field rules of a meeting, in reading order, each with where it happened.

    A location is a path such as ("concerns", 0, "items", 1, "owner"), so a file
    importer can point at the line.
    """
    emails = {member.email for member in record.members}
    yield from _team_problems(record.members)
    for i, strength in enumerate(record.strengths):
        if strength.said_by is not None and strength.said_by not in emails:
            yield (
                ("strengths", i, "said_by"),
                ValidationError(f"{strength.said_by} is not on the team", field="said_by"),
            )
    yield from _translation_problems(record)
    yield from _concern_problems(record, emails)
    yield from _accommodation_problems(record, emails)


def _accommodation_problems(
    record: MeetingRecord, emails: set[str]
) -> Iterator[tuple[Location, ValidationError]]:
    concerns = {concern.key for concern in record.concerns}
    keys: set[str] = set()
    for i, accommodation in enumerate(record.accommodations):
        where: Location = ("accommodations", i)
        if accommodation.key in keys:
            yield (
                (*where, "id"),
                ValidationError(
                    f"accommodation id {accommodation.key!r} is used twice", field="id"
                ),
            )
        keys.add(accommodation.key)
        if accommodation.concern is not None and accommodation.concern not in concerns:
            yield (
                (*where, "concern"),
                ValidationError(
                    f"concern {accommodation.concern!r} is not one of the meeting's concerns",
                    field="concern",
                ),
            )
        seen: set[str] = set()
        for j, implementer in enumerate(accommodation.implementers):
            if implementer not in emails:
                yield (
                    (*where, "implementers", j),
                    ValidationError(
                        f"implementer {implementer} is not on the student's team; add them first",
                        field="implementers",
                    ),
                )
            elif implementer in seen:
                yield (
                    (*where, "implementers", j),
                    ValidationError(f"{implementer} is listed twice", field="implementers"),
                )
            seen.add(implementer)


def _team_problems(members: tuple[MemberInfo, ...]) -> Iterator[tuple[Location, ValidationError]]:
    emails: set[str] = set()
    for i, member in enumerate(members):
        if member.email in emails:
            yield (
                ("team", i, "email"),
                ValidationError(f"{member.email} is listed twice on the team", field="email"),
            )
        emails.add(member.email)
    if not members:
        yield ("team",), ValidationError("the team has no members", field="team")
    elif not any(m.role is Role.CASE_MANAGER for m in members):
        yield (
            ("team",),
            ValidationError(
                "the team needs a case_manager (they receive the digest)", field="team"
            ),
        )


def _concern_problems(
    record: MeetingRecord, emails: set[str]
) -> Iterator[tuple[Location, ValidationError]]:
    concern_keys: set[str] = set()
    item_keys: set[str] = set()
    for i, concern in enumerate(record.concerns):
        if concern.key in concern_keys:
            yield (
                ("concerns", i, "id"),
                ValidationError(f"concern id {concern.key!r} is used twice", field="id"),
            )
        concern_keys.add(concern.key)
        if concern.raised_by is not None and concern.raised_by not in emails:
            yield (
                ("concerns", i, "raised_by"),
                ValidationError(f"{concern.raised_by} is not on the team", field="raised_by"),
            )
        for j, item in enumerate(concern.items):
            where: Location = ("concerns", i, "items", j)
            yield from _item_problems(item, where, record.held_on, emails, item_keys)
            item_keys.add(item.key)


def _item_problems(
    item: ItemInfo, where: Location, held_on: date, emails: set[str], item_keys: set[str]
) -> Iterator[tuple[Location, ValidationError]]:
    if item.key in item_keys:
        yield (
            (*where, "id"),
            ValidationError(f"action item id {item.key!r} is used twice", field="id"),
        )
    if item.owner not in emails:
        yield (
            (*where, "owner"),
            ValidationError(
                f"owner {item.owner} is not on the student's team; add them to the team first",
                field="owner",
            ),
        )
    try:
        check_due_on(item.due_on, held_on)
    except ValidationError as problem:
        yield (*where, "due"), problem


def _translation_problems(record: MeetingRecord) -> Iterator[tuple[Location, ValidationError]]:
    """A text's own language is the meeting's: a "version" in it would be a second original."""
    texts: list[tuple[Location, Mapping[str, str]]] = [
        (("meeting", "notes"), record.notes_translations)
    ]
    texts += [(("strengths", i, "text"), s.translations) for i, s in enumerate(record.strengths)]
    for i, concern in enumerate(record.concerns):
        texts.append((("concerns", i, "text"), concern.translations))
        texts += [
            (("concerns", i, "items", j, "title"), item.translations)
            for j, item in enumerate(concern.items)
        ]
    texts += [
        (("accommodations", i, "text"), a.translations) for i, a in enumerate(record.accommodations)
    ]
    for where, translations in texts:
        if record.language in translations:
            yield (
                where,
                ValidationError(
                    f"the meeting is written in {record.language!r}, so this text is its "
                    f"{record.language!r} version; give versions only for other languages",
                    field=str(where[-1]),
                ),
            )


def _check_sessions(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SESSIONS:
        raise ValidationError(
            f"sessions per week must be a whole number from 1 to {MAX_SESSIONS}, not {shown(value)}",
            field="sessions_per_week",
        )
    return value


def _check_key(value: str) -> str:
    key = str(value).strip().lower()
    _check_length(key, "id", MAX_KEY)
    if not key or not all(c.isalnum() or c in "-_." for c in key):
        raise ValidationError(
            f"id {shown(value)} must be a short name of letters, digits, '-' or '_' (like homework-check)",
            field="id",
        )
    return key


@dataclass(frozen=True)
class UpdateInput:
    """What an owner reports about one item. At least one field is set."""

    status: ItemStatus | None = None
    percent: int | None = None
    due_on: date | None = None
    note: str | None = None
    period: PeriodOutcome | None = None  # a routine's answer for this period
    minutes: int | None = None  # service minutes delivered, counted in the current week
    missed: MissReason | None = None  # a service's session missed this week, and why
    missed_sessions: int | None = None  # how many (1 when not said)
    missed_minutes: int | None = None  # the minutes lost: worked out by `moved` from the plan
    makeup: bool = False  # the minutes given make up for missed ones

    def __post_init__(self) -> None:
        if self.status is not None:
            object.__setattr__(self, "status", parse_enum(ItemStatus, self.status, "status"))
        if self.percent is not None:
            check_percent(self.percent)
        if self.note is not None:
            note = check_note(self.note.strip(), "note", max_length=MAX_NOTE)
            object.__setattr__(self, "note", note or None)
        if self.period is not None:
            object.__setattr__(self, "period", parse_enum(PeriodOutcome, self.period, "period"))
        if self.minutes is not None:
            check_minutes(self.minutes)
        if self.missed is not None:
            object.__setattr__(self, "missed", parse_enum(MissReason, self.missed, "missed"))
        if self.missed_sessions is not None:
            _check_sessions(self.missed_sessions)
        if self.missed_minutes is not None:
            check_minutes(self.missed_minutes, "missed_minutes")
        if self.makeup and self.minutes is None:
            raise ValidationError("make-up is said of minutes given: add them", field="minutes")
        fields = (
            self.status,
            self.percent,
            self.due_on,
            self.note,
            self.period,
            self.minutes,
            self.missed,
        )
        if all(value is None for value in fields):
            raise ValidationError(
                "an update needs a status, a percent, a new due date, a note, "
                "a period's answer or minutes",
                field="update",
            )


# --- the item transition: every rule about how an item's progress moves ---------------


@dataclass(frozen=True)
class ItemProgress:
    """What an update can move on an action item; the names are the item's columns.

    The store reads and writes every field by name, so a new kind of item (a routine whose
    "done" records a period) adds fields here and a branch in `transition`, not in callers.
    """

    status: ItemStatus
    percent: int
    due_on: date
    closed_at: datetime | None = None
    kind: ItemKind = ItemKind.TASK
    # A service's plan (read, never moved by an update): a missed session's minutes.
    service_minutes_per_week: int | None = None
    sessions_per_week: int | None = None


# The channels that may not change a closed (done or dropped) item: an owner's email reply
# and a one-tap answer link, which can be weeks old (a link works for 60 days) and must not
# reopen what the team closed. The case manager reopens an item on the desk or the command
# line; a note alone is still kept in its history.
CLOSED_TO = frozenset({UpdateSource.EMAIL, UpdateSource.WEB_LINK})


def accepts_update(status: ItemStatus, source: UpdateSource | None) -> bool:
    """Whether an item with this status takes progress updates (not a note alone) from `source`."""
    return not (status.is_closed and source in CLOSED_TO)


def transition(
    state: ItemProgress,
    change: UpdateInput,
    *,
    now: datetime,
    meeting_date: date,
    source: UpdateSource | None = None,
) -> ItemProgress:
    """The item after `change`, or a ValidationError when the change is refused.

    100% means done and done means 100%; a closed item knows when it closed, and refuses
    any change but a note from a reply or an answer link (ItemClosedError, see
    `accepts_update`); the due date is never before the meeting. A routine is never closed
    by "done": see `recorded_change`. `source` None: a caller that is not a channel (tests,
    tools) is not limited.
    """
    if not accepts_update(state.status, source) and not _note_only(change):
        raise ItemClosedError(
            f"this item is {state.status.value}, so a reply or answer link cannot change it; "
            "the case manager can open it again",
            field="status",
        )
    change = recorded_change(state.kind, change)
    if change.due_on is not None:
        check_due_on(change.due_on, meeting_date)
    status, percent = resolve_progress(state.status, state.percent, change)
    if change.period is not None and change.status is None:
        status = _routine_status(status, change.period)
    return ItemProgress(
        status=status,
        percent=percent,
        due_on=state.due_on if change.due_on is None else change.due_on,
        closed_at=_closed_at(state, status, now),
        kind=state.kind,
        service_minutes_per_week=state.service_minutes_per_week,
        sessions_per_week=state.sessions_per_week,
    )


def moved(
    state: ItemProgress,
    change: UpdateInput,
    *,
    now: datetime,
    meeting_date: date,
    source: UpdateSource | None = None,
) -> tuple[ItemProgress, UpdateInput]:
    """The item after `change` (see `transition`) and what its history row records.

    The row holds what changed, including what the rules derived (100% closes the item, so
    the row says "done" as well), in the terms of the item's kind (`recorded_change`).
    """
    after = transition(state, change, now=now, meeting_date=meeting_date, source=source)
    said = recorded_change(state.kind, change)
    if said.missed is not None:
        if state.service_minutes_per_week is None:
            raise ValidationError(
                "a missed session is for a service (a routine with minutes); "
                "for this item, reply with how it is going",
                field="missed",
            )
        lost = missed_minutes(
            state.service_minutes_per_week,
            state.sessions_per_week,
            said.missed_sessions or 1,
            said.minutes,
        )
        said = dataclasses.replace(said, missed_minutes=lost)
    return after, dataclasses.replace(
        said,
        status=after.status if after.status is not state.status else said.status,
        percent=after.percent if after.percent != state.percent else said.percent,
    )


def recorded_change(kind: ItemKind, change: UpdateInput) -> UpdateInput:
    """What a report means for an item of this kind: the change its history records.

    For a routine, "done" (or 100%) is this period's "yes", 0% its "no" and any other
    percent "partly"; a routine keeps no percent and is only closed by dropping it. A task
    has no periods: an answer for one is refused.
    """
    if kind is not ItemKind.ROUTINE and (change.missed is not None or change.makeup):
        raise ValidationError(
            "a missed session is for a service (a routine with minutes); "
            "for this item, reply with how it is going",
            field="missed",
        )
    if kind is ItemKind.TASK:
        if change.period is not None:
            raise ValidationError(
                "this item is a task: report done, a percent or blocked, not a period's answer",
                field="period",
            )
        return change
    if kind is ItemKind.ACCOMMODATION:
        _check_accommodation_answer(change)
    elif change.period is PeriodOutcome.NOT_APPLICABLE:
        raise ValidationError(
            "this item is a routine: answer yes, partly or no for this period", field="period"
        )
    said_twice = change.status is ItemStatus.DONE or change.percent is not None
    if change.period is not None and said_twice and _period_of(change) is not change.period:
        raise ValidationError(
            "the answer for this period contradicts itself (done and partly or no)",
            field="period",
        )
    period = change.period or _period_of(change)
    status = None if change.status is ItemStatus.DONE else change.status
    return dataclasses.replace(change, status=status, percent=None, period=period)


def _note_only(change: UpdateInput) -> bool:
    """A note and nothing else: it changes no progress, so a closed item keeps it."""
    others = (f for f in dataclasses.fields(change) if f.name != "note")
    return all(getattr(change, f.name) == f.default for f in others)


def _check_accommodation_answer(change: UpdateInput) -> None:
    """An accommodation was used this period, or not, or it did not come up: nothing between."""
    if change.period is PeriodOutcome.PARTLY or change.percent not in (None, 0, 100):
        raise ValidationError(
            "this is an accommodation: answer yes, no or didn't come up for this week",
            field="period",
        )
    if change.minutes is not None:
        raise ValidationError(
            "this is an accommodation: it takes yes, no or didn't come up, not minutes",
            field="minutes",
        )


def _routine_status(status: ItemStatus, period: PeriodOutcome) -> ItemStatus:
    """A routine stays open (active) through its periods; one that happened unblocks it."""
    if status is ItemStatus.BLOCKED and period is not PeriodOutcome.MISSED:
        return ItemStatus.IN_PROGRESS
    return status


def _period_of(change: UpdateInput) -> PeriodOutcome | None:
    if change.status is ItemStatus.DONE or change.percent == 100:
        return PeriodOutcome.HAPPENED
    if change.percent == 0:
        return PeriodOutcome.MISSED
    if change.percent is not None:
        return PeriodOutcome.PARTLY
    return None


def check_due_on(due_on: date, meeting_date: date) -> date:
    """An item falls due on or after the meeting that agreed it."""
    if due_on < meeting_date:
        raise ValidationError(
            f"due date {due_on.isoformat()} is before the meeting ({meeting_date.isoformat()})",
            field="due",
        )
    return due_on


def settle_progress(
    status: ItemStatus | None, percent: int | None
) -> tuple[ItemStatus | None, int | None]:
    """100% means done; done means 100%. Either may be unknown (None) in a partial report."""
    if status is ItemStatus.DONE:
        return ItemStatus.DONE, 100
    if percent == 100 and status in (None, ItemStatus.IN_PROGRESS, ItemStatus.OPEN):
        return ItemStatus.DONE, 100
    return status, percent


def resolve_progress(
    current: ItemStatus, current_percent: int, update: UpdateInput
) -> tuple[ItemStatus, int]:
    """The item's status and percent after an update (see settle_progress)."""
    status, percent = settle_progress(update.status, update.percent)
    new_percent = current_percent if percent is None else percent
    if status is not None:
        return status, new_percent
    if percent is not None and current in (ItemStatus.OPEN, ItemStatus.DONE, ItemStatus.BLOCKED):
        # Reporting progress on a blocked or closed item means work has resumed.
        return (ItemStatus.IN_PROGRESS if percent > 0 else ItemStatus.OPEN), new_percent
    return current, new_percent


def _closed_at(before: ItemProgress, status: ItemStatus, now: datetime) -> datetime | None:
    if not status.is_closed:
        return None
    # Done after dropped (or the reverse) keeps the day it first closed.
    return before.closed_at if before.status.is_closed else now
