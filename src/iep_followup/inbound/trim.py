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
from mailparser_reply.parser import EmailReply

from iep_followup.inbound import quoting
from iep_followup.markers import REPLY_MARKERS

# The library's regexes backtrack badly on huge text; real replies are far smaller.
_LIBRARY_MAX_CHARS = 20_000
_LIBRARY_MAX_LINE = 2_000
_LIBRARY_LANGUAGES = ["en", "es", "de", "fr", "it", "nl", "pl"]

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00"))
_SPACES = dict.fromkeys(map(ord, "\xa0\u202f\u2007\t"), " ")
_MARKER_EDGES = " -_=*~.:·•—–‐‑−"  # the dashes clients turn ours into
_HEADER_BLOCK_MAX = 8  # lines from "From:" to the blank line under the block


@dataclass(frozen=True)
class Trimmed:
    kept: str  # what the owner wrote
    removed: str  # everything cut, kept for the audit trail
    # The message has unquoted text but all of it sits inside what looks like a quoted or
    # forwarded message: we cannot tell the reply from the quote, so `kept` is empty.
    unclear: bool = False


def fold(text: str) -> str:
    """Lowercase without accents, for matching what people type in either language."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_MARKERS = frozenset(" ".join(fold(m).split()) for m in REPLY_MARKERS.values())


def trim_reply(text: str) -> Trimmed:
    """Split a reply body into what the owner wrote and what was quoted or signed. Never raises."""
    lines = _normalize(str(text)).split("\n")
    dropped = _request_copy(lines)
    for i in _attribution_above_reply(lines, dropped):
        dropped[i] = True
    if _is_inline([line for line, gone in zip(lines, dropped, strict=True) if not gone]):
        live = [i for i, gone in enumerate(dropped) if not gone]
        for k in _inline_quote_lines([lines[i] for i in live]):
            dropped[live[k]] = True
    live = [i for i, gone in enumerate(dropped) if not gone]
    view = [lines[i] for i in live]
    tail = _tail_start(view)
    cut = min(tail, _library_cut(view[:tail]))
    cut = _signature_block_start(view[:cut])
    cut = _signoff_start(view[:cut])
    unclear = False
    if not any(view[:cut]):
        # Never lose a reply: what the sign-off or library rules took is the reply itself.
        if any(view[:tail]):
            cut = tail
        else:
            unclear = _has_unquoted_text(view[tail:])
    for i in live[cut:]:
        dropped[i] = True
    kept = "\n".join(line for line, gone in zip(lines, dropped, strict=True) if not gone)
    removed = "\n".join(line for line, gone in zip(lines, dropped, strict=True) if gone)
    return Trimmed(
        kept=re.sub(r"\n{3,}", "\n\n", kept).strip(), removed=removed.strip(), unclear=unclear
    )


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).translate(_SPACES)
    return "\n".join(line.strip() for line in text.split("\n"))


@functools.lru_cache(maxsize=8192)
def _key(line: str) -> str:
    """The folded line without quoting and with single spaces, for the rules in `quoting`.

    Cached: the rules look at each line several times, and quoted requests repeat lines.
    """
    return " ".join(re.sub(r"^[>|\s]+", "", fold(line)).split())


def _is_marker(line: str) -> bool:
    key = _key(line)
    if len(key) > 120:
        return False
    return " ".join(key.strip(_MARKER_EDGES).split()) in _MARKERS


def _is_quoted(line: str) -> bool:
    return line.startswith(">") or (line.startswith("|") and line[1:2] in ("", " ", "|", ">"))


def _request_copy(lines: Sequence[str]) -> list[bool]:
    """Drop our marker and the request below it.

    A quoted marker whose quote goes on below it only ends that quote: what follows the
    quote is a bottom-posted reply.
    """
    dropped = [False] * len(lines)
    i = 0
    while i < len(lines):
        if not _is_marker(lines[i]):
            i += 1
            continue
        below = next((j for j in range(i + 1, len(lines)) if lines[j]), len(lines))
        if not (_is_quoted(lines[i]) and below < len(lines) and _is_quoted(lines[below])):
            dropped[i:] = [True] * (len(lines) - i)
            break
        end = below
        while end < len(lines) and (not lines[end] or _is_quoted(lines[end])):
            end += 1
        dropped[i:end] = [True] * (end - i)
        i = end
    return dropped


def _attribution_above_reply(lines: Sequence[str], dropped: Sequence[bool]) -> range:
    """An attribution that opens the message with the owner's words under it (some phones).

    Only when a quoted block follows the words: the attribution introduces that quote, so the
    words cannot be an unquoted copy of the request (which is held for a person instead).
    """
    live = [i for i, gone in enumerate(dropped) if not gone]
    view = [lines[i] for i in live]
    first = next((k for k, line in enumerate(view) if line), None)
    if first is None or _is_quoted(view[first]):
        return range(0)
    span = _wrote_span(view, first)
    words = next((k for k in range(first + span, len(view)) if view[k]), None)
    if not span or words is None or _is_quoted(view[words]) or _is_footer(view[words]):
        return range(0)
    if _head_span(view, words):
        return range(0)
    if not any(_is_quoted(line) for line in view[words:]):
        return range(0)
    return range(live[first], live[first + span - 1] + 1)


_ATTRIBUTION_LINES = 4


def _wrote_span(lines: Sequence[str], i: int) -> int:
    """How many lines (1-3, 4 around a <mailto:…>) an attribution ("On … wrote:", "Am … schrieb …:") at i spans, or 0."""
    head = _key(lines[i]).lstrip("-=* ")
    with_start = bool(quoting.ATTRIBUTION_START.match(head))
    date_first = bool(quoting.DATE_FIRST.match(head))
    # "Name <addr> wrote:" has no opening word: it must follow a blank and name an address.
    bare = not (with_start or date_first) and (i == 0 or not lines[i - 1]) and "@" in head
    if not (with_start or date_first or bare) or not head:
        return 0
    joined = ""
    for n in range(_ATTRIBUTION_LINES):
        if n == _ATTRIBUTION_LINES - 1 and "mailto:" not in joined:
            return 0  # a fourth line only when a client wrapped the address around <mailto:…>
        if i + n >= len(lines) or not lines[i + n]:
            return 0
        joined = f"{joined} {_key(lines[i + n])}".strip()
        if len(joined) > 400:
            return 0
        wrote = bool(quoting.WROTE_END.search(joined) or quoting.WROTE_BEFORE_NAME.search(joined))
        if date_first and not wrote:
            wrote = joined.endswith((":", ">")) and bool(quoting.ADDRESS_END.search(joined))
        if wrote:
            # A date or an address: "On Monday she wrote:" in a note is not an attribution.
            return n + 1 if re.search(r"[\d@]", joined) else 0
    return 0


def _header_span(lines: Sequence[str], i: int) -> int:
    """How many lines an unquoted "From:/Sent:/To:/Subject:" block at i spans, or 0."""
    if not quoting.FROM_LABEL.match(_key(lines[i])):
        return 0
    labels = sum(1 for line in lines[i + 1 : i + 7] if quoting.OTHER_LABEL.match(_key(line)))
    if labels < 2:
        return 0
    end = i + 1
    while end < len(lines) and lines[end] and end - i < _HEADER_BLOCK_MAX:
        end += 1
    return end - i


def _is_separator(line: str) -> bool:
    return bool(quoting.SEPARATOR.fullmatch(_key(line))) or (
        line.startswith("___") and bool(quoting.RULE.fullmatch(line))
    )


def _is_footer(line: str) -> bool:
    return line in ("--", "-- ") or bool(quoting.FOOTER.fullmatch(_key(line)))


def _head_span(lines: Sequence[str], i: int) -> int:
    """Lines of what introduces a quoted message at i: attribution, header block, separator."""
    if _is_separator(lines[i]):
        return 1
    return _wrote_span(lines, i) or _header_span(lines, i)


def _tail_start(lines: Sequence[str]) -> int:
    """The first line of the quoted or signed tail, or len(lines)."""
    for i, line in enumerate(lines):
        if _is_quoted(line) or _is_footer(line) or _head_span(lines, i):
            if _header_span(lines, i):
                above = i - 1
                while above >= 0 and not lines[above]:
                    above -= 1
                if above >= 0 and quoting.RULE.fullmatch(lines[above]):
                    return above
            return i
    return len(lines)


def _is_inline(lines: Sequence[str]) -> bool:
    """Did the owner answer between quoted lines (or below the quote)?"""
    first = next((i for i, line in enumerate(lines) if _is_quoted(line)), None)
    if first is None:
        return False
    i = first + 1
    while i < len(lines):
        line = lines[i]
        if not line or _is_quoted(line):
            i += 1
            continue
        if _is_footer(line):
            return False
        if span := _head_span(lines, i):
            if _header_span(lines, i) or _is_separator(line):
                return False  # an unquoted original below the quote: a top-posted reply
            i += span
            continue
        return True
    return False


def _inline_quote_lines(lines: Sequence[str]) -> list[int]:
    """Quoted lines, and the attributions or headers that introduce a quoted block."""
    found = [i for i, line in enumerate(lines) if _is_quoted(line)]
    heads: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        span = _head_span(lines, i) if lines[i] and not _is_quoted(lines[i]) else 0
        if span:
            heads.append((i, span))
        i += max(span, 1)
    introduces: set[int] = set()
    for start, span in reversed(heads):
        after = next((j for j in range(start + span, len(lines)) if lines[j]), None)
        if after is not None and (_is_quoted(lines[after]) or after in introduces):
            introduces.add(start)
            found.extend(range(start, start + span))
    return found


def _has_unquoted_text(lines: Sequence[str]) -> bool:
    i = 0
    while i < len(lines):
        line = lines[i]
        span = _head_span(lines, i) if line and not _is_quoted(line) else 0
        if span and _header_span(lines, i):
            # Only the labels: a line run on under the block may be the owner's.
            i += 1
            while i < len(lines) and quoting.OTHER_LABEL.match(_key(lines[i])):
                i += 1
            continue
        if span:
            i += span
            continue
        if line and not _is_quoted(line) and not _is_footer(line):
            return True
        i += 1
    return False


def _signoff_start(lines: Sequence[str]) -> int:
    """Where a closing ("Thanks,", "Saludos, Rosa") or a bare name ends the reply, or len(lines)."""
    last = len(lines) - 1
    while last >= 0 and not lines[last]:
        last -= 1
    if last < 1:
        return len(lines)
    start = last
    closing = quoting.CLOSING.fullmatch(_key(lines[last]))
    if closing and (closing["rest"] is None or _is_name(lines[last].split(None, 1)[-1], 1)):
        start = last  # "Thanks", "Gracias, Rosa"
    elif _is_name(lines[last], 0):
        above = quoting.CLOSING.fullmatch(_key(lines[last - 1])) if lines[last - 1] else None
        start = last - 1 if above and above["rest"] is None else last
    else:
        return len(lines)
    # Only after the reply: a sign-off is never the whole message.
    if not any(lines[:start]):
        return len(lines)
    return start


_SIGNATURE_BLOCK_MAX = 6  # a name and up to five lines under it


def _signature_block_start(lines: Sequence[str]) -> int:
    """Where a signature block with no "-- " line starts (a name, then a title, a school, a
    phone on lines of their own), or len(lines). Never the whole message."""
    end = len(lines)
    while end and not lines[end - 1]:
        end -= 1
    start = end
    while start and lines[start - 1] and end - start < _SIGNATURE_BLOCK_MAX:
        start -= 1
    # The name: the first line of the block's tail whose lines under it all look signed.
    for name_at in range(start, end - 1):
        if _is_name(lines[name_at], 0) and all(
            _is_signature_line(line) for line in lines[name_at + 1 : end]
        ):
            above = quoting.CLOSING.fullmatch(_key(lines[name_at - 1])) if name_at else None
            cut = name_at - 1 if above and above["rest"] is None else name_at
            # Never the whole message.
            return cut if any(lines[:cut]) else len(lines)
    return len(lines)


def _is_signature_line(line: str) -> bool:
    """A title, a school, a phone or an address: short, not a sentence, not an update."""
    key = _key(line)
    if len(key) > 60 or key.endswith(("?", "!")) or "%" in key:
        return False
    if quoting.PHONE_OR_ADDRESS.fullmatch(key):
        return True
    return bool(quoting.SIGNATURE_LINE.fullmatch(key))


def _is_name(text: str, skip: int) -> bool:
    """Is `text` (after `skip` leading words) a short name like "Rosa", "- Tom T.", "Some One"?"""
    words = text.lstrip("-–—~ ").split()[skip:]
    if not 1 <= len(words) <= 4 or len(" ".join(words)) > 40:
        return False
    capitalised = 0
    for word in words:
        bare = word.strip(".,")
        if fold(bare) in quoting.NAME_PARTICLES:
            continue
        if not bare or not bare[0].isupper() or fold(bare) in quoting.NOT_A_NAME:
            return False
        if not all(c.isalpha() or c in ".'’-" for c in bare):
            return False
        capitalised += 1
    return capitalised > 0


def _library_cut(lines: Sequence[str]) -> int:
    """Where mail-parser-reply would end the reply, when that is a clean cut of `lines`."""
    first = _library_reply(lines)
    if first is None:
        return len(lines)
    if first.headers:
        return 0  # the text starts with a reply header: nothing above it was written
    cut = _prefix_end(lines, first.content)
    if cut is None:
        return len(lines)
    return _signature_cut(lines, first, cut)


def _library_reply(lines: Sequence[str]) -> EmailReply | None:
    """mail-parser-reply's reading of the newest reply, or None when it is not asked or fails."""
    text = "\n".join(lines)
    if (
        not text.strip()
        or len(text) > _LIBRARY_MAX_CHARS
        or any(len(line) > _LIBRARY_MAX_LINE for line in lines)
    ):
        return None
    try:
        # keep_hyphen_lists: its default reads "- A1 done" as the start of a signature.
        message = EmailMessage(
            text=text, languages=_LIBRARY_LANGUAGES, keep_hyphen_lists=True
        ).read()
        return message.replies[0]
    except Exception:  # a third-party regex engine on arbitrary text: never let it stop us
        return None


def _signature_cut(lines: Sequence[str], first: EmailReply, cut: int) -> int:
    """The earlier cut before the library's signature, when it is one; else `cut`."""
    body_cut = _prefix_end(lines, first.body)
    if body_cut is None or body_cut >= cut:
        return cut
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
