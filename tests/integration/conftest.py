"""Fixtures for integration tests that need a real mail server (Dovecot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.integration.dovecot import DOVECOT, Dovecot, is_installed

OAUTH_TOKEN = "ya29.test-access-token"


def _run_dovecot(tmp_path: Path, oauth_token: str | None = None) -> Iterator[Dovecot]:
    require_service(
        is_installed(),
        f"Dovecot is not installed at {DOVECOT} (apt-get install dovecot-imapd)",
    )
    workdir = tmp_path / "dovecot"
    workdir.mkdir()
    server = Dovecot(workdir, oauth_token=oauth_token)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A running Dovecot of our own on 127.0.0.1 (not the system service), stopped afterwards."""
    yield from _run_dovecot(tmp_path)


@pytest.fixture
def dovecot_oauth(tmp_path: Path) -> Iterator[Dovecot]:
    """The same, also accepting XOAUTH2 with the bearer token OAUTH_TOKEN."""
    yield from _run_dovecot(tmp_path, OAUTH_TOKEN)
