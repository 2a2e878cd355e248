"""The line that separates an owner's reply from the request quoted below it.

Shared by the templates (which print it) and the trimmer (which cuts at it), so the two
can never drift apart. Matching ignores case, accents, quoting ('> ') and dashes.
"""

from __future__ import annotations

REPLY_MARKERS = {
    "en": "Write your reply above this line",
    "es": "Escriba su respuesta arriba de esta línea",
}
