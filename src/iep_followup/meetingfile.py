"""Meeting files: YAML in, a checked MeetingRecord out; every error names file, line and field.

Values are read as the characters written: YAML 1.1 would make the student id 0012345 the
number 5349 and the language `no` the boolean False. Dates and numbers are read from that
text too, by our own strict rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TypeVar

import yaml

from iep_followup.domain import (
    SUPPORTED_LANGUAGES,
    AccommodationInfo,
    Cadence,
    ConcernInfo,
    ItemInfo,
    ItemKind,
    Location,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    Relationship,
    Role,
    StrengthInfo,
    StudentInfo,
    check_language,
    parse_enum,
    shown,
)
from iep_followup.errors import MeetingFileError, ValidationError, describe_os_error

# A meeting's file is a few KB; these bounds keep a wrong or hostile file from taking
# minutes and gigabytes (PyYAML composes in pure Python, and recursively).
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 20  # a meeting file nests 6 levels: concerns, a concern, actions, an action, ...
MAX_VALUES = 20_000  # field names included; a large meeting has about 2,000

# File names for the domain's fields, where the file reads better with its own word.
_FILE_NAMES = {
    "items": "actions",
    "cadence": "check_in",
    "key": "id",
    "due_on": "due",
    "service_minutes_per_week": "minutes_per_week",
}
_NULL = "tag:yaml.org,2002:null"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE_NUMBER = re.compile(r"\d{1,9}")

T = TypeVar("T")


class _TooLargeError(Exception):
    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """Composes the node tree, refusing it once it nests too deep or holds too many values."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0
        self.values = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        self.values += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooLargeError(
                    self._line(), f"nested more than {MAX_DEPTH} levels deep; is it a meeting file?"
                )
            if self.values > MAX_VALUES:
                raise _TooLargeError(
                    self._line(), f"more than {MAX_VALUES:,} values; is it a meeting file?"
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def _line(self) -> int:
        return int(self.peek_event().start_mark.line) + 1  # type: ignore[no-untyped-call]


class _Reader:
    """Walks the YAML node tree, remembering the line of every field it reads."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: dict[Location, int] = {}
        loader: _Loader | None = None
        try:
            loader = _Loader(text)  # it checks every character first
            self.root = loader.get_single_node()
        except _TooLargeError as exc:
            raise MeetingFileError(source, exc.line, None, exc.problem) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise MeetingFileError(
                source, line, None, f"not valid YAML: {_one_line(exc.problem or exc)}"
            ) from None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            raise MeetingFileError(
                source, line, None, f"not valid YAML: {exc.reason} (U+{exc.character:04X})"
            ) from None
        except yaml.YAMLError as exc:
            raise MeetingFileError(
                source, None, None, f"not valid YAML: {_one_line(exc)}"
            ) from None
        finally:
            if loader is not None:
                loader.dispose()
        if self.root is None:
            raise MeetingFileError(source, None, None, "the file is empty")

    def fail(self, where: Location, problem: str) -> MeetingFileError:
        return MeetingFileError(self.source, self.line(where), _path_text(where), problem)

    def line(self, where: Location) -> int | None:
        for end in range(len(where), -1, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return None

    def mapping(
        self, node: yaml.Node | None, where: Location, allowed: set[str]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(where, "expected a set of 'name: value' fields here")
        self.lines.setdefault(where, node.start_mark.line + 1)
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, where) or ""
            here = (*where, key)
            self.lines[here] = key_node.start_mark.line + 1
            if key in fields:
                raise self.fail(here, "this field appears twice")
            if key not in allowed:
                raise self.fail(
                    here, f"unknown field; expected one of: {', '.join(sorted(allowed))}"
                )
            fields[key] = value_node
        return fields

    def sequence(self, node: yaml.Node | None, where: Location) -> Iterator[tuple[int, yaml.Node]]:
        if node is None:
            return
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(where, "expected a list (lines starting with '-')")
        for i, item in enumerate(node.value):
            self.lines[(*where, i)] = item.start_mark.line + 1
            yield i, item

    def text(
        self, fields: dict[str, yaml.Node], name: str, where: Location, *, required: bool = True
    ) -> str | None:
        """A field's text as written; None when it is absent or has no value (optional fields)."""
        here = (*where, name)
        node = fields.get(name)
        if node is None:
            if required:
                raise self.fail(here, "this field is required")
            return None
        value = self.scalar(node, here)
        if required and value is None:
            raise self.fail(here, "this field has no value (~, null and nothing all mean none)")
        if required and not value:
            raise self.fail(here, "this field must not be empty")
        return value

    def wording(
        self, fields: dict[str, yaml.Node], name: str, where: Location, language: str
    ) -> tuple[str, dict[str, str]]:
        """A free text: one string in the meeting's language, or {en: ..., es: ...}.

        Returns the text as written in the meeting's language and its other versions.
        """
        node = fields.get(name)
        if not isinstance(node, yaml.MappingNode):
            return self.text(fields, name, where) or "", {}
        here = (*where, name)
        versions = {
            code: self.text(found, code, here) or ""
            for found in [self.mapping(node, here, set(SUPPORTED_LANGUAGES))]
            for code in found
        }
        if language not in versions:
            raise self.fail(
                here,
                f"needs its {language!r} version: the meeting is written in {language!r} "
                "(meeting.language), and the others are its translations",
            )
        return versions.pop(language), versions

    def scalar(self, node: yaml.Node, where: Location) -> str | None:
        """The characters written (quotes and escapes resolved), never a YAML 1.1 guess."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(where, "expected a single value here")
        return None if node.tag == _NULL else str(node.value)

    def date(self, value: str, where: Location) -> date:
        problem = ""
        if _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError as exc:  # 2027-13-05 looks like a date and is not one
                problem = f" ({exc})"
        raise self.fail(
            where, f"{shown(value)} is not a date{problem}; write it as YYYY-MM-DD, like 2027-01-15"
        )

    def whole_number(self, value: str | None, where: Location) -> int | None:
        if value is None:
            return None
        if not _WHOLE_NUMBER.fullmatch(value):
            raise self.fail(where, f"{shown(value)} is not a whole number; write it like 45")
        return int(value)

    def build(self, where: Location, make: Callable[[], T]) -> T:
        try:
            return make()
        except ValidationError as exc:
            if exc.location:
                raise self.fail(exc.location, str(exc)) from None
            field = _FILE_NAMES.get(exc.field, exc.field) if exc.field else None
            raise self.fail((*where, field) if field else where, str(exc)) from None


def load_meeting_file(path: str | Path) -> MeetingRecord:
    """Read and check a meeting file. Raises MeetingFileError; never returns a half-read meeting."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MeetingFileError(str(path), None, None, describe_os_error(exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise MeetingFileError(str(path), None, None, _TOO_BIG)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MeetingFileError(
            str(path), line, None, "is not UTF-8 text; save it as UTF-8"
        ) from None
    return parse_meeting(text, str(path))


def parse_meeting(text: str, source: str = "<meeting>") -> MeetingRecord:
    """Parse meeting YAML; `source` names the file in error messages."""
    if len(text) > MAX_FILE_BYTES:
        raise MeetingFileError(source, None, None, _TOO_BIG)
    r = _Reader(text, source)
    top = r.mapping(
        r.root, (), {"student", "meeting", "team", "strengths", "concerns", "accommodations"}
    )
    for name in ("student", "meeting", "team"):
        if name not in top:
            raise r.fail((name,), "this section is required")

    s = r.mapping(top["student"], ("student",), {"id", "name", "school", "grade"})
    student = r.build(
        ("student",),
        lambda: StudentInfo(
            external_id=r.text(s, "id", ("student",)) or "",
            name=r.text(s, "name", ("student",)) or "",
            school=r.text(s, "school", ("student",), required=False) or "",
            grade=r.text(s, "grade", ("student",), required=False) or "",
        ),
    )
    m = r.mapping(top["meeting"], ("meeting",), {"date", "kind", "notes", "language"})
    held_on = r.date(r.text(m, "date", ("meeting",)) or "", ("meeting", "date"))
    kind = r.text(m, "kind", ("meeting",), required=False) or MeetingKind.ANNUAL_REVIEW
    language = r.build(
        ("meeting",),
        lambda: check_language(r.text(m, "language", ("meeting",), required=False) or "en"),
    )
    notes, notes_translations = "", dict[str, str]()
    if "notes" in m:
        notes, notes_translations = r.wording(m, "notes", ("meeting",), language)
    members = tuple(_member(r, node, ("team", i)) for i, node in r.sequence(top["team"], ("team",)))
    strengths = tuple(
        _strength(r, node, ("strengths", i), language)
        for i, node in r.sequence(top.get("strengths"), ("strengths",))
    )
    concerns = tuple(
        _concern(r, node, ("concerns", i), language)
        for i, node in r.sequence(top.get("concerns"), ("concerns",))
    )
    accommodations = tuple(
        _accommodation(r, node, ("accommodations", i), language)
        for i, node in r.sequence(top.get("accommodations"), ("accommodations",))
    )
    # Cross-field rules (owners on the team, dates after the meeting) carry their own location.
    return r.build(
        ("meeting",),
        lambda: MeetingRecord(
            student=student,
            held_on=held_on,
            kind=parse_enum(MeetingKind, kind, "kind"),
            members=members,
            strengths=strengths,
            concerns=concerns,
            notes=notes,
            language=language,
            notes_translations=notes_translations,
            accommodations=accommodations,
        ),
    )


def _member(r: _Reader, node: yaml.Node, where: Location) -> MemberInfo:
    f = r.mapping(
        node,
        where,
        {"name", "email", "role", "language", "timezone", "away_until", "relationship"},
    )
    away = r.text(f, "away_until", where, required=False)
    away_until = None if away is None else r.date(away, (*where, "away_until"))
    relationship = r.text(f, "relationship", where, required=False)
    return r.build(
        where,
        lambda: MemberInfo(
            name=r.text(f, "name", where) or "",
            email=r.text(f, "email", where) or "",
            role=parse_enum(Role, r.text(f, "role", where), "role"),
            language=r.text(f, "language", where, required=False) or "en",
            timezone=r.text(f, "timezone", where, required=False),
            away_until=away_until,
            relationship=None
            if relationship is None
            else parse_enum(Relationship, relationship, "relationship"),
        ),
    )


def _strength(r: _Reader, node: yaml.Node, where: Location, language: str) -> StrengthInfo:
    if isinstance(node, yaml.ScalarNode):
        return r.build(where, lambda: StrengthInfo(text=r.scalar(node, where) or ""))
    f = r.mapping(node, where, {"text", "said_by"})
    text, translations = r.wording(f, "text", where, language)
    return r.build(
        where,
        lambda: StrengthInfo(
            text=text,
            said_by=r.text(f, "said_by", where, required=False),
            translations=translations,
        ),
    )


def _concern(r: _Reader, node: yaml.Node, where: Location, language: str) -> ConcernInfo:
    f = r.mapping(node, where, {"id", "text", "raised_by", "actions"})
    items = tuple(
        _item(r, item, (*where, "items", j), language)
        for j, item in r.sequence(f.get("actions"), (*where, "items"))
    )
    text, translations = r.wording(f, "text", where, language)
    return r.build(
        where,
        lambda: ConcernInfo(
            key=r.text(f, "id", where) or "",
            text=text,
            raised_by=r.text(f, "raised_by", where, required=False),
            items=items,
            translations=translations,
        ),
    )


def _accommodation(
    r: _Reader, node: yaml.Node, where: Location, language: str
) -> AccommodationInfo:
    f = r.mapping(node, where, {"id", "text", "implementers", "concern"})
    text, translations = r.wording(f, "text", where, language)
    implementers = tuple(
        r.scalar(email, (*where, "implementers", j)) or ""
        for j, email in r.sequence(f.get("implementers"), (*where, "implementers"))
    )
    return r.build(
        where,
        lambda: AccommodationInfo(
            key=r.text(f, "id", where) or "",
            text=text,
            implementers=implementers,
            concern=r.text(f, "concern", where, required=False),
            translations=translations,
        ),
    )


def _item_kind(text: str | None) -> ItemKind:
    kind = parse_enum(ItemKind, text or "task", "kind")
    if kind is ItemKind.ACCOMMODATION:
        raise ValidationError(
            "an action's kind is task or routine; list accommodations under `accommodations:`",
            field="kind",
        )
    return kind


def _item(r: _Reader, node: yaml.Node, where: Location, language: str) -> ItemInfo:
    f = r.mapping(
        node,
        where,
        {
            "id",
            "title",
            "kind",
            "owner",
            "due",
            "check_in",
            "minutes_per_week",
            "sessions_per_week",
        },
    )
    title, translations = r.wording(f, "title", where, language)
    due = r.date(r.text(f, "due", where) or "", (*where, "due"))
    minutes = r.whole_number(
        r.text(f, "minutes_per_week", where, required=False), (*where, "minutes_per_week")
    )
    sessions = r.whole_number(
        r.text(f, "sessions_per_week", where, required=False), (*where, "sessions_per_week")
    )
    cadence = r.text(f, "check_in", where, required=False) or Cadence.WEEKLY
    return r.build(
        where,
        lambda: ItemInfo(
            key=r.text(f, "id", where) or "",
            title=title,
            owner=r.text(f, "owner", where) or "",
            due_on=due,
            cadence=parse_enum(Cadence, cadence, "cadence"),
            service_minutes_per_week=minutes,
            translations=translations,
            kind=_item_kind(r.text(f, "kind", where, required=False)),
            sessions_per_week=sessions,
        ),
    )


_TOO_BIG = (
    f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB, the limit for a meeting file "
    "(one meeting takes a few KB: is it the right file?)"
)


def _one_line(problem: object) -> str:
    return " ".join(str(problem).split())


def _path_text(where: Location) -> str:
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + _FILE_NAMES.get(part, part)
    return text
