"""Untimed preparation on disk: the queued outbox (for bare SMTP) and one realistic reply per request.

Replies are built from the request emails themselves, the way tests/mailclient.py does:
the owner answers each A-reference above the quoted request, in English or Spanish, from
Gmail, Outlook or an iPhone, with the quoted history included.
"""

from __future__ import annotations

import email
import email.policy
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from sqlalchemy import Engine, text

from benchmarks.harness import BenchConfig, write_records
from iep_followup.store.db import create_db_engine

BATCH = 500
_REF = re.compile(r"^(A\d+)\. ", re.MULTILINE)

COMMANDS = {
    "en": ("done", "50%", "blocked: waiting for the workbook", "in progress", "75% done"),
    "es": ("listo", "50%", "bloqueado: esperamos el cuaderno", "en progreso", "hecho"),
}
NOTES = {
    "en": "We practised every night this week and it is getting easier.",
    "es": "Practicamos todas las noches esta semana y va mejor.",
}
GREETING = {"en": ("Hi,", "Thanks,"), "es": ("Hola,", "Gracias,")}
STYLES = {"en": ("gmail", "outlook"), "es": ("gmail_es", "iphone")}


def spool_outbox(config: BenchConfig) -> int:
    """Every queued message as `to_address NUL body`, in the order delivery claims them."""
    engine = create_db_engine(config.database_url)
    try:
        rows = _batches(
            engine,
            "SELECT id, to_address, body FROM outbox_message WHERE status = 'queued' AND id > :after "
            "ORDER BY id LIMIT :limit",
        )
        return write_records(
            config.spool("outbox"), (to.encode() + b"\0" + bytes(body) for _, to, body in rows)
        )
    finally:
        engine.dispose()


def spool_replies(config: BenchConfig, seed: int = 7) -> int:
    """One reply per queued update request, as raw RFC 5322 bytes."""
    engine = create_db_engine(config.database_url)
    rng = random.Random(seed)
    try:
        rows = _batches(
            engine,
            "SELECT o.id, p.language, o.body FROM outbox_message o JOIN person p ON p.id = o.person_id "
            "WHERE o.kind = 'request' AND o.status = 'queued' AND o.id > :after ORDER BY o.id LIMIT :limit",
        )
        return write_records(
            config.spool("replies"),
            (_reply(number, language, bytes(body), rng) for number, language, body in rows),
        )
    finally:
        engine.dispose()


def _batches(engine: Engine, sql: str) -> Iterator[tuple[int, str, bytes]]:
    after = 0
    while True:
        with engine.connect() as connection:
            batch = connection.execute(text(sql), {"after": after, "limit": BATCH}).all()
        if not batch:
            return
        for row in batch:
            yield row[0], row[1], row[2]
        after = batch[-1][0]


def _reply(number: int, language: str, raw: bytes, rng: random.Random) -> bytes:
    original = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(original, EmailMessage)
    plain = original.get_body(("plain",))
    assert plain is not None
    body = str(plain.get_content())
    refs = _REF.findall(body)
    language = language if language in COMMANDS else "en"
    lines = [GREETING[language][0], ""]
    if len(refs) == 1 and rng.random() < 0.5:
        lines.append(rng.choice(COMMANDS[language]))  # with one item, the ref may be left out
    else:
        lines.extend(f"{ref} {rng.choice(COMMANDS[language])}" for ref in refs)
    if rng.random() < 0.3:
        lines.append(NOTES[language])
    to = original["To"].addresses[0]
    lines += ["", GREETING[language][1], to.display_name.split()[0]]
    return _as_reply(original, body, "\n".join(lines), rng.choice(STYLES[language]), number)


def _as_reply(original: EmailMessage, body: str, text: str, style: str, number: int) -> bytes:
    to = original["To"].addresses[0]
    sender = original["From"].addresses[0]
    quoted = "\n".join("> " + line if line else ">" for line in body.splitlines())
    quote = {
        "gmail": f"On Tue, Nov 17, 2026 at 9:00 AM {sender.display_name} <\n{sender.addr_spec}> wrote:\n\n{quoted}",
        "gmail_es": f"El mar, 17 nov 2026 a las 9:00, {sender.display_name} (<{sender.addr_spec}>)\nescribió:\n\n{quoted}",
        "outlook": "________________________________\n"
        f"From: {sender.display_name} <{sender.addr_spec}>\nSent: Tuesday, November 17, 2026 9:00 AM\n"
        f"To: {to.display_name} <{to.addr_spec}>\nSubject: {original['Subject']}\n\n{body}",
        "iphone": f"Enviado desde mi iPhone\n\n> El 17 nov 2026, a las 9:00, {sender.display_name} <{sender.addr_spec}> escribió:\n>\n{quoted}",
    }[style]
    message = EmailMessage(policy=SMTP)
    message["From"] = to
    message["To"] = original["Reply-To"].addresses[0].addr_spec
    message["Subject"] = ("RE: " if style == "outlook" else "Re: ") + str(original["Subject"])
    message["Date"] = format_datetime(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    message["Message-ID"] = f"<reply.{number}@mail.example.com>"
    message["In-Reply-To"] = original["Message-ID"]
    message["References"] = original["Message-ID"]
    message.set_content(f"{text}\n\n{quote}\n")
    return message.as_bytes()
