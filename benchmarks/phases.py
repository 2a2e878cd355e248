"""Where a stage's time went, from its cProfile (`--profile DIR`): a few named phases and the rest.

A phase is the cumulative time of some library functions, less that of functions it calls
that are phases of their own (an email's build less its render). cProfile slows Python
code more than waiting on a socket, so the shares lean towards Python work; they say what
bounds a stage, not how fast it would be without the profiler.
"""

from __future__ import annotations

import pstats
from dataclasses import dataclass, field
from pathlib import Path

Function = tuple[str, str]  # (the end of its file's path, its name)


@dataclass(frozen=True)
class Phase:
    label: str
    functions: tuple[Function, ...]
    minus: tuple[Function, ...] = field(default=())


_RENDER = ("mail/render.py", "render")
_COMPOSE = ("services/outgoing.py", "compose")
_QUEUE = ("store/outbox.py", "queue_many")
_COMMIT = (
    "store/db.py",
    "transaction",
)  # its begin and commit (the caller's block is not its time)

PHASES: dict[str, tuple[Phase, ...]] = {
    "requests": (
        Phase(
            "read owners and plan who is due",
            (
                ("store/asking.py", "owner_states"),
                ("planning.py", "plan_requests"),
                ("store/asking.py", "recipients"),
            ),
        ),
        Phase("read the items and meeting texts shown", (("services/requests.py", "_shown"),)),
        Phase("insert the requests and their lines", (("store/asking.py", "create_requests"),)),
        Phase("render (jinja2: subject, text, HTML)", (_RENDER,)),
        Phase("build the MIME message", (_COMPOSE,), minus=(_RENDER,)),
        Phase("insert into the outbox", (_QUEUE,)),
        Phase("begin and commit", (_COMMIT,)),
    ),
    "deliver": (
        Phase("claim messages (SQL)", (("store/outbox.py", "claim"),)),
        Phase("SMTP client (aiosmtplib, our checks)", (("net/smtp.py", "send"),)),
        Phase("waiting for the network (event loop)", (("selectors.py", "select"),)),
        Phase("mark each message sent (SQL)", (("store/outbox.py", "mark_sent"),)),
    ),
    "ingest": (
        Phase(
            "parse the message (stdlib, our headers)", (("inbound/message.py", "parse_message"),)
        ),
        Phase(
            "judge: classify, check the key, find the sender (SQL)",
            (("services/ingest.py", "_judge"),),
        ),
        Phase("trim the quoted text", (("inbound/trim.py", "trim_reply"),)),
        Phase("read the commands", (("inbound/grammar.py", "parse_commands"),)),
        Phase(
            "look up: seen before, the items asked (SQL)",
            (("store/inbox.py", "find"), ("store/replies.py", "asked_items")),
        ),
        Phase(
            "write the log row and the updates (SQL)",
            (("store/inbox.py", "record"), ("store/replies.py", "write")),
        ),
        Phase("render the confirmation (jinja2)", (_RENDER,)),
        Phase("build the confirmation's MIME message", (_COMPOSE,), minus=(_RENDER,)),
        Phase("queue the confirmation (SQL)", (_QUEUE,)),
        Phase("begin and commit", (_COMMIT,)),
    ),
    "digests": (
        Phase("read the caseload (SQL)", (("services/digests.py", "digest_inputs"),)),
        Phase("compile the digest (pure)", (("digest.py", "compile_digest"),)),
        Phase("read the meeting texts (SQL)", (("store/texts.py", "phrasebook"),)),
        Phase("render (jinja2: subject, text, HTML)", (_RENDER,)),
        Phase("build the MIME message", (_COMPOSE,), minus=(_RENDER,)),
        Phase("queue and record (SQL)", (_QUEUE, ("store/digests.py", "record_digest"))),
        Phase("begin and commit", (_COMMIT,)),
    ),
}


def breakdown(prof: Path, stage: str) -> str:
    """The stage's phases in seconds and as a share of everything the profile saw."""
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]  # set by pstats, not in its stub
    if total <= 0:
        return f"  {prof.name}: empty profile"
    cumulative = _cumulative(stats)
    lines = [f"  where the time went ({prof.name}, {total:.2f} s under cProfile):"]
    named = 0.0
    for phase in PHASES.get(stage, ()):
        seconds = sum(cumulative.get(f, 0.0) for f in phase.functions)
        seconds -= sum(cumulative.get(f, 0.0) for f in phase.minus)
        named += seconds
        lines.append(f"    {phase.label:<55} {seconds:8.2f} s {seconds / total:6.1%}")
    rest = total - named
    lines.append(f"    {'everything else':<55} {rest:8.2f} s {rest / total:6.1%}")
    return "\n".join(lines)


def _cumulative(stats: pstats.Stats) -> dict[Function, float]:
    wanted = {f for phases in PHASES.values() for p in phases for f in (*p.functions, *p.minus)}
    found: dict[Function, float] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        path = filename.replace("\\", "/")
        for suffix, function in wanted:
            if name == function and path.endswith("/" + suffix):
                found[(suffix, function)] = found.get((suffix, function), 0.0) + row[3]
    return found


def report(profile_dir: Path, backend: str, size: int) -> str:
    """The breakdown of every stage of one run that left a profile in `profile_dir`."""
    parts = []
    for stage in PHASES:
        prof = profile_dir / f"{backend}-{size}-{stage}.prof"
        if prof.exists():
            parts.append(f"{stage}:\n{breakdown(prof, stage)}")
    return "\n".join(parts)
