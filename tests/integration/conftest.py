"""Fixtures for integration tests that need a real mail server (Dovecot)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.integration.dovecot import DOVECOT, Dovecot, has_openssl, is_installed

OAUTH_TOKEN = "ya29.test-access-token"

MakeDovecot = Callable[..., Dovecot]


@pytest.fixture
def make_dovecot(tmp_path: Path) -> Iterator[MakeDovecot]:
    """Starts Dovecot instances of our own on 127.0.0.1 (never the system service).

    Options go to `Dovecot` (oauth_token, tls, extra_config); all are stopped afterwards.
    """
    require_service(
        is_installed(), f"Dovecot is not installed at {DOVECOT} (apt-get install dovecot-imapd)"
    )
    servers: list[Dovecot] = []

    def make(**options: Any) -> Dovecot:
        if options.get("tls"):
            require_service(has_openssl(), "the openssl command is needed for a test certificate")
        workdir = tmp_path / f"dovecot{len(servers)}"
        workdir.mkdir()
        server = Dovecot(workdir, **options)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.cleanup()


@pytest.fixture
def dovecot(make_dovecot: MakeDovecot) -> Dovecot:
    return make_dovecot()


@pytest.fixture
def dovecot_oauth(make_dovecot: MakeDovecot) -> Dovecot:
    """Also accepts XOAUTH2 with the bearer token OAUTH_TOKEN."""
    return make_dovecot(oauth_token=OAUTH_TOKEN)


@pytest.fixture
def dovecot_tls(make_dovecot: MakeDovecot) -> Dovecot:
    """Also serves IMAPS on `tls_port` with a self-signed certificate (`cert_path`)."""
    return make_dovecot(tls=True)
