"""The forms of an address: the key that is stored and compared, and the form that goes on the wire."""

from __future__ import annotations

import pytest

from iep_followup.addresses import address_key, ascii_domain, needs_smtputf8
from iep_followup.domain import normalize_email

LUIS = "luis@jefférson.example.org"


@pytest.mark.parametrize(
    "spelling",
    [
        "luis@jefférson.example.org",
        "luis@xn--jeffrson-e1a.example.org",  # the A-label form a reply usually comes from
        "Luis@XN--JEFFRSON-E1A.Example.Org",
        "Luis@JEFFÉRSON.example.org",
        "luis@jeffe\u0301rson.example.org",  # é written as e + combining accent (NFD)
        "  luis@jefférson.example.org ",
    ],
)
def test_every_spelling_of_an_idn_address_has_the_stored_key(spelling: str) -> None:
    assert address_key(spelling) == normalize_email(spelling) == LUIS


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("José@Example.org", "josé@example.org"),
        ("Rosa.Herrera@Example.com", "rosa.herrera@example.com"),
        # Not an address email-validator accepts: compared as written, so it matches nobody.
        (" Not An Address ", "not an address"),
        ("mailer-daemon@localhost", "mailer-daemon@localhost"),
    ],
)
def test_any_text_has_a_key(text: str, key: str) -> None:
    assert address_key(text) == key


@pytest.mark.parametrize(
    ("address", "wire"),
    [
        (LUIS, "luis@xn--jeffrson-e1a.example.org"),
        ("josé@jefférson.example.org", "josé@xn--jeffrson-e1a.example.org"),
        ("iep-replies+r1-abc@localhost", "iep-replies+r1-abc@localhost"),  # ASCII: untouched
    ],
)
def test_the_domain_goes_on_the_wire_as_a_labels(address: str, wire: str) -> None:
    assert ascii_domain(address) == wire


def test_a_domain_that_is_not_idna_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="cannot be sent"):
        ascii_domain("luis@jeff\u2028rson.example.org")


@pytest.mark.parametrize(
    ("address", "needed"),
    [(LUIS, False), ("josé@example.org", True), ("rosa@example.com", False)],
)
def test_only_a_non_ascii_local_part_needs_smtputf8(address: str, needed: bool) -> None:
    assert needs_smtputf8(address) is needed
