"""/metrics: Prometheus' text format, read from the database at scrape time; loopback or a token."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from iep_followup.web.serve import AppServer
from tests.conftest import Clock, make_record
from tests.mailclient import out_of_office
from tests.web.test_cli_web import _free_port

TOKEN = "a-metrics-token-for-the-tests-0123456789"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _busy_day(tracker: Tracker, clock: Clock) -> None:
    """A meeting's summaries queued an hour ago, an auto-reply, a sign-in, two jobs run."""
    tracker.record_meeting(make_record())
    tracker.ingest(out_of_office(tracker.settings.reply_address, "rosa@home.example.com"))
    link = tracker.sign_in_link("dana.case@school.example.org")
    assert tracker.sign_in(link.rsplit("/", 1)[1], client="127.0.0.1") is not None
    tracker.record_job_run("deliver", 1.25)
    clock.now += timedelta(hours=1)
    tracker.record_job_run("heartbeat", 0.5)


def test_metrics_show_the_outbox_replies_jobs_and_sign_ins(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    tracker = make_tracker(metrics_token=TOKEN)
    start = clock.now
    _busy_day(tracker, clock)
    client = TestClient(create_app(tracker))
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    got = _samples(response.text)
    queued = tracker.backlog().outbox
    assert got["iep_followup_outbox_messages", (("status", "queued"),)] == sum(queued.values())
    assert got["iep_followup_outbox_messages", (("status", "sent"),)] == 0
    assert got["iep_followup_outbox_messages", (("status", "failed"),)] == 0
    assert got["iep_followup_outbox_deferred_messages", ()] == 0
    assert got["iep_followup_outbox_oldest_queued_age_seconds", ()] == 3600
    assert got["iep_followup_inbound_messages", (("outcome", "ignored"),)] == 1
    assert got["iep_followup_inbound_messages", (("outcome", "applied"),)] == 0
    assert got["iep_followup_held_replies", ()] == 0
    assert got["iep_followup_digests_queued", ()] == 0
    assert got["iep_followup_desk_sign_ins", ()] == 1
    assert got["iep_followup_job_last_success_timestamp_seconds", (("job", "deliver"),)] == (
        start.timestamp()
    )
    assert got["iep_followup_job_last_duration_seconds", (("job", "heartbeat"),)] == 0.5
    # Counts only: no name, no address, no subject in a label or anywhere else.
    assert "@" not in response.text
    assert "Lucía" not in response.text and "Rosa" not in response.text


def test_metrics_answer_404_to_another_host_without_the_token(
    make_tracker: Callable[..., Tracker],
) -> None:
    client = TestClient(create_app(make_tracker(metrics_token=TOKEN)))  # client "testclient"
    assert client.get("/metrics").status_code == 404
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=wrong).status_code == 404
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", headers=right).status_code == 200
    no_token = TestClient(create_app(make_tracker()))
    assert no_token.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_over_loopback_unless_a_proxy_relays_the_request(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    tracker = make_tracker(metrics_token=TOKEN)
    _busy_day(tracker, clock)
    port = _free_port()
    server = AppServer(
        create_app(tracker), f"127.0.0.1:{port}", setting="IEP_FOLLOWUP_WEB_LISTEN", url=""
    )
    await server.start()
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        status, text = await asyncio.to_thread(_get, url)
        assert status == 200 and "iep_followup_outbox_messages" in text
        relayed = {"X-Forwarded-For": "203.0.113.9"}
        assert (await asyncio.to_thread(_get, url, relayed))[0] == 404
        with_token = {**relayed, "Authorization": f"Bearer {TOKEN}"}
        assert (await asyncio.to_thread(_get, url, with_token))[0] == 200
    finally:
        await server.stop()
