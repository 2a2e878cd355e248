"""Email addresses in their two forms: the key we store and compare, and the form mail servers take.

The key is the Unicode form, lowercased (email-validator's `normalized`), so a reply from
`luis@xn--jeffrson-e1a.example.org` and one from `luis@jefférson.example.org` are one person.
On the wire a domain goes as IDNA A-labels; only a local part that is not ASCII needs SMTPUTF8.
"""

from __future__ import annotations

import enum

# Syntax and IDNA only (no DNS): pure computation despite being a third-party package.
from email_validator import EmailNotValidError, validate_email


def canonical_address(address: str) -> str:
    """The key of a valid address; raises EmailNotValidError (with a readable reason) otherwise."""
    return validate_email(address.strip(), check_deliverability=False).normalized.lower()


def address_key(address: str) -> str:
    """The key of any spelling of an address (A-labels or Unicode, any case), to look it up.

    Total: text that is not a valid address (anything can come in a From header) is
    compared as written, lowercased; it matches nobody we stored.
    """
    try:
        return canonical_address(address)
    except EmailNotValidError:
        return address.strip().lower()


def ascii_domain(address: str) -> str:
    """The address with its domain as IDNA A-labels; the local part as it is.

    Raises ValueError when the domain is not a valid internationalized domain name.
    """
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        # A stand-in local part: only the domain is being converted.
        converted = validate_email(f"a@{domain}", check_deliverability=False).ascii_domain
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} has a domain that cannot be sent ({exc})") from None
    return f"{local}@{converted}"


def needs_smtputf8(address: str) -> bool:
    """Whether the part before the @ has non-ASCII characters: no A-label form exists for it."""
    return not address.rpartition("@")[0].isascii()


class AddressEventKind(enum.StrEnum):
    """What happened to a person's email address: its history, shown by `person history`."""

    FAILING = "failing"  # a hard bounce or a 5xx: not asked again until cleared
    SOFT_BOUNCE = "soft_bounce"
    CLEARED = "cleared"  # a reply, a delivery, or a person said the address works
