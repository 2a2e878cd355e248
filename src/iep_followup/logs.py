"""How the entry points log: today's text lines, or one JSON object per line (IEP_FOLLOWUP_LOG_FORMAT).

A JSON line carries what the text line says (`message`) and the same facts as fields:
`time`, `level`, `logger`, `event`, and when the line has them `job`, `counts`, `duration`
and, for the desk, `request_id`. Nothing more: no body, secret or address that the text
line does not show.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The desk's request being served, for every line logged while it is (web/ops.py sets it).
request_id: ContextVar[str | None] = ContextVar("iep_followup_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("job", "counts", "duration")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", "log"),
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int, log_format: str = "text") -> None:
    """Send every record at `level` or above to stderr, as text lines or JSON lines."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
