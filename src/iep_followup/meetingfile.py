"""Meeting files: YAML in, a checked MeetingRecord out; every error names file, line and field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    Location,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    StrengthInfo,
    StudentInfo,
)
from iep_followup.errors import MeetingFileError, ValidationError

# File names for the domain's fields, where the file reads better with its own word.
_FILE_NAMES = {
    "items": "actions",
    "cadence": "check_in",
    "key": "id",
    "due_on": "due",
    "service_minutes_per_week": "minutes_per_week",
}

T = TypeVar("T")


class _Reader:
    """Walks the YAML node tree, remembering the line of every field it reads."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: dict[Location, int] = {}
        self._loader = yaml.SafeLoader(text)
        try:
            self.root = self._loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise MeetingFileError(
                source, line, None, f"not valid YAML: {exc.problem or exc}"
            ) from None
        except yaml.YAMLError as exc:
            raise MeetingFileError(source, None, None, f"not valid YAML: {exc}") from None
        finally:
            self._loader.dispose()
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
            key = str(self.scalar(key_node))
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

    def value(
        self, fields: dict[str, yaml.Node], name: str, where: Location, *, required: bool = True
    ) -> Any:
        node = fields.get(name)
        if node is None:
            if required:
                raise self.fail((*where, name), "this field is required")
            return None
        value = self.scalar(node, (*where, name))
        if required and (value is None or value == ""):
            raise self.fail((*where, name), "this field must not be empty")
        return value

    def build(self, where: Location, make: Callable[[], T]) -> T:
        try:
            return make()
        except ValidationError as exc:
            if exc.location:
                raise self.fail(exc.location, str(exc)) from None
            field = _FILE_NAMES.get(exc.field, exc.field) if exc.field else None
            raise self.fail((*where, field) if field else where, str(exc)) from None

    def scalar(self, node: yaml.Node, where: Location = ()) -> Any:
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._loader.construct_object(node, deep=True)
            except (ValueError, yaml.YAMLError) as exc:
                # e.g. 2027-13-05 looks like a date to YAML but is not one.
                raise MeetingFileError(
                    self.source,
                    node.start_mark.line + 1,
                    _path_text(where) or None,
                    f"{node.value!r} is not valid ({exc})",
                ) from None
        raise MeetingFileError(
            self.source, node.start_mark.line + 1, None, "expected a single value here"
        )


def load_meeting_file(path: str | Path) -> MeetingRecord:
    """Read and check a meeting file. Raises MeetingFileError; never returns a half-read meeting."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MeetingFileError(str(path), None, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MeetingFileError(str(path), None, None, f"cannot be read ({exc})") from None
    return parse_meeting(text, str(path))


def parse_meeting(text: str, source: str = "<meeting>") -> MeetingRecord:
    """Parse meeting YAML; `source` names the file in error messages."""
    r = _Reader(text, source)
    top = r.mapping(r.root, (), {"student", "meeting", "team", "strengths", "concerns"})
    for name in ("student", "meeting", "team"):
        if name not in top:
            raise r.fail((name,), "this section is required")

    s = r.mapping(top["student"], ("student",), {"id", "name", "school", "grade"})
    student = r.build(
        ("student",),
        lambda: StudentInfo(
            external_id=str(r.value(s, "id", ("student",))),
            name=str(r.value(s, "name", ("student",))),
            school=str(r.value(s, "school", ("student",), required=False) or ""),
            grade=str(r.value(s, "grade", ("student",), required=False) or ""),
        ),
    )
    m = r.mapping(top["meeting"], ("meeting",), {"date", "kind", "notes"})
    held_on = _date(r, r.value(m, "date", ("meeting",)), ("meeting", "date"))
    kind = r.value(m, "kind", ("meeting",), required=False) or MeetingKind.ANNUAL_REVIEW
    notes = str(r.value(m, "notes", ("meeting",), required=False) or "")
    members = tuple(_member(r, node, ("team", i)) for i, node in r.sequence(top["team"], ("team",)))
    strengths = tuple(
        _strength(r, node, ("strengths", i))
        for i, node in r.sequence(top.get("strengths"), ("strengths",))
    )
    concerns = tuple(
        _concern(r, node, ("concerns", i))
        for i, node in r.sequence(top.get("concerns"), ("concerns",))
    )
    # Cross-field rules (owners on the team, dates after the meeting) carry their own location.
    return r.build(
        ("meeting",),
        lambda: MeetingRecord(
            student=student,
            held_on=held_on,
            kind=kind,
            members=members,
            strengths=strengths,
            concerns=concerns,
            notes=notes,
        ),
    )


def _member(r: _Reader, node: yaml.Node, where: Location) -> MemberInfo:
    f = r.mapping(node, where, {"name", "email", "role", "language", "timezone", "away_until"})
    away = r.value(f, "away_until", where, required=False)
    away_until = None if away is None else _date(r, away, (*where, "away_until"))
    return r.build(
        where,
        lambda: MemberInfo(
            name=str(r.value(f, "name", where)),
            email=str(r.value(f, "email", where)),
            role=r.value(f, "role", where),
            language=str(r.value(f, "language", where, required=False) or "en"),
            timezone=r.value(f, "timezone", where, required=False),
            away_until=away_until,
        ),
    )


def _strength(r: _Reader, node: yaml.Node, where: Location) -> StrengthInfo:
    if isinstance(node, yaml.ScalarNode):
        return r.build(where, lambda: StrengthInfo(text=str(r.scalar(node))))
    f = r.mapping(node, where, {"text", "said_by"})
    return r.build(
        where,
        lambda: StrengthInfo(
            text=str(r.value(f, "text", where)),
            said_by=r.value(f, "said_by", where, required=False),
        ),
    )


def _concern(r: _Reader, node: yaml.Node, where: Location) -> ConcernInfo:
    f = r.mapping(node, where, {"id", "text", "raised_by", "actions"})
    items = tuple(
        _item(r, item, (*where, "items", j))
        for j, item in r.sequence(f.get("actions"), (*where, "items"))
    )
    return r.build(
        where,
        lambda: ConcernInfo(
            key=str(r.value(f, "id", where)),
            text=str(r.value(f, "text", where)),
            raised_by=r.value(f, "raised_by", where, required=False),
            items=items,
        ),
    )


def _item(r: _Reader, node: yaml.Node, where: Location) -> ItemInfo:
    f = r.mapping(node, where, {"id", "title", "owner", "due", "check_in", "minutes_per_week"})
    due = _date(r, r.value(f, "due", where), (*where, "due"))
    return r.build(
        where,
        lambda: ItemInfo(
            key=str(r.value(f, "id", where)),
            title=str(r.value(f, "title", where)),
            owner=str(r.value(f, "owner", where)),
            due_on=due,
            cadence=r.value(f, "check_in", where, required=False) or Cadence.WEEKLY,
            service_minutes_per_week=r.value(f, "minutes_per_week", where, required=False),
        ),
    )


def _date(r: _Reader, value: object, where: Location) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise r.fail(where, f"{value!r} is not a date; write it as YYYY-MM-DD, like 2027-01-15")


def _path_text(where: Location) -> str:
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + _FILE_NAMES.get(part, part)
    return text
