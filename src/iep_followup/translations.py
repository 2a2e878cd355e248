"""A meeting's free texts in each reader's language, and what still has no version.

Pure: the store hands in what was written; emails and the import ask what a reader sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iep_followup.domain import NO_TRANSLATIONS, MeetingRecord

# For people reading the CLI and the logs (the emails name languages through their catalogs).
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


@dataclass(frozen=True)
class MeetingText:
    """One free text of a meeting: as written, the language it was written in, its versions."""

    original: str
    language: str = "en"
    translations: Mapping[str, str] = NO_TRANSLATIONS

    def for_reader(self, language: str) -> Shown:
        if language == self.language:
            return Shown(self.original)
        version = self.translations.get(language)
        if version is not None:
            return Shown(version)
        return Shown(self.original, written_in=self.language)


@dataclass(frozen=True)
class Shown:
    """What a reader sees: their version, or the text as written and the language it is in."""

    text: str
    written_in: str | None = None  # set only when the reader's language has no version

    @property
    def is_missing(self) -> bool:
        return self.written_in is not None


@dataclass(frozen=True)
class Phrasebook:
    """The meeting texts an email may show, found by what they say.

    Found by their words, not by row ids: the same words have the same translation, and every
    email's context (a digest line knows only an item's title) is translated in one place.
    A text the book does not know is taken as written in `default_language`, like any text
    recorded before translations existed, so a reader in another language sees it marked.
    """

    texts: Mapping[str, MeetingText] = field(default_factory=dict)
    default_language: str = "en"

    def shown(self, text: str, language: str) -> Shown:
        found = self.texts.get(text) or MeetingText(text, self.default_language)
        return found.for_reader(language)


@dataclass(frozen=True)
class TranslationGap:
    """Readers of one language, and the texts they would get in another language."""

    language: str
    readers: tuple[str, ...]  # names
    texts: tuple[str, ...]  # as written

    @property
    def message(self) -> str:
        who = " and ".join(self.readers) if len(self.readers) < 3 else ", ".join(self.readers)
        verb = "reads" if len(self.readers) == 1 else "read"
        name = LANGUAGE_NAMES.get(self.language, self.language)
        count = "1 text has" if len(self.texts) == 1 else f"{len(self.texts)} texts have"
        quoted = "; ".join(f'"{t}"' for t in self.texts)
        return f"{who} {verb} {name}: {count} no {name} version: {quoted}"


def read_texts(record: MeetingRecord) -> list[MeetingText]:
    """The texts the team's emails show: strengths, concerns and item titles (not the notes)."""
    texts = [MeetingText(s.text, record.language, s.translations) for s in record.strengths]
    for concern in record.concerns:
        texts.append(MeetingText(concern.text, record.language, concern.translations))
        texts += [MeetingText(i.title, record.language, i.translations) for i in concern.items]
    texts += [MeetingText(a.text, record.language, a.translations) for a in record.accommodations]
    return texts


def translation_gaps(record: MeetingRecord) -> list[TranslationGap]:
    """One gap per reader language that some texts have no version in, readers named."""
    readers = [(m.name, m.language) for m in record.members]
    return gaps_for(read_texts(record), readers)


def gaps_for(
    texts: Iterable[MeetingText], readers: Iterable[tuple[str, str]]
) -> list[TranslationGap]:
    """`readers` are (name, language): each language's readers, and what they lack."""
    texts = list(texts)
    by_language: dict[str, list[str]] = {}
    for name, language in readers:
        by_language.setdefault(language, []).append(name)
    gaps = []
    for language, names in by_language.items():
        missing = [t.original for t in texts if t.for_reader(language).is_missing]
        if missing:
            unique = tuple(dict.fromkeys(missing))
            gaps.append(TranslationGap(language, tuple(names), unique))
    return gaps
