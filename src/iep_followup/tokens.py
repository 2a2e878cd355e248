"""Reply keys: short, lowercase, unguessable tokens that bind a reply to one request and its owner.

A reply key is `r<request id>-<mac>`, where the MAC is an HMAC-SHA256 of the request id, the
owner's id and the expiry, keyed with IEP_FOLLOWUP_SECRET_KEY. Nothing secret is stored:
a copy of the database alone cannot forge a reply, and changing the secret revokes every
outstanding key. A bounce key `b-<outbox id>-<mac>` signs one sent message and its
recipient the same way; it is the plus part of that message's envelope sender (VERP), so a
delivery report proves which message it answers. An answer token `t<request id>-<ref>-<mac>`
signs one item of a request (by its reference, A1, A2, ...) over that request's reply key,
so it is bound to the request, its owner, the item and the expiry like the key itself; it
is the path of a one-tap answer link. A form token `f<issued>.<nonce>.<mac>` is the desk's
CSRF value before sign-in (its cookie and its forms): signed, so a cookie that another site
planted is refused, and dated, so it ends. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

MAC_LENGTH = 20  # base32 characters: 100 bits
_KEY = re.compile(rf"\b(r(\d{{1,18}})-([a-z2-7]{{{MAC_LENGTH}}}))\b")
# A bounce address's tag, `b-<outbox id>-<mac>`: the envelope sender (VERP) of one message.
_BOUNCE_KEY = re.compile(rf"\+(b-(\d{{1,18}})-([a-z2-7]{{{MAC_LENGTH}}}))@")
# An answer link's token, `t<request id>-<item ref>-<mac>`: one item of one request.
_ANSWER_TOKEN = re.compile(rf"t(\d{{1,18}})-([a-z]{{1,3}}\d{{1,4}})-[a-z2-7]{{{MAC_LENGTH}}}")


def make_reply_key(secret: str, request_id: int, person_id: int, expires_at: datetime) -> str:
    return f"r{request_id}-{_mac(secret, request_id, person_id, expires_at)}"


def request_id_of(key: str) -> int | None:
    """The request a key claims to belong to (unverified), or None if it is not shaped like a key."""
    match = _KEY.fullmatch(key.strip().lower())
    return int(match.group(2)) if match else None


def verify_reply_key(
    secret: str, key: str, request_id: int, person_id: int, expires_at: datetime
) -> bool:
    expected = make_reply_key(secret, request_id, person_id, expires_at)
    return hmac.compare_digest(expected.encode(), key.strip().lower().encode())


def find_keys(text: str) -> list[str]:
    """Every key-shaped token in a header value (addresses, Message-IDs), in order."""
    return [m.group(1) for m in _KEY.finditer(text.lower())]


def reply_to_address(reply_address: str, key: str) -> str:
    """`local+key@domain` for the configured reply address."""
    local, _, domain = reply_address.rpartition("@")
    return f"{local.split('+', 1)[0]}+{key}@{domain}"


def make_message_id(key: str | None, unique: str, domain: str) -> str:
    """A Message-ID that carries the key, so a reply's In-Reply-To finds the request."""
    middle = f"{key}.{unique}" if key else unique
    return f"<iep.{middle}@{domain}>"


def make_bounce_key(secret: str, outbox_id: int, recipient: str) -> str:
    """The tag of one message's envelope sender: only a report about that message returns it."""
    return f"b-{outbox_id}-{_sign(secret, f'bounce:{outbox_id}:{recipient.strip().lower()}')}"


def find_bounce_keys(addresses: str) -> list[tuple[str, int]]:
    """(key, outbox id) for every bounce address in a header value, unverified, in order."""
    return [(m.group(1), int(m.group(2))) for m in _BOUNCE_KEY.finditer(addresses.lower())]


def verify_bounce_key(secret: str, key: str, outbox_id: int, recipient: str) -> bool:
    expected = make_bounce_key(secret, outbox_id, recipient)
    return hmac.compare_digest(expected.encode(), key.strip().lower().encode())


def make_answer_token(secret: str, reply_key: str, ref: str) -> str:
    """The token of one item's answer link; `reply_key` is its request's (make_reply_key)."""
    request_id = request_id_of(reply_key)
    if request_id is None:
        raise ValueError("not a reply key")
    ref = ref.strip().lower()
    return f"t{request_id}-{ref}-{_sign(secret, f'answer:{reply_key.strip().lower()}:{ref}')}"


def answer_token_parts(token: str) -> tuple[int, str] | None:
    """(request id, item ref as the email shows it: "A1") a token claims, unverified; None if
    it is not shaped like one."""
    match = _ANSWER_TOKEN.fullmatch(token.strip().lower())
    return (int(match.group(1)), match.group(2).upper()) if match else None


def verify_answer_token(
    secret: str, token: str, request_id: int, person_id: int, expires_at: datetime
) -> bool:
    """True when `token` signs one item of this request, for its owner and its expiry."""
    parts = answer_token_parts(token)
    if parts is None or parts[0] != request_id:
        return False
    key = make_reply_key(secret, request_id, person_id, expires_at)
    expected = make_answer_token(secret, key, parts[1])
    return hmac.compare_digest(expected.encode(), token.strip().lower().encode())


_FORM_TOKEN = re.compile(rf"f(\d{{1,12}})\.([A-Za-z0-9_-]{{16,64}})\.[a-z2-7]{{{MAC_LENGTH}}}")


def make_form_token(secret: str, nonce: str, issued_at: datetime) -> str:
    """The desk's pre-sign-in CSRF value: a random `nonce` (URL-safe), signed with its date."""
    issued = int(issued_at.timestamp())
    return f"f{issued}.{nonce}.{_sign(secret, f'form:{issued}:{nonce}')}"


def verify_form_token(secret: str, token: str, now: datetime, max_age: timedelta) -> bool:
    """Whether `token` is one of ours (signed with `secret`), issued at most `max_age` ago."""
    match = _FORM_TOKEN.fullmatch(token)
    if match is None:
        return False
    issued, nonce = int(match.group(1)), match.group(2)
    if not 0 <= now.timestamp() - issued <= max_age.total_seconds():
        return False
    expected = f"f{issued}.{nonce}.{_sign(secret, f'form:{issued}:{nonce}')}"
    return hmac.compare_digest(expected.encode(), token.encode())


def _mac(secret: str, request_id: int, person_id: int, expires_at: datetime) -> str:
    return _sign(secret, f"{request_id}:{person_id}:{int(expires_at.timestamp())}")


def _sign(secret: str, message: str) -> str:
    # Reply keys sign "<digits>:…", bounce keys "bounce:…", answer tokens "answer:…", form
    # tokens "form:…": none can pass for another.
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_LENGTH]
