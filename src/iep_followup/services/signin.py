"""Signing in to the desk without passwords: one-time emailed links, database sessions, the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from iep_followup.addresses import address_key
from iep_followup.desk import (
    LINKS_PER_ADDRESS,
    LINKS_PER_CLIENT,
    SESSION_IDLE_HOURS,
    SIGN_IN_MINUTES,
    Reader,
)
from iep_followup.errors import NotFoundError, TooManyRequestsError, ValidationError
from iep_followup.mail.kinds import MailKind
from iep_followup.services import access
from iep_followup.services.outgoing import Mailer
from iep_followup.store import outbox, web
from iep_followup.store.db import Session

# Written to the last_seen column at most this often: not a write on every page.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class _Addressee:
    person_id: int
    name: str
    email: str
    language: str


def hash_secret(token: str) -> str:
    """What the database keeps of a link's token or a session's id: never the value itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize(email: str) -> str:
    try:
        return address_key(email.strip())
    except (ValueError, UnicodeError):
        raise ValidationError("that is not an email address", field="email") from None


def reader_for(session: Session, email: str, admins: frozenset[str]) -> Reader | None:
    """Who may use the desk: a case manager of some team, or an address in IEP_FOLLOWUP_ADMINS."""
    is_admin = email in admins
    if not is_admin and not web.is_case_manager(session, email):
        return None
    known = web.person_name_language(session, email)
    name, language = (known[1], known[2]) if known else (email, "en")
    return Reader(email, name, language, is_admin)


def new_link(session: Session, email: str, now: datetime) -> str:
    """A fresh link token for `email` (already checked); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    web.add_link(session, hash_secret(token), email, now, now + timedelta(minutes=SIGN_IN_MINUTES))
    return token


def request_link(
    session: Session,
    mailer: Mailer,
    email: str,
    *,
    client: str,
    admins: frozenset[str],
    base_url: str,
    now: datetime,
) -> bool:
    """Record the request, then email a sign-in link when `email` may sign in; True when queued."""
    record_request(session, email, client=client, now=now)
    return send_link(session, mailer, email, admins=admins, base_url=base_url, now=now)


def record_request(session: Session, email: str, *, client: str, now: datetime) -> None:
    """What the desk does before it answers "email me a link": the same work whoever `email`
    is (no timing tells a case manager's address from an unknown one). Every request is
    audited and counted for the per-client limit, which raises TooManyRequestsError."""
    since = now - timedelta(minutes=SIGN_IN_MINUTES)
    if web.count_audit(session, "sign_in_requested", since, client=client) >= LINKS_PER_CLIENT:
        raise TooManyRequestsError("too many sign-in requests from this client; try again later")
    web.audit(session, now, "sign_in_requested", actor=None, client=client, subject=email)


def send_link(
    session: Session,
    mailer: Mailer,
    email: str,
    *,
    admins: frozenset[str],
    base_url: str,
    now: datetime,
) -> bool:
    """After the answer: a link for `email` when it may sign in and is under its own limit
    (the request itself is already counted); True when one was queued."""
    since = now - timedelta(minutes=SIGN_IN_MINUTES)
    reader = reader_for(session, email, admins)
    if reader is None:
        return False
    by_address = web.count_audit(session, "sign_in_requested", since, subject=email)
    if by_address > LINKS_PER_ADDRESS:  # this request is one of them
        return False
    token = new_link(session, email, now)
    known = web.person_name_language(session, email)
    to = _Addressee(known[0] if known else 0, reader.name, email, reader.language)
    message = mailer.message(
        MailKind.SIGN_IN,
        f"sign_in:{hash_secret(token)[:32]}",
        to=to,
        context={
            "recipient": {"name": reader.name},
            "link": f"{base_url}/signin/{token}",
            "minutes": SIGN_IN_MINUTES,
        },
        now=now,
    )
    # An administrator may be on no team: the outbox row then names no person.
    outbox.queue_many(session, [replace(message, person_id=known[0] if known else None)])
    return True


def sign_in(
    session: Session, token: str, *, client: str, admins: frozenset[str], now: datetime
) -> tuple[str, Reader] | None:
    """Use a link once: a new session id (for the cookie) and who signed in, or None."""
    email = web.use_link(session, hash_secret(token), now)
    reader = reader_for(session, email, admins) if email else None
    if email is None or reader is None:
        web.audit(session, now, "sign_in_refused", actor=None, client=client, subject=email)
        return None
    session_id = secrets.token_urlsafe(32)
    web.add_session(session, hash_secret(session_id), email, secrets.token_urlsafe(24), now)
    web.audit(session, now, "signed_in", actor=email, client=client, subject=email)
    access.signed_in(session, email, client=client, now=now)
    return session_id, reader


def current(
    session: Session, session_id: str, *, admins: frozenset[str], now: datetime
) -> tuple[Reader, str] | None:
    """The reader and CSRF token of a live session; an idle or ended one is refused (and ended)."""
    row = web.find_session(session, hash_secret(session_id))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at >= timedelta(hours=SESSION_IDLE_HOURS):
        row.ended_at = now
        return None
    reader = reader_for(session, row.email, admins)
    if reader is None:  # no longer a case manager anywhere, nor an administrator
        row.ended_at = now
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return reader, row.csrf_token


def print_link(session: Session, email: str, admins: frozenset[str], now: datetime) -> str:
    """A new link's token for someone who may use the desk, printed rather than emailed; audited."""
    if reader_for(session, email, admins) is None:
        raise NotFoundError(
            f"{email} is neither a case manager on a team nor in IEP_FOLLOWUP_ADMINS"
        )
    token = new_link(session, email, now)
    web.audit(session, now, "link_printed", actor=None, client="cli", subject=email)
    return token


def sign_out(
    session: Session,
    session_id: str,
    reader: Reader,
    *,
    everywhere: bool,
    client: str,
    now: datetime,
) -> int:
    """End one session, or every session of the reader; how many ended. Audited."""
    if everywhere:
        ended = web.end_sessions(session, now, email=reader.email)
    else:
        ended = web.end_sessions(session, now, id_hash=hash_secret(session_id))
    action = "signed_out_everywhere" if everywhere else "signed_out"
    web.audit(session, now, action, actor=reader.email, client=client)
    return ended
