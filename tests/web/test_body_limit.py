"""A request body over IEP_FOLLOWUP_WEB_MAX_BODY is refused with 413 before it is read.

A 1 GB anonymous multipart POST to /signin was spooled to disk before its 403. Over a real
uvicorn on loopback: a declared Content-Length is answered without a byte of body sent, and a
chunked body is cut off at the limit while the client is still sending. Through the test client:
the same answers, with the security headers, and a body under the limit still reaches its page.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator

import pytest

from iep_followup.config import MAX_WEB_BODY, Settings, load_settings
from iep_followup.errors import ConfigError
from iep_followup.tracker import Tracker
from tests.conftest import Clock
from tests.smtp_server import SmtpServer
from tests.web.conftest import DeskClient
from tests.web.test_browser import served_desk
from tests.web.world import CASE_MANAGER_A, World

BOUNDARY = "limit-test"
PART = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
).encode()
STREAMED = 64 * 1024 * 1024  # what the client would send, far past the limit
CHUNK = 64 * 1024


def test_the_default_limit_is_two_megabytes_and_the_setting_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert MAX_WEB_BODY == 2_000_000
    assert Settings(_env_file=None).web_max_body == MAX_WEB_BODY
    monkeypatch.setenv("IEP_FOLLOWUP_WEB_MAX_BODY", "5000000")
    assert load_settings(None).web_max_body == 5_000_000
    monkeypatch.setenv("IEP_FOLLOWUP_WEB_MAX_BODY", "1000")  # smaller than a meeting file
    with pytest.raises(ConfigError, match="IEP_FOLLOWUP_WEB_MAX_BODY"):
        load_settings(None)


@pytest.fixture
def desk_port(
    make_settings: Callable[..., Settings], clock: Clock, smtp_server: SmtpServer
) -> Iterator[tuple[int, Tracker]]:
    with served_desk(make_settings, clock, smtp_server) as (tracker, url):
        yield int(url.rsplit(":", 1)[1]), tracker


def _head(port: int, extra: str) -> bytes:
    return (
        f"POST /signin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n"
    ).encode()


def _response(sock: socket.socket) -> bytes:
    got = b""
    while b"\r\n\r\n" not in got:
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return got


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_of_body_is_sent(
    desk_port: tuple[int, Tracker],
) -> None:
    port, _tracker = desk_port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(port, "Content-Length: 1000000000\r\n"))  # 1 GB, never sent
        answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert b"content-security-policy:" in answer.lower()


def test_a_chunked_body_is_cut_off_at_the_limit_while_the_client_is_still_sending(
    desk_port: tuple[int, Tracker],
) -> None:
    port, tracker = desk_port
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(port, "Transfer-Encoding: chunked\r\n"))
        first = True
        while sent < STREAMED:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered before the body ended
            data = (PART if first else b"") + b"x" * CHUNK
            first = False
            try:
                sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(data)
        answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    # What the client pushed before it heard: the limit and the sockets' buffers, not 64 MB.
    assert sent < STREAMED // 2, sent
    assert tracker.desk_audit() == []


def test_the_test_client_gets_413_for_a_declared_or_a_streamed_body(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    limit = world.tracker.settings.web_max_body
    declared = client.post("/signin", content=b"x" * (limit + 1))
    assert declared.status_code == 413
    assert declared.headers["content-security-policy"].startswith("default-src 'none'")
    assert declared.headers["connection"] == "close"

    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        yield PART
        while pulled <= 2 * limit:
            pulled += CHUNK
            yield b"x" * CHUNK

    # Chunked (no Content-Length), and a form the desk would read: counted as it comes.
    multipart = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    streamed = client.post("/signin", content=endless(), headers=multipart)
    assert streamed.status_code == 413
    assert pulled <= 2 * limit + CHUNK


def test_a_body_under_the_limit_reaches_its_page(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    # A meeting file past its own 1 MB limit, in a body under 2 MB: the page says why.
    big = b"a: b\n" * 240_000
    page = client.post(
        "/meetings/preview",
        data={"csrf": client.csrf},
        files={"file": ("meeting.yaml", big, "text/yaml")},
    )
    assert page.status_code == 400 and "too big for a meeting file" in page.text, page.text[:300]
    assert client.post("/signin", data={"csrf": client.csrf, "email": ""}).status_code != 413
