"""Outgoing mail settings: encryption is required whenever a password is sent."""

from __future__ import annotations

import pytest

from iep_followup.errors import ConfigError
from iep_followup.net.smtp import parse_smtp_url


def test_submission_port_with_a_password_requires_starttls() -> None:
    config = parse_smtp_url("smtp://iep%40district.org:p%40ss@smtp.district.org")
    assert (config.host, config.port, config.username, config.password) == (
        "smtp.district.org",
        587,
        "iep@district.org",
        "p@ss",
    )
    assert config.starttls is True and not config.implicit_tls


def test_implicit_tls() -> None:
    config = parse_smtp_url("smtps://u:p@smtp.district.org")
    assert (config.port, config.implicit_tls) == (465, True)


def test_a_password_in_the_clear_is_refused() -> None:
    with pytest.raises(ConfigError, match="without encryption is not allowed"):
        parse_smtp_url("smtp://u:p@smtp.district.org:25?starttls=no")


def test_a_relay_without_credentials_may_skip_tls() -> None:
    config = parse_smtp_url("smtp://127.0.0.1:2525?starttls=no&timeout=5")
    assert (config.starttls, config.timeout, config.is_loopback) == (False, 5.0, True)


@pytest.mark.parametrize(
    "url", ["http://x", "smtp://", "smtp://host:port", "smtp://h?timeout=soon"]
)
def test_bad_urls_name_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match="IEP_FOLLOWUP_SMTP_URL"):
        parse_smtp_url(url)
