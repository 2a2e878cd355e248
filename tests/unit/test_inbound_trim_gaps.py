"""Trimming the shapes the last round missed: signature blocks with no "-- " line, attributions
wrapped around <mailto:…> or written date first, and a reply written below an unquoted
attribution. And a property: a line of the owner's own words never trims to nothing."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iep_followup.inbound.trim import trim_reply

ADDRESS = "reply+r1-abc@school.example.org"
QUOTE = "> Hello Rosa,\n> A1. Read together each night\n"
COPY = "Hello Rosa,\nA1. Read together each night\n"

SIGNATURES = [
    (
        "Yes, we read every night\n\nKaren Liu\nSpeech-Language Pathologist\n"
        "Lincoln Elementary School\n(555) 123-4567",
        "Yes, we read every night",
    ),
    (
        "A1 done\n\nThanks,\nKaren Liu, M.S., CCC-SLP\nLincoln Elementary\n"
        "karen.liu@lincoln.example.org",
        "A1 done",
    ),
    ("A1 done\nTom Teacher\nLincoln Elementary, Room 12", "A1 done"),
    (
        "Sí, 30 minutos\n\nMaría López\nMaestra de educación especial\nEscuela Lincoln",
        "Sí, 30 minutos",
    ),
    ("Listo\n\nGracias,\nRosa Herrera\nMamá de Lucía", "Listo"),
    ("A1 done\n\nRosa Herrera\nMother of Lucía", "A1 done"),
]
NOT_SIGNATURES = [
    # Lines under a name that are not a title, a school or a phone stay.
    ("A1 done\nA2 Blocked\nA3 In Progress", "A1 done\nA2 Blocked\nA3 In Progress"),
    (
        "We read with\nAna Lopez\nevery night this week",
        "We read with\nAna Lopez\nevery night this week",
    ),
]


@pytest.mark.parametrize(("text", "kept"), SIGNATURES + NOT_SIGNATURES)
def test_a_signature_block_without_a_dash_line(text: str, kept: str) -> None:
    assert trim_reply(text).kept == kept


ATTRIBUTIONS = [
    f"On Mon, Dec 7, 2026 at 9:00 AM IEP Follow-up <{ADDRESS}\n<mailto:{ADDRESS}>> wrote:",
    f"On Mon, Dec 7, 2026 at 9:00 AM IEP\nFollow-up <{ADDRESS}\n<mailto:{ADDRESS}>>\nwrote:",
    f"On Mon, Dec 7, 2026 at 9:00 AM IEP Follow-up <\n{ADDRESS}<mailto:{ADDRESS}>> wrote:",
    f"El lun., 7 dic. 2026 9:00, IEP Follow-up <\n{ADDRESS}> escribió:",
    f"2026-12-07 9:00 GMT-06:00 IEP Follow-up <{ADDRESS}>:",
    f"2026-12-07 9:00 GMT-06:00 IEP Follow-up <\n{ADDRESS}<mailto:{ADDRESS}>>:",
    f"07/12/2026 9:00, IEP Follow-up <{ADDRESS}> escribió:",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
@pytest.mark.parametrize("original", [QUOTE, COPY])
def test_a_wrapped_or_date_first_attribution_ends_the_reply(
    attribution: str, original: str
) -> None:
    assert trim_reply(f"A1 done\n\n{attribution}\n{original}").kept == "A1 done"


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_a_reply_written_below_an_unquoted_attribution_is_kept(attribution: str) -> None:
    trimmed = trim_reply(f"{attribution}\n\nYes we read every night, 20 min\n\n{QUOTE}")
    assert trimmed.kept == "Yes we read every night, 20 min"
    assert "wrote" in trimmed.removed or ADDRESS in trimmed.removed


def test_words_under_an_attribution_with_no_quote_below_are_still_held() -> None:
    # It could be an unquoted copy of the request: a person reads it, nothing is guessed.
    trimmed = trim_reply(f"On Mon, Dec 7, 2026 at 9:00 AM IEP Follow-up <{ADDRESS}> wrote:\n{COPY}")
    assert (trimmed.kept, trimmed.unclear) == ("", True)


# --- property: the owner's words are never all cut ----------------------------------------

EXAMPLES = int(os.environ.get("IEP_HYPOTHESIS_EXAMPLES", "150"))
fast = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = st.sampled_from(
    [
        *("yes", "Yes,", "no", "Sí", "partly", "A1", "A2", "done", "listo", "20", "min", "45%"),
        *("we", "read", "every", "night", "except", "Sunday", "todos", "los", "días", "casi"),
        *("Thanks", "Gracias,", "Karen", "Liu", "Rosa", "Lincoln", "Elementary", "School"),
        *("she", "was", "sick", "waiting", "for", "the", "book", "-", "?", "!", ".", "(555)"),
    ]
)
OWNER_LINE = (
    st.lists(WORDS, min_size=1, max_size=8)
    .map(" ".join)
    .filter(lambda line: any(c.isalnum() for c in line))
)
AROUND = st.sampled_from(
    [
        "",
        "> Hello Rosa,",
        "> A1. Read together each night",
        "Karen Liu",
        "Speech-Language Pathologist",
        "Lincoln Elementary School",
        "Thanks,",
        "Sent from my iPhone",
        "-- ",
        *ATTRIBUTIONS,
        f"From: IEP Follow-up <{ADDRESS}>\nSent: Monday, December 7, 2026 9:00 AM\nTo: Rosa\n"
        "Subject: Quick check-in",
    ]
)


@fast
@given(OWNER_LINE, st.lists(AROUND, max_size=8), st.lists(OWNER_LINE, max_size=3))
def test_a_reply_that_opens_with_the_owners_words_never_trims_to_empty(
    first: str, below: list[str], more: list[str]
) -> None:
    text = "\n".join([first, *more, *below])
    assert trim_reply(text).kept.strip()


@fast
@given(st.lists(AROUND, max_size=6), OWNER_LINE, st.lists(AROUND, max_size=6))
def test_a_line_of_unquoted_words_anywhere_is_kept_or_held_never_dropped(
    above: list[str], line: str, below: list[str]
) -> None:
    trimmed = trim_reply("\n".join([*above, line, *below]))
    assert trimmed.kept.strip() or trimmed.unclear
