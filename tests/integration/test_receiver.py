"""The embedded SMTP receiver, spoken to by a real SMTP client over 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from iep_followup.errors import ConfigError, IepFollowupError, ReceiverError
from iep_followup.net.receiver import (
    InboundHandler,
    SmtpReceiver,
    hand_in,
    is_reply_recipient,
    start_receiver,
    with_original_to,
)

REPLY = "iep-replies@district.example.org"
SENDER = "rosa@home.example.com"


def message(body: str = "A1 done", *, extra_headers: str = "") -> bytes:
    return (
        f"From: Rosa Parent <{SENDER}>\r\n"
        f"To: {REPLY}\r\n"
        "Subject: Re: Lucia's update\r\n"
        "Message-ID: <reply-1@home.example.com>\r\n"
        f"{extra_headers}"
        "\r\n"
        f"{body}\r\n"
    ).encode()


class Recorder:
    """A handler that records what it was given and answers from a script (default True)."""

    def __init__(self, *answers: bool | type[Exception]) -> None:
        self.answers = list(answers)
        self.seen: list[bytes] = []
        self.threads: list[int] = []

    async def __call__(self, raw: bytes) -> bool:
        self.seen.append(raw)
        self.threads.append(threading.get_ident())
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, type):
            raise answer("the database is down; the body was: " + raw.decode())
        return answer


StartReceiver = Callable[..., SmtpReceiver]


@pytest.fixture
def receiver_factory() -> Iterator[StartReceiver]:
    started: list[SmtpReceiver] = []

    def start(handle: InboundHandler, **options: Any) -> SmtpReceiver:
        receiver = start_receiver("127.0.0.1", 0, REPLY, handle, **options)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def smtp(receiver: SmtpReceiver) -> smtplib.SMTP:
    return smtplib.SMTP(receiver.host, receiver.port, timeout=10)


# -- the pure parts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        (REPLY, True),
        ("IEP-Replies@District.Example.ORG", True),
        ("iep-replies+k7x2q9@district.example.org", True),
        ("IEP-REPLIES+K7X2Q9@district.example.org", True),
        ("iep-replies+@district.example.org", False),
        ("iep-repliesx@district.example.org", False),
        ("iep-replies@district.example.org.evil.example", False),
        ("iep-replies@other.example.org", False),
        ("someone+iep-replies@district.example.org", False),
        ("postmaster@district.example.org", False),
        ("iep-replies", False),
    ],
)
def test_only_the_reply_address_and_its_plus_forms_are_ours(address: str, accepted: bool) -> None:
    assert is_reply_recipient(address, REPLY) is accepted


def test_x_original_to_is_added_only_without_delivered_to() -> None:
    plain = message()
    assert with_original_to(plain, ["iep-replies+k1@district.example.org"]) == (
        b"X-Original-To: iep-replies+k1@district.example.org\r\n" + plain
    )
    delivered = message(extra_headers="Delivered-To: iep-replies+k1@district.example.org\r\n")
    assert with_original_to(delivered, ["iep-replies+k1@district.example.org"]) == delivered
    # A "Delivered-To:" line in the body is not a header.
    quoted = message(body="Delivered-To: someone@else.example")
    assert with_original_to(quoted, [REPLY]).startswith(b"X-Original-To: ")


async def test_deliver_answers_451_when_the_handler_is_too_slow() -> None:
    async def slow(raw: bytes) -> bool:
        await asyncio.sleep(5)
        return True

    assert await hand_in(message(), [REPLY], slow, timeout=0.1) == "451 4.3.0 try again later"


def test_a_bad_reply_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="IEP_FOLLOWUP_REPLY_ADDRESS"):
        start_receiver("127.0.0.1", 0, "not an address", Recorder())


def test_a_port_in_use_gives_one_library_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ReceiverError, match="cannot listen") as caught:
            start_receiver("127.0.0.1", port, REPLY, Recorder())
    assert isinstance(caught.value, IepFollowupError)


# -- over SMTP ----------------------------------------------------------------------------


def test_mail_to_the_reply_address_is_handed_over(receiver_factory: StartReceiver) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)

    with smtp(receiver) as client:
        refused = client.sendmail(SENDER, [REPLY], message())

    assert refused == {}
    assert handler.seen == [f"X-Original-To: {REPLY}\r\n".encode() + message()]


def test_a_plus_address_is_accepted_and_its_key_survives(receiver_factory: StartReceiver) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)
    keyed = "IEP-Replies+K7x2q9@District.Example.org"

    with smtp(receiver) as client:
        client.sendmail(SENDER, [keyed], message())

    assert handler.seen == [f"X-Original-To: {keyed}\r\n".encode() + message()]


def test_a_message_with_delivered_to_is_handed_over_byte_for_byte(
    receiver_factory: StartReceiver,
) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)
    raw = message(extra_headers="Delivered-To: iep-replies+k1@district.example.org\r\n")

    with smtp(receiver) as client:
        client.sendmail(SENDER, [REPLY], raw)

    assert handler.seen == [raw]


def test_other_recipients_are_refused_at_rcpt(receiver_factory: StartReceiver) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)

    with smtp(receiver) as client:
        client.ehlo()
        client.mail(SENDER)
        code, text = client.rcpt("principal@district.example.org")
        assert code == 550
        assert text.startswith(b"5.1.1")
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(SENDER, ["someone@elsewhere.example"], message())
        # Mixed: ours is delivered, the stranger refused.
        refused = client.sendmail(SENDER, ["stranger@district.example.org", REPLY], message())

    assert set(refused) == {"stranger@district.example.org"}
    assert refused["stranger@district.example.org"][0] == 550
    assert handler.seen == [f"X-Original-To: {REPLY}\r\n".encode() + message()]


def test_too_large_mail_is_refused_with_552(receiver_factory: StartReceiver) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler, size_limit=10_000)
    big = message(body="x" * 70 + "\r\n" + ("y" * 70 + "\r\n") * 200)

    with smtp(receiver) as client:
        # A client that announces the size is stopped at MAIL FROM ...
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            client.sendmail(SENDER, [REPLY], big)
        assert caught.value.smtp_code == 552
        client.rset()
        # ... one that does not is stopped after DATA.
        client.ehlo()
        assert client.docmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert client.rcpt(REPLY)[0] == 250
        assert client.data(big)[0] == 552
        # The connection is still good for a message of normal size.
        assert client.sendmail(SENDER, [REPLY], message()) == {}

    assert len(handler.seen) == 1


def test_by_default_a_reply_with_a_phone_photo_fits(receiver_factory: StartReceiver) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)
    photo = message(body=("/9j/4AAQSkZJRgABAQ" * 4 + "\r\n") * 80_000)  # 5.8 MB, base64-like

    with smtp(receiver) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "25000000"
        assert client.sendmail(SENDER, [REPLY], photo) == {}

    assert len(handler.seen) == 1 and len(handler.seen[0]) > len(photo)


@pytest.mark.parametrize("failure", [False, RuntimeError], ids=["returns-false", "raises"])
def test_a_failing_handler_gets_451_and_the_server_keeps_serving(
    receiver_factory: StartReceiver,
    failure: bool | type[Exception],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = Recorder(failure, failure)
    receiver = receiver_factory(handler)
    secret = message(body="Private note about Lucia")

    with smtp(receiver) as client:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(SENDER, [REPLY], secret)
        assert caught.value.smtp_code == 451
        assert caught.value.smtp_error == b"4.3.0 try again later"
    with smtp(receiver) as client:
        with pytest.raises(smtplib.SMTPDataError):
            client.sendmail(SENDER, [REPLY], secret)
        # The sender's retry, once the database is back, goes through.
        assert client.sendmail(SENDER, [REPLY], secret) == {}

    assert len(handler.seen) == 3
    assert "Private note" not in caplog.text


async def test_the_handler_runs_on_the_loop_it_is_given(
    receiver_factory: StartReceiver,
) -> None:
    loop = asyncio.get_running_loop()
    ran_on: list[asyncio.AbstractEventLoop] = []

    async def handle(raw: bytes) -> bool:
        ran_on.append(asyncio.get_running_loop())
        return True

    receiver = receiver_factory(handle, loop=loop)

    def send() -> dict[str, tuple[int, bytes]]:
        with smtp(receiver) as client:
            return client.sendmail(SENDER, [REPLY], message())

    # The blocking client runs in a thread, so this loop stays free to run the handler.
    assert await asyncio.wait_for(asyncio.to_thread(send), 10) == {}
    assert ran_on == [loop]


def test_without_a_loop_the_handler_runs_on_the_receiver_thread(
    receiver_factory: StartReceiver,
) -> None:
    handler = Recorder()
    receiver = receiver_factory(handler)

    with smtp(receiver) as client:
        client.sendmail(SENDER, [REPLY], message())

    assert handler.threads != [threading.get_ident()]


def test_stop_frees_the_port(receiver_factory: StartReceiver) -> None:
    receiver = receiver_factory(Recorder())
    port = receiver.port
    receiver.stop()
    receiver.stop()

    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", port, timeout=2)
    with start_receiver("127.0.0.1", port, REPLY, Recorder()) as again:
        assert again.port == port
