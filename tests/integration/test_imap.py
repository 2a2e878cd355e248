"""The IMAP poller against a real Dovecot: incremental by UID, marks only after success."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time
from collections.abc import AsyncIterator
from typing import Protocol

import pytest

from iep_followup.errors import ConfigError, IepFollowupError, MailboxError
from iep_followup.net.imap import (
    PROCESSED_KEYWORD,
    ImapConfig,
    ImapPoller,
    MemoryImapState,
    PollResult,
    parse_imap_url,
)
from tests.integration.conftest import OAUTH_TOKEN, MakeDovecot
from tests.integration.dovecot import Dovecot

DONE = frozenset({"\\Seen", PROCESSED_KEYWORD})


def message(n: int) -> bytes:
    return (
        "From: Rosa Parent <rosa@home.example.com>\r\n"
        f"To: iep-replies+key{n}@district.example.org\r\n"
        f"Subject: Re: Lucia's update {n}\r\n"
        f"Message-ID: <reply-{n}@home.example.com>\r\n"
        "\r\n"
        f"A1 done, reply number {n}\r\n"
    ).encode()


class Recorder:
    """A handler that records what it was given and answers from a script (default True)."""

    def __init__(self, *answers: bool | type[Exception]) -> None:
        self.answers = list(answers)
        self.seen: list[bytes] = []

    async def __call__(self, raw: bytes) -> bool:
        self.seen.append(raw)
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, type):
            raise answer("database is down")
        return answer


class MakePoller(Protocol):
    def __call__(
        self,
        mailbox: str = "INBOX",
        query: str = "timeout=5",
        state: MemoryImapState | None = None,
        config: ImapConfig | None = None,
    ) -> ImapPoller: ...


@pytest.fixture
async def make_poller(dovecot: Dovecot) -> AsyncIterator[MakePoller]:
    pollers: list[ImapPoller] = []

    def make(
        mailbox: str = "INBOX",
        query: str = "timeout=5",
        state: MemoryImapState | None = None,
        config: ImapConfig | None = None,
    ) -> ImapPoller:
        poller = ImapPoller(
            config or parse_imap_url(dovecot.url(mailbox, query)), state or MemoryImapState()
        )
        pollers.append(poller)
        return poller

    yield make
    for poller in pollers:
        await poller.close()


# -- the URL ------------------------------------------------------------------------------


def test_imaps_url_gives_tls_on_993_with_decoded_credentials() -> None:
    config = parse_imap_url(
        "imaps://iep%2Breplies%40district.org:p%40ss%25w%3Ard@mail.example.org/"
    )
    assert config == ImapConfig(
        host="mail.example.org",
        user="iep+replies@district.org",
        password="p@ss%w:rd",
        port=993,
        tls=True,
        mailbox="INBOX",
    )
    assert "p@ss" not in repr(config)


def test_url_options_are_read() -> None:
    config = parse_imap_url(
        "imaps://u@outlook.office365.com:993/Replies?processed=Done&auth=xoauth2&timeout=12.5"
    )
    assert (config.mailbox, config.processed_folder, config.auth, config.timeout) == (
        "Replies",
        "Done",
        "xoauth2",
        12.5,
    )
    assert config.password == ""


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost"])
def test_plain_imap_is_allowed_on_loopback(host: str) -> None:
    config = parse_imap_url(f"imap://u:p@{host}/INBOX")
    assert (config.tls, config.port) == (False, 143)


@pytest.mark.parametrize(
    "url",
    [
        "imap://u:p@mail.example.org/INBOX",  # no TLS off the machine
        "http://u:p@mail.example.org/INBOX",
        "imaps://mail.example.org/INBOX",  # no user
        "imaps://u@mail.example.org/INBOX",  # no password for LOGIN
        "imaps://u:p@mail.example.org:99999/INBOX",
        "imaps://u:p@mail.example.org/INBOX?proccessed=Done",  # typo
        "imaps://u:p@mail.example.org/INBOX?auth=cram-md5",
        "imaps://u:p@mail.example.org/INBOX?timeout=0",
        "imaps://u:p@mail.example.org/INBOX?timeout=soon",
        "imaps://u:p@mail.example.org/INBOX?processed=INBOX",
        "imaps://u:p@mail.example.org/Entw%C3%BCrfe",  # needs modified UTF-7
    ],
)
def test_bad_urls_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match="IEP_FOLLOWUP_IMAP_URL") as caught:
        parse_imap_url(url)
    assert ":p@" not in str(caught.value)


def test_xoauth2_needs_a_token_provider() -> None:
    config = parse_imap_url("imaps://u@imap.gmail.com/INBOX?auth=xoauth2")
    with pytest.raises(ConfigError, match="token_provider"):
        ImapPoller(config, MemoryImapState())


# -- polling ------------------------------------------------------------------------------


@pytest.mark.dovecot
async def test_new_mail_is_handed_over_once_then_flagged(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    uid = dovecot.append(message(1))
    poller, handler = make_poller(), Recorder()

    result = await poller.poll_once(handler)

    assert result == PollResult(
        fetched=1, handled=1, failed=0, uidvalidity=dovecot.uidvalidity(), last_uid=uid
    )
    assert handler.seen == [message(1)]
    assert dovecot.flags() == {uid: DONE}


@pytest.mark.dovecot
async def test_a_second_poll_fetches_only_what_is_new(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    dovecot.append(message(1))
    poller, handler = make_poller(), Recorder()
    await poller.poll_once(handler)

    again = await poller.poll_once(handler)
    assert (again.fetched, again.handled, again.failed) == (0, 0, 0)

    newer = dovecot.append(message(2))
    third = await poller.poll_once(handler)
    assert (third.fetched, third.handled, third.last_uid) == (1, 1, newer)
    assert handler.seen == [message(1), message(2)]


@pytest.mark.dovecot
async def test_a_new_poller_with_the_same_state_resumes_by_uid(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    state = MemoryImapState()
    first_uids = [dovecot.append(message(n)) for n in (1, 2)]
    first = make_poller(state=state)
    await first.poll_once(Recorder())
    await first.close()
    # Resuming must rest on the stored UID, not on flags someone may clear.
    with dovecot.client() as imap:
        imap.select("INBOX")
        imap.uid("STORE", ",".join(map(str, first_uids)), "-FLAGS", f"(\\Seen {PROCESSED_KEYWORD})")
    dovecot.append(message(3))

    handler = Recorder()
    result = await make_poller(state=state).poll_once(handler)

    assert handler.seen == [message(3)]
    assert result.handled == 1


@pytest.mark.dovecot
async def test_a_changed_uidvalidity_starts_over(dovecot: Dovecot, make_poller: MakePoller) -> None:
    dovecot.create("Replies")
    for n in (1, 2):
        dovecot.append(message(n), "Replies")
    state = MemoryImapState()
    poller = make_poller("Replies", state=state)
    before = await poller.poll_once(Recorder())
    assert before.last_uid == 2

    dovecot.recreate("Replies")
    dovecot.append(message(3), "Replies")
    handler = Recorder()
    after = await poller.poll_once(handler)

    assert after.uidvalidity != before.uidvalidity
    assert after.uidvalidity == dovecot.uidvalidity("Replies")
    assert handler.seen == [message(3)]
    assert state.load("Replies") == (after.uidvalidity, 1)


@pytest.mark.dovecot
@pytest.mark.parametrize("failure", [False, RuntimeError], ids=["returns-false", "raises"])
async def test_a_failed_handler_leaves_the_message_unmarked_and_it_is_offered_again(
    dovecot: Dovecot, make_poller: MakePoller, failure: bool | type[Exception]
) -> None:
    uids = [dovecot.append(message(n)) for n in (1, 2)]
    state = MemoryImapState()
    poller = make_poller(state=state)

    failed = await poller.poll_once(Recorder(failure))

    # The poll stops at the failure: the stored UID is a high-water mark.
    assert (failed.fetched, failed.handled, failed.failed, failed.last_uid) == (1, 0, 1, 0)
    assert dovecot.flags() == {uids[0]: frozenset(), uids[1]: frozenset()}
    assert state.load("INBOX") == (failed.uidvalidity, 0)

    handler = Recorder()
    retried = await poller.poll_once(handler)
    assert handler.seen == [message(1), message(2)]
    assert (retried.handled, retried.last_uid) == (2, uids[1])
    assert dovecot.flags() == {uids[0]: DONE, uids[1]: DONE}


@pytest.mark.dovecot
@pytest.mark.parametrize("query", ["timeout=5", "timeout=5&processed=Processed"])
async def test_nothing_is_marked_or_moved_before_the_handler_returns_true(
    dovecot: Dovecot, make_poller: MakePoller, query: str
) -> None:
    uid = dovecot.append(message(1))
    during: list[dict[int, frozenset[str]]] = []

    async def handle(raw: bytes) -> bool:
        during.append(await asyncio.to_thread(dovecot.flags))
        return True

    await make_poller(query=query).poll_once(handle)

    assert during == [{uid: frozenset()}]
    assert dovecot.flags() == ({} if "processed" in query else {uid: DONE})


@pytest.mark.dovecot
async def test_handled_messages_move_to_the_processed_folder(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    for n in (1, 2):
        dovecot.append(message(n))
    handler = Recorder()

    result = await make_poller(query="timeout=5&processed=Processed").poll_once(handler)

    assert result.handled == 2
    assert dovecot.flags("INBOX") == {}
    assert len(dovecot.flags("Processed")) == 2
    # The folder is created once and reused on the next connection.
    dovecot.append(message(3))
    second = make_poller(query="timeout=5&processed=Processed", state=MemoryImapState())
    await second.poll_once(handler)
    assert len(dovecot.flags("Processed")) == 3


@pytest.mark.dovecot
async def test_without_move_handled_messages_are_copied_then_expunged(
    make_dovecot: MakeDovecot,
) -> None:
    # Advertise no MOVE, as some older servers do; UIDPLUS lets us expunge just ours.
    server = make_dovecot(extra_config="imap_capability = IMAP4rev1 UIDPLUS")
    uids = [server.append(message(n)) for n in (1, 2)]
    # Someone else's deleted message must survive our expunge.
    with server.client() as imap:
        assert b"MOVE" not in imap.capability()[1][0].split()
        imap.select("INBOX")
        imap.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")
    handler = Recorder(True, False)
    config = parse_imap_url(server.url(query="timeout=5&processed=Processed"))
    async with ImapPoller(config, MemoryImapState()) as poller:
        result = await poller.poll_once(handler)
    assert (result.handled, result.failed) == (1, 1)
    assert server.flags("INBOX") == {uids[1]: frozenset({"\\Deleted"})}
    assert len(server.flags("Processed")) == 1


@pytest.mark.dovecot
async def test_a_server_restart_mid_poll_loses_nothing_and_repeats_nothing(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    uids = [dovecot.append(message(n)) for n in (1, 2, 3)]
    state = MemoryImapState()
    poller = make_poller(state=state)
    seen: list[bytes] = []

    async def handle(raw: bytes) -> bool:
        if not seen:
            # The outcome is committed, then the server goes away before we can flag it.
            await asyncio.to_thread(dovecot.restart)
        seen.append(raw)
        return True

    with pytest.raises(MailboxError, match="lost"):
        await poller.poll_once(handle)
    assert seen == [message(1)]
    assert state.load("INBOX") == (dovecot.uidvalidity(), uids[0])

    result = await poller.poll_once(handle)

    assert seen == [message(1), message(2), message(3)]
    assert (result.handled, result.last_uid) == (2, uids[2])
    # The flag that could not be set during the outage is set once the server is back.
    assert dovecot.flags() == dict.fromkeys(uids, DONE)


@pytest.mark.dovecot
async def test_a_server_that_is_down_gives_one_error_and_the_next_poll_recovers(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    poller, handler = make_poller(), Recorder()
    await poller.poll_once(handler)
    dovecot.stop()

    started = time.monotonic()
    with pytest.raises(MailboxError) as caught:
        await poller.poll_once(handler)
    assert time.monotonic() - started < 5
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, IepFollowupError)

    dovecot.start()
    dovecot.append(message(1))
    result = await poller.poll_once(handler)
    assert handler.seen == [message(1)]
    assert result.handled == 1


@pytest.mark.dovecot
async def test_a_wrong_password_gives_a_one_line_error_without_the_password(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    config = dataclasses.replace(parse_imap_url(dovecot.url()), password="wrong-Pa55")
    poller = make_poller(config=config)

    with pytest.raises(MailboxError) as caught:
        await poller.poll_once(Recorder())

    text = str(caught.value)
    assert "refused the login" in text
    assert "IEP_FOLLOWUP_IMAP_URL" in text
    assert "wrong-Pa55" not in text
    assert "\n" not in text


@pytest.mark.dovecot
async def test_logs_carry_neither_the_password_nor_the_message(
    dovecot: Dovecot, make_poller: MakePoller, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append(message(1))
    caplog.set_level(logging.DEBUG)

    poller = make_poller()
    await poller.poll_once(Recorder(RuntimeError))
    await poller.poll_once(Recorder())
    await poller.close()

    assert "reply number 1" not in caplog.text
    assert dovecot.password not in caplog.text


@pytest.mark.dovecot
async def test_close_logs_out_and_a_later_poll_reconnects(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    poller, handler = make_poller(), Recorder()
    await poller.poll_once(handler)
    await poller.close()
    await poller.close()

    dovecot.append(message(1))
    assert (await poller.poll_once(handler)).handled == 1
    assert "Logged out" in dovecot.log_tail(100)


async def test_a_server_that_never_answers_times_out() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    poller = ImapPoller(
        parse_imap_url(f"imap://u:p@127.0.0.1:{port}/INBOX?timeout=0.3"), MemoryImapState()
    )
    try:
        started = time.monotonic()
        with pytest.raises(MailboxError, match=r"did not answer connect within 0\.3s"):
            await poller.poll_once(Recorder())
        assert time.monotonic() - started < 3
    finally:
        await poller.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.dovecot
@pytest.mark.parametrize("good", [True, False], ids=["valid-token", "bad-token"])
async def test_xoauth2_logs_in_with_the_token_from_the_provider(
    dovecot_oauth: Dovecot, good: bool
) -> None:
    dovecot_oauth.append(message(1))
    asked: list[str] = []

    async def token_provider() -> str:
        asked.append("token")
        return OAUTH_TOKEN if good else "expired-token"

    # The URL password is not used for XOAUTH2; the token comes from the provider.
    url = f"imap://{dovecot_oauth.user}@127.0.0.1:{dovecot_oauth.port}/INBOX?auth=xoauth2&timeout=5"
    handler = Recorder()
    async with ImapPoller(
        parse_imap_url(url), MemoryImapState(), token_provider=token_provider
    ) as poller:
        started = time.monotonic()
        if good:
            assert (await poller.poll_once(handler)).handled == 1
        else:
            # Dovecot, like Gmail, answers a bad token with a challenge; we must not hang on it.
            with pytest.raises(MailboxError, match="refused the login") as caught:
                await poller.poll_once(handler)
            assert "expired-token" not in str(caught.value)
            assert time.monotonic() - started < 4
    assert asked == ["token"]


async def test_a_cancelled_poll_drops_the_connection_and_close_still_works() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    poller = ImapPoller(
        parse_imap_url(f"imap://u:p@127.0.0.1:{port}/INBOX?timeout=30"), MemoryImapState()
    )
    try:
        poll = asyncio.ensure_future(poller.poll_once(Recorder()))
        await asyncio.sleep(0.2)
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        await asyncio.wait_for(poller.close(), 1)
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.dovecot
async def test_imaps_works_with_a_trusted_certificate_and_survives_a_restart(
    dovecot_tls: Dovecot,
) -> None:
    uid = dovecot_tls.append(message(1))
    url = dovecot_tls.url(query="timeout=5", tls=True)
    context = ssl.create_default_context(cafile=str(dovecot_tls.cert_path))
    handler = Recorder()
    async with ImapPoller(parse_imap_url(url), MemoryImapState(), ssl_context=context) as poller:
        assert (await poller.poll_once(handler)).last_uid == uid
        dovecot_tls.restart()
        second = dovecot_tls.append(message(2))
        # The first attempt notices the dropped TLS session and reconnects at once.
        assert (await poller.poll_once(handler)).last_uid == second
    assert handler.seen == [message(1), message(2)]


@pytest.mark.dovecot
async def test_an_untrusted_certificate_is_refused_without_hanging(dovecot_tls: Dovecot) -> None:
    url = f"imaps://{dovecot_tls.user}:x@127.0.0.1:{dovecot_tls.tls_port}/INBOX?timeout=5"
    started = time.monotonic()
    async with ImapPoller(parse_imap_url(url), MemoryImapState()) as poller:
        with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
            await poller.poll_once(Recorder())
    assert time.monotonic() - started < 4


@pytest.mark.dovecot
async def test_plain_imap_to_the_tls_port_times_out(dovecot_tls: Dovecot) -> None:
    url = f"imap://{dovecot_tls.user}:x@127.0.0.1:{dovecot_tls.tls_port}/INBOX?timeout=0.5"
    async with ImapPoller(parse_imap_url(url), MemoryImapState()) as poller:
        with pytest.raises(MailboxError, match="did not answer connect"):
            await poller.poll_once(Recorder())


@pytest.mark.dovecot
async def test_a_message_expunged_by_someone_else_mid_poll_is_skipped(
    dovecot: Dovecot, make_poller: MakePoller
) -> None:
    uids = [dovecot.append(message(n)) for n in (1, 2, 3)]

    def expunge_second() -> None:
        with dovecot.client() as imap:
            imap.select("INBOX")
            imap.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")
            imap.expunge()

    async def handle(raw: bytes) -> bool:
        if raw == message(1):
            await asyncio.to_thread(expunge_second)
        seen.append(raw)
        return True

    seen: list[bytes] = []
    result = await make_poller().poll_once(handle)

    assert seen == [message(1), message(3)]
    assert (result.fetched, result.handled, result.last_uid) == (2, 2, uids[2])


async def test_check_logs_in_and_touches_nothing(dovecot: Dovecot) -> None:

    state = MemoryImapState()
    poller = ImapPoller(parse_imap_url(dovecot.url()), state)
    try:
        assert "logged in, mailbox open" in await poller.check()
    finally:
        await poller.close()
    assert state.saved == {}


@pytest.mark.dovecot
async def test_a_message_over_the_limit_is_never_downloaded_only_its_header(
    dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    big = message(2).replace(b"\r\n\r\n", b"\r\n\r\n" + b"photo data\r\n" * 5_000, 1)
    first, second, third = (dovecot.append(m) for m in (message(1), big, message(3)))
    handler = Recorder()
    headers: list[tuple[bytes, int]] = []

    async def too_large(header: bytes, size: int) -> bool:
        headers.append((header, size))
        return True

    config = parse_imap_url(dovecot.url(query="timeout=5"))
    async with ImapPoller(config, MemoryImapState(), max_bytes=len(big) - 1) as poller:
        result = await poller.poll_once(handler, too_large)

    assert (result.fetched, result.handled, result.last_uid) == (3, 3, third)
    assert handler.seen == [message(1), message(3)]
    [(header, size)] = headers
    assert size == len(big)
    assert header == big.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert dovecot.flags() == {first: DONE, second: DONE, third: DONE}

    # A poller given nowhere to send it skips it, says so, and is not blocked by it.
    dovecot.append(big)
    async with ImapPoller(config, MemoryImapState(), max_bytes=len(big) - 1) as poller:
        skipped = await poller.poll_once(Recorder())
    assert (skipped.fetched, skipped.handled, skipped.failed) == (4, 4, 0)
    assert "larger than" in caplog.text
