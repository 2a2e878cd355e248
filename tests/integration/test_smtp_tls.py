"""Credentials only ever travel encrypted: STARTTLS against a real SMTP server that requires it."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from iep_followup.errors import TransportUnavailableError
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from tests.smtp_server import RecordingHandler, free_port


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"iep@district.org",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(tmp_path: Path) -> Any:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=True,
        ready_timeout=5,
    )
    controller.start()
    client_context = ssl.create_default_context(cafile=str(cert))
    yield port, handler, client_context
    controller.stop()


async def _let_tls_close() -> None:
    """A TLS connection closes in the background (close_notify, then the socket). The daemon's
    loop keeps running so it always finishes there; a test's loop ends at once, and the
    unfinished close would surface later as an unclosed-socket warning in another test."""
    await asyncio.sleep(0.5)


async def test_password_is_sent_after_starttls_and_the_message_arrives(tls_server: Any) -> None:
    port, handler, client_context = tls_server
    transport = SmtpTransport(
        parse_smtp_url(f"smtp://iep%40district.org:s3cret@127.0.0.1:{port}?timeout=5"),
        client_context,
    )
    async with transport:
        await transport.send(
            "iep@district.org", "rosa@example.com", b"Subject: hi\r\n\r\nhello\r\n", "<1@x>"
        )
    await _let_tls_close()
    assert [r.rcpt_tos for r in handler.received] == [["rosa@example.com"]]


async def test_a_wrong_password_pauses_delivery_and_fails_no_message(tls_server: Any) -> None:
    port, _handler, client_context = tls_server
    url = f"smtp://iep%40district.org:wrong@127.0.0.1:{port}?timeout=5"
    async with SmtpTransport(parse_smtp_url(url), client_context) as transport:
        with pytest.raises(
            TransportUnavailableError, match=r"cannot log in .*\(535 .*IEP_FOLLOWUP_SMTP_URL"
        ):
            await transport.send(
                "iep@district.org", "rosa@example.com", b"Subject: hi\r\n\r\nhello\r\n", "<1@x>"
            )
    await _let_tls_close()
