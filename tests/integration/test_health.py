"""/healthz and /readyz: on the desk, and on the ops port of a daemon without the desk."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from iep_followup.config import Settings
from iep_followup.daemon import Daemon
from iep_followup.schedule import JobSpec
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from iep_followup.web.serve import OpsServer
from tests.conftest import Clock
from tests.integration.test_daemon import _prepare, _start, _wait, stop_after
from tests.web.test_cli_web import _free_port

__all__ = ["stop_after"]  # the fixture, used below


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def test_readiness_follows_the_heartbeat(tracker: Tracker, clock: Clock) -> None:
    assert tracker.readiness().ready  # no daemon expected: the database alone
    missing = tracker.readiness(heartbeat_every=300)
    assert (missing.ready, missing.reason) == (False, "the daemon has recorded no heartbeat yet")
    beat = clock.now
    tracker.record_job_run("heartbeat", 0.25)
    clock.now = beat + timedelta(seconds=599)
    assert tracker.readiness(heartbeat_every=300).ready
    clock.now = beat + timedelta(seconds=600)
    late = tracker.readiness(heartbeat_every=300)
    assert not late.ready
    assert late.reason == "the daemon's last heartbeat was 600s ago (expected every 300s)"
    # An older success recorded late (a slow replica) never moves the heartbeat back.
    clock.now = beat - timedelta(seconds=60)
    tracker.record_job_run("heartbeat", 0.5)
    clock.now = beat + timedelta(seconds=10)
    assert tracker.readiness(heartbeat_every=300).ready
    assert [(j.name, j.last_success_at) for j in tracker.ops_metrics().jobs] == [
        ("heartbeat", beat)
    ]


def test_a_database_not_set_up_is_not_ready(
    tmp_path: Path, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with Tracker(settings, clock=clock) as tracker:
        client = TestClient(create_app(tracker))
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.text == "the database is not set up: run `iep-followup init`\n"


def test_healthz_touches_nothing_and_readyz_says_the_database_does_not_answer(
    make_settings: Callable[..., Settings], clock: Clock
) -> None:
    port = _free_port()  # nothing listens there
    url = f"postgresql+psycopg://iep:secret-password@127.0.0.1:{port}/iep"
    with Tracker(make_settings(database_url=url), clock=clock) as tracker:
        client = TestClient(create_app(tracker))
        health = client.get("/healthz")
        ready = client.get("/readyz")
    assert (health.status_code, health.text) == (200, "ok\n")
    assert "set-cookie" not in health.headers
    assert (ready.status_code, ready.text) == (503, "the database does not answer\n")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_daemon_without_the_desk_serves_the_probes_on_its_ops_port(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    port = _free_port()
    tracker = make_tracker(ops_listen=f"127.0.0.1:{port}")
    daemon = Daemon(
        tracker,
        (JobSpec("heartbeat", every_seconds=300),),
        ops=OpsServer(tracker, heartbeat_every=300),
    )
    running = asyncio.create_task(daemon.run())
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # the heartbeat runs at start
            if await asyncio.to_thread(_get, base + "/readyz") == (200, "ok\n"):
                break
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(_get, base + "/readyz") == (200, "ok\n")
        assert await asyncio.to_thread(_get, base + "/healthz") == (200, "ok\n")
        assert (await asyncio.to_thread(_get, base + "/signin"))[0] == 404  # the probes only
        clock.now += timedelta(minutes=10)  # no heartbeat for twice its interval
        assert await asyncio.to_thread(_get, base + "/readyz") == (
            503,
            "the daemon's last heartbeat was 600s ago (expected every 300s)\n",
        )
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(running, 30) == 0
    assert await asyncio.to_thread(_get, base + "/healthz") == (0, "")  # stopped with the daemon


def test_run_with_ops_listen_answers_ready(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    port = _free_port()
    env["IEP_FOLLOWUP_OPS_LISTEN"] = f"127.0.0.1:{port}"
    daemon = _start(tmp_path, env)
    stop_after.append(daemon)
    _wait(lambda: _get(f"http://127.0.0.1:{port}/readyz") == (200, "ok\n"), 30, "ready")
    daemon.send_signal(signal.SIGTERM)
    _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert f"health and metrics at http://127.0.0.1:{port}/" in err
    assert "the desk at" not in err
