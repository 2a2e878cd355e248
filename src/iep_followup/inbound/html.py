"""HTML bodies to plain text, without the quoted message that clients put below a reply.

Quote containers (Gmail, Apple Mail, Thunderbird, Yahoo, Proton, Zoho, Outlook) are removed with lxml,
then inscriptis lays out what is left.
"""

from __future__ import annotations

import html as html_lib
import re

import lxml.html  # type: ignore[import-untyped]
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_engine import Inscriptis
from inscriptis.model.config import ParserConfig

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The strict profile does not indent nested divs, which would look like quoting.
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)
_QUOTE_CLASSES = (
    "gmail_quote",
    "gmail_quote_container",
    "gmail_attr",
    "yahoo_quoted",
    "moz-cite-prefix",
    "protonmail_quote",
    "zmail_extra",  # Zoho
)
_QUOTES_XPATH = " | ".join(
    [
        "//blockquote[@type='cite']",
        *(
            f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {c} ')]"
            for c in _QUOTE_CLASSES
        ),
    ]
)
# Outlook puts no quote container around the original: everything from its reply header
# (or its "appendonsend" anchor) to the end of the document is the quoted message.
_OUTLOOK_XPATH = (
    "//*[contains(@id, 'appendonsend') or contains(@id, 'divRplyFwdMsg')]"
    " | //div[contains(translate(@style, 'BORDERTOP', 'bordertop'), 'border-top')]"
)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, without the quoted message below the reply."""
    source = re.sub(r"^\s*<\?xml[^>]*\?>", "", _CONTROL.sub("", html))
    if not source.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(source)
        _cut_outlook_original(root)
        for quote in root.xpath(_QUOTES_XPATH):
            if quote.getparent() is not None:
                quote.drop_tree()  # keeps the text that follows the quote (inline replies)
        text = str(Inscriptis(root, _CONFIG).get_text())
    except Exception:  # lxml refuses some inputs; inscriptis recurses on very deep trees
        return _strip_tags(source)
    # libxml2 stops reading past 256 levels of nesting and returns what it had so far.
    return text if text.strip() else _strip_tags(source)


def _strip_tags(source: str) -> str:
    source = re.sub(r"(?is)<(style|script|head)\b.*?</\1\s*>", " ", source)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]*>", " ", source)).split())


def _cut_outlook_original(root: lxml.html.HtmlElement) -> None:
    for start in root.xpath(_OUTLOOK_XPATH):
        if "border-top" in (start.get("style") or "").lower():
            head = " ".join(start.text_content().split()).lower()
            if not head.startswith(("from:", "de:")):
                continue
        previous = start.getprevious()
        _remove_from(previous if previous is not None and previous.tag == "hr" else start)
        return


def _remove_from(start: lxml.html.HtmlElement) -> None:
    """Remove an element, its tail, and everything after it in document order."""
    node = start
    while (parent := node.getparent()) is not None and node.tag != "body":
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    parent = start.getparent()
    if parent is not None:
        parent.remove(start)
