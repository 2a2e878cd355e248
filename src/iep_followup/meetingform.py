"""The desk's meeting form, field by field: posted fields to meeting-file data, and back.

Pure. The form's fields become the same data a meeting file holds (`to_data`), written out as
YAML for meetingfile.parse_meeting: the rules live there, and an error's field path
("concerns[1].actions[2].due") leads back to the form field it came from (`field_for`).
`from_record` is the reverse: an existing meeting as form fields, to amend it.

A field's name is its section, row and the meeting file's own name for it:
"member-0-email", "concern-1-item-0-due"; a free text's version in another language adds the
language: "strength-0-text-es". Rows left blank are skipped (the form always offers a few).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from iep_followup.domain import SUPPORTED_LANGUAGES, MeetingRecord, parse_whole_number
from iep_followup.errors import ValidationError

Fields = Mapping[str, str]

# The empty rows a new form offers; "Add another ..." adds one more.
MIN_ROWS = {"members": 3, "strengths": 2, "concerns": 1, "items": 2}
MAX_ROWS = 60  # per section (and per concern): a posted count past it would only make a huge page

MEMBER_FIELDS = ("name", "email", "role", "relationship", "language", "timezone", "away_until")
ITEM_FIELDS = ("id", "owner", "due", "check_in", "kind", "minutes_per_week", "sessions_per_week")


@dataclass
class Rows:
    """Which form row each entry of the data came from (blank rows are not in the data)."""

    members: list[int] = field(default_factory=list)
    strengths: list[int] = field(default_factory=list)
    concerns: list[int] = field(default_factory=list)
    items: dict[int, list[int]] = field(default_factory=dict)  # concern row -> item rows


@dataclass(frozen=True)
class Converted:
    data: dict[str, Any]
    rows: Rows
    language: str

    def yaml_text(self) -> str:
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=1000)


def count(fields: Fields, name: str, least: int) -> int:
    """A section's number of rows: as posted (within bounds), never fewer than `least`."""
    try:
        posted = parse_whole_number(fields.get(name, ""), name)
    except ValidationError:
        posted = 0  # not a count the form wrote ("²", a thousand digits): its least
    return max(least, min(posted, MAX_ROWS))


def counts(fields: Fields) -> dict[str, int]:
    """Rows per section; "concern-N-items" for each concern's items."""
    found = {
        name: count(fields, name, least) for name, least in MIN_ROWS.items() if name != "items"
    }
    for c in range(found["concerns"]):
        found[f"concern-{c}-items"] = count(fields, f"concern-{c}-items", MIN_ROWS["items"])
    return found


def with_row_added(fields: Fields, action: str) -> dict[str, str]:
    """The fields with one more row where `action` ("add-member", "add-item-2") asks for it."""
    found = {**fields, **{k: str(v) for k, v in counts(fields).items()}}
    name = {"add-member": "members", "add-strength": "strengths", "add-concern": "concerns"}.get(
        action
    )
    if action.startswith("add-item-"):
        try:  # a concern the form has: else nothing
            name = f"concern-{parse_whole_number(action[9:], 'action')}-items"
        except ValidationError:
            name = None
    if name is not None and name in found:
        found[name] = str(min(int(found[name]) + 1, MAX_ROWS))
    return found


def readers_languages(fields: Fields) -> list[str]:
    """The languages other than the meeting's that a team member reads, or a version is in."""
    language = meeting_language(fields)
    read = {fields.get(f"member-{i}-language", "") for i in range(counts(fields)["members"])}
    written = {k.rsplit("-", 1)[1] for k, v in fields.items() if v.strip() and _is_version(k)}
    return [code for code in SUPPORTED_LANGUAGES if code != language and code in read | written]


def meeting_language(fields: Fields) -> str:
    return fields.get("meeting-language", "").strip() or "en"


def to_data(fields: Fields) -> Converted:
    """The posted form as meeting-file data (what meetingfile checks), blank rows left out."""
    language = meeting_language(fields)
    sizes = counts(fields)
    rows = Rows()
    data: dict[str, Any] = {}
    student = _pick(fields, "student", ("id", "name", "school", "grade"))
    data["student"] = student
    meeting = _pick(fields, "meeting", ("date", "kind"))
    meeting["language"] = language
    notes = _wording(fields, "meeting-notes", language)
    if notes:
        meeting["notes"] = notes
    data["meeting"] = meeting
    team = []
    for i in range(sizes["members"]):
        member = _pick(fields, f"member-{i}", MEMBER_FIELDS)
        if member.get("name") or member.get("email"):
            rows.members.append(i)
            team.append(member)
    data["team"] = team
    strengths = []
    for i in range(sizes["strengths"]):
        text = _wording(fields, f"strength-{i}-text", language)
        if text:
            rows.strengths.append(i)
            strengths.append({"text": text, **_pick(fields, f"strength-{i}", ("said_by",))})
    if strengths:
        data["strengths"] = strengths
    concerns = [
        concern
        for c in range(sizes["concerns"])
        if (concern := _concern(fields, c, sizes[f"concern-{c}-items"], language, rows))
    ]
    if concerns:
        data["concerns"] = concerns
    accommodations = _accommodations_data(fields.get("accommodations", ""))
    if accommodations:
        data["accommodations"] = accommodations
    return Converted(data, rows, language)


def _accommodations_data(text: str) -> list[Any]:
    """The accommodations carried through the form unchanged (JSON), as meeting-file data."""
    try:
        found = json.loads(text) if text.strip() else []
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _concern(fields: Fields, c: int, size: int, language: str, rows: Rows) -> dict[str, Any] | None:
    prefix = f"concern-{c}"
    text = _wording(fields, f"{prefix}-text", language)
    key = fields.get(f"{prefix}-id", "").strip() or f"concern-{len(rows.concerns) + 1}"
    actions = []
    item_rows: list[int] = []
    for j in range(size):
        item = _pick(fields, f"{prefix}-item-{j}", ITEM_FIELDS)
        title = _wording(fields, f"{prefix}-item-{j}-title", language)
        if not (title or item.get("owner") or item.get("due")):
            continue
        item_rows.append(j)
        item.setdefault("id", f"{key}-{len(item_rows)}")
        if title:
            item["title"] = title
        actions.append(item)
    if not (text or actions or fields.get(f"{prefix}-raised_by", "").strip()):
        return None
    rows.concerns.append(c)
    rows.items[c] = item_rows
    concern: dict[str, Any] = {"id": key}
    if text:
        concern["text"] = text
    concern.update(_pick(fields, prefix, ("raised_by",)))
    if actions:
        concern["actions"] = actions
    return concern


def _pick(fields: Fields, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The row's non-empty fields, by their meeting-file names."""
    found: dict[str, Any] = {}
    for name in names:
        value = fields.get(f"{prefix}-{name}", "").strip()
        if value:
            found[name] = value
    return found


def _wording(fields: Fields, name: str, language: str) -> str | dict[str, str]:
    """A free text: the plain text, or {language: text, ...} when it has versions."""
    text = fields.get(name, "").strip()
    versions = {
        code: value
        for code in SUPPORTED_LANGUAGES
        if code != language and (value := fields.get(f"{name}-{code}", "").strip())
    }
    if not versions:
        return text
    return {language: text, **versions} if text else versions


def _is_version(name: str) -> bool:
    head, _, code = name.rpartition("-")
    return code in SUPPORTED_LANGUAGES and head.endswith(("-text", "-title", "-notes"))


_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def field_for(path: str | None, converted: Converted) -> str | None:
    """The form field a meeting-file error's field path names ("team[2].email"), if any."""
    if not path:
        return None
    parts = [
        (m.group(1), int(m.group(2)) - 1 if m.group(2) else None) for m in _PART.finditer(path)
    ]
    rows = converted.rows
    try:
        return _field_name(parts, rows, converted.language)
    except IndexError:
        return None


def _field_name(parts: list[tuple[str, int | None]], rows: Rows, language: str) -> str | None:
    (section, index), rest = parts[0], [name for name, _ in parts[1:]]
    if section in ("student", "meeting"):
        return f"{section}-{_tail(rest, 'id' if section == 'student' else 'date', language)}"
    listed = {
        "team": ("member", rows.members, "name"),
        "strengths": ("strength", rows.strengths, "text"),
    }
    if index is None or (section not in listed and section != "concerns"):
        return None
    if section in listed:
        name, found, first = listed[section]
        return f"{name}-{found[index]}-{_tail(rest, first, language)}"
    c = rows.concerns[index]
    if len(parts) > 1 and parts[1][0] == "actions" and parts[1][1] is not None:
        j = rows.items[c][parts[1][1]]
        tail = [name for name, _ in parts[2:]]
        return f"concern-{c}-item-{j}-{_tail(tail, 'title', language)}"
    return f"concern-{c}-{_tail([r for r in rest if r != 'actions'], 'text', language)}"


def _tail(rest: list[str], first: str, language: str) -> str:
    """The field's own name (the row's first field for the whole row), with a version's language."""
    if not rest:
        return first
    if len(rest) > 1 and rest[1] != language and rest[1] in SUPPORTED_LANGUAGES:
        return f"{rest[0]}-{rest[1]}"
    return rest[0]


def from_record(record: MeetingRecord) -> dict[str, str]:
    """An existing meeting as the form's fields, to amend it."""
    fields: dict[str, str] = {
        "student-id": record.student.external_id,
        "student-name": record.student.name,
        "student-school": record.student.school,
        "student-grade": record.student.grade,
        "meeting-date": record.held_on.isoformat(),
        "meeting-kind": record.kind.value,
        "meeting-language": record.language,
        "members": str(len(record.members)),
        "strengths": str(len(record.strengths)),
        "concerns": str(len(record.concerns)),
    }
    _put_text(fields, "meeting-notes", record.notes, record.notes_translations)
    for i, m in enumerate(record.members):
        fields.update(
            {
                f"member-{i}-name": m.name,
                f"member-{i}-email": m.email,
                f"member-{i}-role": m.role.value,
                f"member-{i}-relationship": m.relationship.value if m.relationship else "",
                f"member-{i}-language": m.language,
                f"member-{i}-timezone": m.timezone or "",
                f"member-{i}-away_until": m.away_until.isoformat() if m.away_until else "",
            }
        )
    for i, s in enumerate(record.strengths):
        _put_text(fields, f"strength-{i}-text", s.text, s.translations)
        fields[f"strength-{i}-said_by"] = s.said_by or ""
    for c, concern in enumerate(record.concerns):
        prefix = f"concern-{c}"
        fields[f"{prefix}-id"] = concern.key
        fields[f"{prefix}-raised_by"] = concern.raised_by or ""
        fields[f"{prefix}-items"] = str(len(concern.items))
        _put_text(fields, f"{prefix}-text", concern.text, concern.translations)
        for j, item in enumerate(concern.items):
            at = f"{prefix}-item-{j}"
            _put_text(fields, f"{at}-title", item.title, item.translations)
            minutes = item.service_minutes_per_week
            fields.update(
                {
                    f"{at}-id": item.key,
                    f"{at}-owner": item.owner,
                    f"{at}-due": item.due_on.isoformat(),
                    f"{at}-check_in": item.cadence.value,
                    f"{at}-kind": item.kind.value,
                    f"{at}-minutes_per_week": "" if minutes is None else str(minutes),
                    f"{at}-sessions_per_week": str(item.sessions_per_week or ""),
                }
            )
    if record.accommodations:
        fields["accommodations"] = json.dumps(
            [
                {
                    "id": a.key,
                    "text": {record.language: a.text, **a.translations}
                    if a.translations
                    else a.text,
                    "implementers": list(a.implementers),
                    **({"concern": a.concern} if a.concern else {}),
                }
                for a in record.accommodations
            ],
            ensure_ascii=False,
        )
    return fields


def _put_text(fields: dict[str, str], name: str, text: str, versions: Mapping[str, str]) -> None:
    fields[name] = text
    for code, version in versions.items():
        fields[f"{name}-{code}"] = version
