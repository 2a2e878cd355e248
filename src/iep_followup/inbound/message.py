"""Raw email bytes to a ParsedMessage: decoded headers, the best plain-text body, and
what is worth keeping of the message (its text parts, never its attachments).

Pure and total: any input, however broken, gives a ParsedMessage, with `problem` set
when something could not be read.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

from iep_followup.inbound.html import html_to_text

# What the big mail providers let a person send; a reply with a phone photo fits.
MAX_MESSAGE_BYTES = 25_000_000

# Address fields are read only this far. A real reply names a team, tens of addresses; the
# standard library's address parser takes time that grows with the square of a field's
# length (80,000 addresses took 80 s), so each field is cut first, in one pass over its text.
MAX_ADDRESSES = 100  # read of each kind: From; To and Cc; Delivered-To and its kin; Reply-To
MAX_ADDRESS_CHARS = 10_000  # of one address field, before its addresses are read
# Of a decoded field such as the subject (kept to 500 characters): its encoded words cost
# the parser as much as addresses do.
MAX_DECODED_CHARS = 2_000

# Of a MIME field (Content-Type, Content-Disposition) in any part: the standard library
# reads their parameters, a boundary first, in time that grows with the square of the
# field. A real one is under a thousand characters, even with a long file name.
MAX_MIME_FIELD_CHARS = 8_000

_POLICY = email.policy.default
_MAX_DEPTH = 30  # MIME nesting we follow; real mail stays under ten
_HEADER_SCAN = 256 * 1024
_MIME_FIELD = re.compile(
    rb"^content-(?:type|disposition)[ \t]*:(?:[^\n]*\n[ \t])*[^\n]*", re.IGNORECASE | re.MULTILINE
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_IDS = re.compile(r"<([^<>\s]+)>")
_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_LATIN1 = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "cp819"}
_ASCII = {"us-ascii", "ascii", "ansi_x3.4-1968", "646"}


@dataclass(frozen=True)
class ParsedMessage:
    """What the inbound pipeline needs from one email; every field is safe to store."""

    raw_size: int
    message_id: str | None = None  # without angle brackets
    from_address: str | None = None  # lowercased addr-spec
    from_name: str | None = None
    from_count: int = 0  # mailboxes the From field names (at most MAX_ADDRESSES)
    sender_address: str | None = None  # the Sender field's, lowercased
    reply_to: tuple[str, ...] = ()  # Reply-To, lowercased
    to_addresses: tuple[str, ...] = ()  # To and Cc, lowercased
    delivered_to: tuple[str, ...] = ()  # Delivered-To, X-Original-To, Envelope-To
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None  # aware
    return_path: str | None = None  # "" for the null sender <>
    auto_submitted: str | None = None
    x_autoreply: str | None = None
    x_autorespond: str | None = None
    precedence: str | None = None
    x_iep_followup: str | None = None
    content_type: str = "text/plain"
    report_type: str | None = None  # multipart/report's report-type, lowercased
    text: str = ""
    text_from_html: bool = False
    delivery_status: str | None = None  # the message/delivery-status fields, as text
    original_message_id: str | None = None  # from a report's returned headers
    problem: str | None = None
    addresses_cut: bool = False  # an address field named more than was read (MAX_ADDRESSES)
    # The message without its attachments, when it had any: what is kept of it instead.
    text_only: bytes | None = field(default=None, repr=False)


def parse_message(
    raw: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES, size: int | None = None
) -> ParsedMessage:
    """Read one email. Never raises; what went wrong is in `problem`.

    `size` is the whole message's size when `raw` is only its beginning (a mailbox that
    was not asked for more than the header of a message over the limit).
    """
    try:
        data = bytes(raw)
    except (TypeError, ValueError):
        return ParsedMessage(raw_size=0, problem="message is not bytes")
    total = max(len(data), size or 0)
    if total > max_bytes:
        problem = f"message is larger than the {max_bytes / 1_000_000:g} MB limit"
        return _parse_headers_only(data, problem, total)
    if _long_mime_field(data):
        return _parse_headers_only(
            data, "a Content-Type or Content-Disposition field is too long to read"
        )
    try:
        return _from_message(_parse(data), data)
    except RecursionError:
        return _parse_headers_only(data, "message parts are nested too deeply to read")
    except Exception as exc:  # the stdlib parser has many odd failure modes; stay total
        return _parse_headers_only(data, f"message could not be read ({type(exc).__name__})")


def _parse(data: bytes) -> Message:
    # compat32 keeps every header a raw string: the parser never raises on a malformed
    # value, and a header is decoded (by the default policy's classes) only when read
    # below. The default policy would parse each header again on every read, which was
    # a quarter of a reply's ingestion.
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _long_mime_field(data: bytes) -> bool:
    """Whether any part has a MIME field too long to parse in reasonable time. One pass."""
    return any(m.end() - m.start() > MAX_MIME_FIELD_CHARS for m in _MIME_FIELD.finditer(data))


def _parse_headers_only(data: bytes, problem: str, size: int | None = None) -> ParsedMessage:
    size = len(data) if size is None else size
    head = data[:_HEADER_SCAN]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    head = head[: min(ends)] if ends else head
    # Without a MIME field too long to parse: the message is read as plain text.
    head = _MIME_FIELD.sub(lambda m: m[0] if len(m[0]) <= MAX_MIME_FIELD_CHARS else b"", head)
    try:
        return replace(_headers(_parse(head + b"\n\n"), size), problem=problem)
    except Exception:  # even the header block is unreadable
        return ParsedMessage(raw_size=size, problem=problem)


def _from_message(msg: Message, data: bytes) -> ParsedMessage:
    body = _Body()
    body.collect(msg)
    text, from_html = body.best_text()
    parsed = _headers(msg, len(data))
    report = parsed.content_type == "multipart/report" or body.delivery_status is not None
    return replace(
        parsed,
        text=text,
        text_from_html=from_html,
        delivery_status=body.delivery_status,
        original_message_id=body.original_message_id if report else None,
        problem=body.problem,
        text_only=_text_only(msg, data),
    )


def _headers(msg: Message, size: int) -> ParsedMessage:
    authors = _Addresses(msg)
    sender = authors.read(("from",))
    from_name, from_address = sender[0] if sender else ("", "")
    on_behalf = authors.recipients(("sender",))
    content_type = _content_type(msg)
    report_type = _param(msg, "report-type") if content_type == "multipart/report" else None
    return ParsedMessage(
        raw_size=size,
        message_id=next(iter(_ids(_raw(msg, "message-id"))), None),
        from_address=from_address or None,
        from_name=from_name or None,
        from_count=len(sender),
        sender_address=on_behalf[0] if on_behalf else None,
        reply_to=authors.recipients(("reply-to",)),
        to_addresses=authors.recipients(("to", "cc")),
        delivered_to=authors.recipients(("delivered-to", "x-original-to", "envelope-to")),
        in_reply_to=_ids(_raw(msg, "in-reply-to")),
        references=_ids(_raw(msg, "references")),
        subject=_decoded(msg, "subject") or "",
        date=_date(_raw(msg, "date")),
        return_path=_return_path(_raw(msg, "return-path")),
        auto_submitted=_decoded(msg, "auto-submitted"),
        x_autoreply=_decoded(msg, "x-autoreply"),
        x_autorespond=_decoded(msg, "x-autorespond"),
        precedence=_decoded(msg, "precedence"),
        x_iep_followup=_decoded(msg, "x-iep-followup"),
        content_type=content_type,
        report_type=report_type.lower() if report_type else None,
        addresses_cut=authors.cut,
    )


# -- headers: the default policy decodes best but raises on some malformed values, so
# every read falls back to the raw (compat32-style) value.


def _raw_values(msg: Message, name: str) -> list[str]:
    return [str(v) for k, v in msg.raw_items() if k.lower() == name]


def _raw(msg: Message, name: str) -> str | None:
    values = _raw_values(msg, name)
    return _clean(_unfold(values[0])) if values else None


def _unfold(value: str) -> str:
    """One line, with raw 8-bit bytes (which the parser keeps as surrogates) decoded."""
    return _clean(re.sub(r"\r?\n|\r", "", value))


def _decoded(msg: Message, name: str) -> str | None:
    values = _raw_values(msg, name)
    if not values:
        return None
    value = _unfold(values[0][:MAX_DECODED_CHARS])
    if value.isascii() and "=?" not in value:  # no encoded words: nothing to decode
        return " ".join(value.split())
    try:
        text = str(_POLICY.header_factory(name, value))
    except Exception:
        try:
            text = str(make_header(decode_header(value)))
        except Exception:
            text = value
    return " ".join(_clean(text).split())


class _Addresses:
    """Reads address fields, each cut to its first MAX_ADDRESSES before it is parsed; notes a cut."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.cut = False

    def read(self, names: Iterable[str]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for name in names:
            for value in _raw_values(self.msg, name):
                room = MAX_ADDRESSES - len(found)
                if room <= 0:
                    self.cut = True
                    return found
                head, shortened = first_addresses(value, room)
                pairs = _addresses(_unfold(head))
                self.cut = self.cut or shortened or len(pairs) > room
                found.extend(pairs[:room])
        return found

    def recipients(self, names: Iterable[str]) -> tuple[str, ...]:
        return _unique(a for _, a in self.read(names) if "@" in a)


def first_addresses(value: str, count: int) -> tuple[str, bool]:
    """The start of an address field: its first `count` addresses, in at most
    MAX_ADDRESS_CHARS, and whether anything was left out. One pass, so linear in the field.

    Cut at a comma between addresses; one in a quoted name ("Doe, Jane") or a comment is not
    between addresses.
    """
    text = value[:MAX_ADDRESS_CHARS]
    quoted = escaped = False
    depth = commas = 0
    last = -1
    for at, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and not depth:
            commas += 1
            last = at
            if commas == count:
                return text[:at], bool(value[at + 1 :].strip(" \t\r\n,"))
    if len(value) > MAX_ADDRESS_CHARS:
        # The last address may be cut in two: keep only whole ones.
        return (text[:last] if last >= 0 else ""), True
    return text, False


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        header = _POLICY.header_factory("to", value)
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
    except Exception:
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = []
    cleaned = []
    for name, addr in pairs:
        address = _clean(addr).strip().strip("<>").lower()
        if address and not any(c.isspace() for c in address):
            cleaned.append((" ".join(_clean(name).split()), address))
    return cleaned


def _ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = _IDS.findall(value) or [t.strip("<>") for t in value.split()]
    return _unique(i for i in found if i)


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    inner = value.strip()
    if match := re.search(r"<([^<>]*)>", inner):
        inner = match.group(1)
    return inner.strip().lower()


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except Exception:  # TypeError, ValueError, IndexError, OverflowError depending on the input
        return None
    # "-0000" means "time zone unknown"; RFC 5322 says to read it as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _content_type(part: Message) -> str:
    try:
        kind = part.get_content_type()
    except Exception:
        match = re.match(r"\s*([\w.+-]+/[\w.+-]+)", _raw(part, "content-type") or "")
        kind = match.group(1) if match else ""
    kind = kind.lower()
    # What RFC 2045 says to assume for a type that is missing or unreadable.
    return kind if _MIME_TYPE.fullmatch(kind) else "text/plain"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
        text = collapse_rfc2231_value(value) if value is not None else None
    except Exception:
        match = re.search(rf";\s*{name}\s*=\s*\"?([^\";]*)", _raw(part, header) or "", re.I)
        text = match.group(1) if match else None
    return _clean(text).strip() if text else None


def _clean(text: str) -> str:
    """Undo the parser's surrogate escapes and drop control characters."""
    if any("\udc80" <= c <= "\udcff" for c in text):
        text = _decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from odd charsets
    return _CONTROL.sub("", text)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# -- body


class _Body:
    """Walks the MIME tree once, without recursion, noting what the pipeline needs."""

    def __init__(self) -> None:
        self.plain: str | None = None
        self.html: str | None = None
        self.delivery_status: str | None = None
        self.original_message_id: str | None = None
        self.problem: str | None = None

    def collect(self, msg: Message) -> None:
        stack: list[tuple[Message, int]] = [(msg, 0)]
        while stack:
            part, depth = stack.pop()
            if depth > _MAX_DEPTH:
                self.problem = "message parts are nested too deeply; the deepest were skipped"
                continue
            kind = _content_type(part)
            if kind.startswith("multipart/") or kind == "message/delivery-status":
                if kind == "message/delivery-status":
                    self._note_delivery_status(part)
                    continue
                children = _children(part)
                stack.extend((child, depth + 1) for child in reversed(children))
            elif kind in {"message/rfc822", "text/rfc822-headers"}:
                self._note_returned_headers(part, kind)
            elif kind in ("text/plain", "text/html") and not _is_attachment(part):
                self._note_text(part, kind)

    def _note_text(self, part: Message, kind: str) -> None:
        text = _part_text(part)
        if not text.strip():
            return
        if kind == "text/plain" and self.plain is None:
            if (_param(part, "format") or "").lower() == "flowed":
                text = _unflow(text, (_param(part, "delsp") or "").lower() == "yes")
            self.plain = text
        elif kind == "text/html" and self.html is None:
            self.html = text

    def _note_delivery_status(self, part: Message) -> None:
        if self.delivery_status is not None:
            return
        payload = _payload(part)
        if isinstance(payload, list):
            blocks = [
                "\n".join(f"{k}: {_unfold(str(v))}" for k, v in b.raw_items()) for b in payload
            ]
            self.delivery_status = _clean("\n\n".join(blocks))
        else:
            self.delivery_status = _part_text(part)

    def _note_returned_headers(self, part: Message, kind: str) -> None:
        if self.original_message_id is not None:
            return
        payload = _payload(part)
        returned: Message | None = None
        if kind == "message/rfc822" and isinstance(payload, list) and payload:
            returned = payload[0]
        elif kind == "text/rfc822-headers":
            try:
                returned = email.message_from_string(_part_text(part), policy=email.policy.compat32)
            except Exception:
                returned = None
        if returned is not None:
            self.original_message_id = next(iter(_ids(_raw(returned, "message-id"))), None)

    def best_text(self) -> tuple[str, bool]:
        if self.plain is not None:
            return _tidy(self.plain), False
        if self.html is not None:
            return _tidy(html_to_text(self.html)), True
        return "", False


def _text_only(msg: Message, data: bytes) -> bytes | None:
    """The message again without its attachments (photos, files), or None if it had none.

    Prunes `msg` in place. What is kept is written from the default policy's reading of
    `data`, so its headers come back exactly as they came.
    """
    try:
        if not _drop_attachments(msg):
            return None
        full: Message
        try:
            full = email.message_from_bytes(data, policy=_POLICY)
        except Exception:  # the default policy raises on some malformed values
            full = msg
        else:
            _drop_attachments(full)
        return _written(full)
    except Exception:  # a part that cannot be written back: keep nothing rather than all
        return b""


def _drop_attachments(msg: Message) -> bool:
    dropped = False
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if not _is_kept(part):  # the message itself, or one attached to it, is a file
            if _payload(part):
                part.set_payload("")
                dropped = True
            continue
        kind = _content_type(part)
        payload = _payload(part)
        if kind == "message/rfc822" and isinstance(payload, list):
            stack.extend((inner, depth + 1) for inner in payload if isinstance(inner, Message))
        elif kind.startswith("multipart/") and isinstance(payload, list):
            kept = [
                child
                for child in payload
                if isinstance(child, Message) and depth < _MAX_DEPTH and _is_kept(child)
            ]
            if len(kept) < len(payload):
                dropped = True
                payload[:] = kept  # the part's own list of children
            stack.extend((child, depth + 1) for child in kept)
    return dropped


def _is_kept(part: Message) -> bool:
    """Containers, and the parts _Body reads."""
    kind = _content_type(part)
    if kind in ("text/plain", "text/html"):
        return not _is_attachment(part)
    return kind.startswith("multipart/") or kind in (
        "message/rfc822",
        "message/delivery-status",
        "text/rfc822-headers",
    )


def _written(msg: Message) -> bytes:
    policy = msg.policy
    if isinstance(policy, email.policy.EmailPolicy):
        policy = policy.clone(refold_source="none")  # headers exactly as they came
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=policy.clone(linesep="\r\n")).flatten(msg)
    return out.getvalue()


def _payload(part: Message) -> object:
    try:
        return part.get_payload()
    except Exception:
        return None


def _children(part: Message) -> list[Message]:
    payload = _payload(part)
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = (_raw(part, "content-disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment"


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        payload = _payload(part)
        return _clean(payload) if isinstance(payload, str) else ""
    return _decode_bytes(data, _param(part, "charset"))


def _decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode with the declared charset, then the usual suspects; latin-1 always succeeds."""
    for charset in _charsets(declared):
        text = _try_decode(data, charset)
        if text is not None:
            return text
    return data.decode("latin-1")


def _try_decode(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except Exception:  # LookupError, UnicodeError, or a codec's own error
        return None


def _charsets(declared: str | None) -> Iterator[str]:
    name = (declared or "").strip().strip("\"'").lower()
    if name in _ASCII:
        name = "utf-8"  # "us-ascii" bodies with 8-bit bytes are usually UTF-8
    elif name in _LATIN1:
        # What browsers do: real "latin-1" mail is nearly always Windows-1252 (curly quotes).
        name = "windows-1252"
    if name:
        yield name
    yield from ("utf-8", "windows-1252", "latin-1")


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _CONTROL.sub("", text).strip("\n")


def _unflow(text: str, delsp: bool) -> str:
    """Join format=flowed soft line breaks (RFC 3676) so each paragraph is one line."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content.removeprefix(" ")  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if pending is not None and depth != pending_depth:
            out.append(_quoted(pending, pending_depth))
            pending = None
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not soft:
            out.append(_quoted(pending, depth))
            pending = None
    if pending is not None:
        out.append(_quoted(pending, pending_depth))
    return "\n".join(out)


def _quoted(text: str, depth: int) -> str:
    return f"{'>' * depth} {text}" if depth else text
