"""What a reader of our emails reads: the parts of a message, its sentences, and the phrases
of the other language that must not reach them (our catalog's and the example meeting's)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from iep_followup.resources import templates_dir

# A texts' language line in a meeting file: `      es: Revisar la tarea ...`.
_MEETING_TEXT = r"^ +{language}: (.+)$"


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def readable(text: str) -> str:
    """Sentences a reader reads: no addresses, no reply examples, each line a sentence."""
    lines = [re.sub(r"\S+@\S+", "", line).strip(" -=—>") for line in text.splitlines()]
    lines = [line for line in lines if line and not re.match(r"A\d\b", line)]
    return " ".join(line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines)


def _phrases(message_ids: list[str]) -> set[str]:
    """Each text cut at its placeholders and quotes; single words ("Item") prove nothing."""
    phrases = set()
    for text in message_ids:
        pieces = (p.strip(" .,:;()?!¿¡") for p in re.split(r"%\(\w+\)s|\"", text))
        phrases |= {piece for piece in pieces if len(piece.split()) >= 2}
    return phrases


@cache
def _spanish_catalog() -> Catalog:
    with (templates_dir() / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def in_language(message_id: str, language: str) -> str:
    """One of our single-form texts (a role or status label) as a reader of `language` reads it."""
    if language == "en":
        return message_id
    found = _spanish_catalog().get(message_id)
    assert found is not None and isinstance(found.string, str) and found.string, message_id
    return found.string


@cache
def _catalog_phrases() -> dict[str, frozenset[str]]:
    """Our templates' and labels' phrases by language: the catalog's ids and their Spanish."""
    catalog = _spanish_catalog()
    english: list[str] = []
    spanish: list[str] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else message.string or []
        english += ids
        spanish += [text for text in strings if text]
    return {"en": frozenset(_phrases(english)), "es": frozenset(_phrases(spanish))}


def english_sentences() -> list[str]:
    """Every English phrase of our templates and labels: the catalog's ids, cut at placeholders."""
    return sorted(_catalog_phrases()["en"])


def meeting_texts(meeting_file: Path, language: str) -> list[str]:
    """The texts a meeting file gives in `language` ({en: ..., es: ...} maps)."""
    pattern = _MEETING_TEXT.format(language=re.escape(language))
    return re.findall(pattern, meeting_file.read_text(encoding="utf-8"), re.MULTILINE)


def foreign_phrases(language: str, meeting_file: Path) -> list[str]:
    """Phrases that must not reach a reader of `language` (en or es): the other language's
    catalog phrases and meeting texts, less any phrase both languages write the same way."""
    other = "es" if language == "en" else "en"
    own = _catalog_phrases()[language] | set(meeting_texts(meeting_file, language))
    theirs = _catalog_phrases()[other] | set(meeting_texts(meeting_file, other))
    return sorted(theirs - own)
