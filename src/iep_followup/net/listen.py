"""A listening TCP socket for a server we run (the desk), opened before serving: a busy port is one clear error."""

from __future__ import annotations

import socket

from iep_followup.errors import ConfigError


def listen(host: str, port: int, *, setting: str) -> socket.socket:
    """A socket bound to host:port and listening; ConfigError naming `setting` when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise ConfigError(
            f"{setting}: cannot listen on {host}:{port} ({exc.strerror or exc})"
        ) from None
