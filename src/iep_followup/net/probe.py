"""Looks at an address without serving on it, for `check`: free to listen on, or who answers there."""

from __future__ import annotations

import errno
import socket
import urllib.error
import urllib.request

PROBE_SECONDS = 3.0


def listen_problem(host: str, port: int) -> str | None:
    """None when a server could listen on host:port now; "in use", or why it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return "in use"
        return exc.strerror or type(exc).__name__


def healthz_answers(base_url: str) -> bool:
    """Whether an iep-followup server answers `ok` at base_url/healthz."""
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=PROBE_SECONDS) as response:  # noqa: S310
            return bool(response.status == 200 and response.read(16) == b"ok\n")
    except (OSError, urllib.error.URLError, ValueError):
        return False


def smtp_greets(host: str, port: int) -> bool:
    """Whether an SMTP server greets (220) at host:port."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS) as conn:
            return conn.recv(512).startswith(b"220")
    except OSError:
        return False
