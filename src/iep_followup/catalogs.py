"""Translations from gettext catalogs (.po), compiled in memory by Babel: for the emails and the desk."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"


def load_translations(language: str, folders: tuple[Path, ...]) -> gettext.NullTranslations:
    """The catalog for `language` from the first folder that has one, the others as fallbacks.

    English is the source language: its message ids are the text, so it needs no catalog.
    """
    chain: gettext.NullTranslations | None = None
    for folder in folders:
        po = folder / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.is_file():
            continue
        found = gettext.GNUTranslations(io.BytesIO(_compiled(po, po.stat().st_mtime_ns)))
        if chain is None:
            chain = found
        else:
            chain.add_fallback(found)
    return chain or gettext.NullTranslations()


@cache
def _compiled(po: Path, _mtime: int) -> bytes:
    """The .mo bytes of a catalog; cached per file version (the mtime is part of the key)."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()
