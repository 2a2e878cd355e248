"""Cut the owner's own words out of a reply: our marker, then quotes and signatures.

mail-parser-reply does the general work; the rules here cover what it misses (Spanish
and wrapped attributions, unquoted Outlook headers, phone signatures, inline replies).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mailparser_reply import EmailMessage

from iep_followup.markers import REPLY_MARKERS

# The library's regexes backtrack badly on huge text; real replies are far smaller.
_LIBRARY_MAX_CHARS = 20_000
_LIBRARY_MAX_LINE = 2_000

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00"))
_SPACES = dict.fromkeys(map(ord, "\xa0\u202f\u2007\t"), " ")
_MARKER_EDGES = " -_=*~.:·•—–‐‑−"  # the dashes clients turn ours into

_WROTE_START = re.compile(r"(?:on|el)\s")
_WROTE_END = re.compile(r"(?:wrote|escribio)\s*:$")
_FROM_LABEL = re.compile(r"\**(?:from|de)\s*:\**\s*\S")
_OTHER_LABEL = re.compile(
    r"\**(?:sent|date|to|cc|subject|enviado(?: el)?|fecha|para|asunto|importance|importancia)"
    r"\s*:"
)
_SEPARATOR = re.compile(r"[_=-]{8,}")
_ORIGINAL = re.compile(
    r"-{2,}\s*(?:original message|mensaje original|forwarded message|mensaje reenviado)\s*-{2,}"
    r"|(?:begin forwarded message|inicio del mensaje reenviado)\s*:"
)
_PHONE_SIGNATURE = re.compile(
    r"(?:sent|enviado)\s+(?:from|desde)\s+(?:my|mi)\s+\S.{0,50}"
    r"|(?:sent|enviado)\s+(?:from|desde|with|con)\s+"
    r"(?:outlook|yahoo|aol|gmail|proton|samsung|mail|correo|the|la)\b.{0,50}"
    r"|(?:get|obtener|obtenga|descargar|descarga|download)\s+outlook\s+(?:for|para)\b.{0,40}"
)


@dataclass(frozen=True)
class Trimmed:
    kept: str  # what the owner wrote
    removed: str  # everything cut, kept for the audit trail


def fold(text: str) -> str:
    """Lowercase without accents, for matching what people type in either language."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_MARKERS = frozenset(" ".join(fold(m).split()) for m in REPLY_MARKERS.values())


def trim_reply(text: str) -> Trimmed:
    """Split a reply body into what the owner wrote and what was quoted or signed. Never raises."""
    lines = _normalize(str(text)).split("\n")
    dropped = [False] * len(lines)
    end = next((i for i, line in enumerate(lines) if _is_marker(line)), len(lines))
    for i in range(end, len(lines)):
        dropped[i] = True
    if _is_inline(lines[:end]):
        for i in _inline_quote_lines(lines[:end]):
            dropped[i] = True
    live = [i for i in range(end) if not dropped[i]]
    view = [lines[i] for i in live]
    cut = _tail_start(view)
    cut = min(cut, _library_cut(view[:cut]))
    for i in live[cut:]:
        dropped[i] = True
    kept = "\n".join(line for line, gone in zip(lines, dropped, strict=True) if not gone)
    removed = "\n".join(line for line, gone in zip(lines, dropped, strict=True) if gone)
    return Trimmed(kept=re.sub(r"\n{3,}", "\n\n", kept).strip(), removed=removed.strip())


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).translate(_SPACES)
    return "\n".join(line.strip() for line in text.split("\n"))


@functools.lru_cache(maxsize=8192)
def _key(line: str) -> str:
    """The folded line without quoting, for the header and signature rules.

    Cached: the rules look at each line several times, and quoted requests repeat lines.
    """
    return re.sub(r"^[>\s]+", "", fold(line)).strip()


def _is_marker(line: str) -> bool:
    key = _key(line)
    if len(key) > 120:
        return False
    return " ".join(key.strip(_MARKER_EDGES).split()) in _MARKERS


def _is_quoted(line: str) -> bool:
    return line.startswith(">")


def _wrote_span(lines: Sequence[str], i: int) -> int:
    """How many lines (1-3) an "On … wrote:" / "El … escribió:" attribution at i spans, or 0."""
    if not _WROTE_START.match(_key(lines[i])):
        return 0
    joined = ""
    for n in range(3):
        if i + n >= len(lines) or not lines[i + n]:
            return 0
        joined = f"{joined} {_key(lines[i + n])}".strip()
        if len(joined) > 400:
            return 0
        if _WROTE_END.search(joined):
            # A date or an address: "On Monday she wrote:" in a note is not an attribution.
            return n + 1 if re.search(r"[\d@]", joined) else 0
    return 0


def _is_outlook_header(lines: Sequence[str], i: int) -> bool:
    if not _FROM_LABEL.match(_key(lines[i])):
        return False
    labels = sum(1 for line in lines[i + 1 : i + 7] if _OTHER_LABEL.match(_key(line)))
    return labels >= 2


def _is_signature_start(line: str) -> bool:
    key = _key(line)
    return (
        line in ("--", "-- ")
        or bool(_PHONE_SIGNATURE.fullmatch(key))
        or bool(_ORIGINAL.fullmatch(key))
        or (line.startswith("___") and bool(_SEPARATOR.fullmatch(line)))
    )


def _tail_start(lines: Sequence[str]) -> int:
    """The first line of the quoted or signed tail, or len(lines)."""
    for i, line in enumerate(lines):
        if _is_quoted(line) or _wrote_span(lines, i) or _is_signature_start(line):
            return i
        if _is_outlook_header(lines, i):
            above = i - 1
            while above >= 0 and not lines[above]:
                above -= 1
            return above if above >= 0 and _SEPARATOR.fullmatch(lines[above]) else i
    return len(lines)


def _is_inline(lines: Sequence[str]) -> bool:
    """Did the owner answer between quoted lines (or below the quote)?"""
    first = next((i for i, line in enumerate(lines) if _is_quoted(line)), None)
    if first is None:
        return False
    i = first + 1
    while i < len(lines):
        line = lines[i]
        if _is_signature_start(line) or _is_outlook_header(lines, i):
            return False
        if span := _wrote_span(lines, i):
            i += span
            continue
        if line and not _is_quoted(line):
            return True
        i += 1
    return False


def _inline_quote_lines(lines: Sequence[str]) -> list[int]:
    """Quoted lines, and the attributions right above a quoted block."""
    found = [i for i, line in enumerate(lines) if _is_quoted(line)]
    for i in range(len(lines)):
        span = _wrote_span(lines, i)
        after = next((j for j in range(i + span, len(lines)) if lines[j]), None)
        if span and after is not None and _is_quoted(lines[after]):
            found.extend(range(i, i + span))
    return found


def _library_cut(lines: Sequence[str]) -> int:
    """Where mail-parser-reply would end the reply, when that is a clean cut of `lines`."""
    text = "\n".join(lines)
    if (
        not text.strip()
        or len(text) > _LIBRARY_MAX_CHARS
        or any(len(line) > _LIBRARY_MAX_LINE for line in lines)
    ):
        return len(lines)
    try:
        # keep_hyphen_lists: its default reads "- A1 done" as the start of a signature.
        message = EmailMessage(text=text, languages=["en", "es"], keep_hyphen_lists=True).read()
        first = message.replies[0]
    except Exception:  # a third-party regex engine on arbitrary text: never let it stop us
        return len(lines)
    if first.headers:
        return 0  # the text starts with a reply header: nothing above it was written
    cut = _prefix_end(lines, first.content)
    body_cut = _prefix_end(lines, first.body)
    if cut is None:
        return len(lines)
    if body_cut is not None and body_cut < cut:
        start = next((line for line in lines[body_cut:cut] if line), "")
        # Its signature phrases ("Thanks,", "Gracias,") are not anchored to the line end,
        # so "Thanks, A2 is at 50%" would be cut; accept only short, number-free lines.
        if len(start.split()) <= 6 and not any(c.isdigit() for c in start):
            return body_cut
        if any(d.startswith(start[:40]) for d in first.disclaimers if d):
            return body_cut
    return cut


def _prefix_end(lines: Sequence[str], fragment: str) -> int | None:
    """If `fragment` is the text of lines[k:n] after leading blanks, return n."""
    wanted = [line.strip() for line in fragment.strip().split("\n")]
    start = next((i for i, line in enumerate(lines) if line), len(lines))
    if wanted == [""]:
        return start
    end = start + len(wanted)
    if end <= len(lines) and [line.strip() for line in lines[start:end]] == wanted:
        return end
    return None
