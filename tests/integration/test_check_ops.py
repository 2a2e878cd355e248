"""`check` also covers the desk (its URL and listen address), the SMTP receiver and metrics."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from pathlib import Path

from tests.integration.test_cli import CLI, RunCli
from tests.integration.test_daemon import _wait
from tests.smtp_server import SmtpServer, free_port


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line[6:].startswith(name + ":"))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_check_says_where_the_desk_listens_and_whether_it_can(tmp_path: Path) -> None:
    run = RunCli(tmp_path)
    run("init")
    port = free_port()
    run.env["IEP_FOLLOWUP_WEB_LISTEN"] = f"127.0.0.1:{port}"
    free = run("check").stdout
    assert _line(free, "desk") == (
        f"ok    desk: http://127.0.0.1:{port}/; will listen on 127.0.0.1:{port}"
    )
    assert _line(free, "metrics").startswith("ok    metrics: no IEP_FOLLOWUP_METRICS_TOKEN")
    assert _line(free, "incoming mail (SMTP receiver)") == (
        "ok    incoming mail (SMTP receiver): not configured"
    )

    with socket.create_server(("127.0.0.1", port)):  # another program holds the port
        taken = run("check", check=False)
    assert taken.returncode == 1
    assert _line(taken.stdout, "desk").endswith(
        f"FAIL  desk: http://127.0.0.1:{port}/; IEP_FOLLOWUP_WEB_LISTEN: 127.0.0.1:{port} is taken by another program"
    )

    desk = subprocess.Popen(
        [str(CLI), "web"],
        cwd=tmp_path,
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30, "the desk")
        running = run("check").stdout
    finally:
        desk.terminate()
        desk.wait(30)
    assert f"127.0.0.1:{port} already answers /healthz (it is running)" in _line(running, "desk")

    run.env["IEP_FOLLOWUP_WEB_URL"] = "http://desk.district.example.org"
    plain = run("check", check=False)
    assert plain.returncode == 1
    assert "is not https" in _line(plain.stdout, "desk")


def test_check_covers_the_smtp_receiver_and_the_metrics_token(tmp_path: Path) -> None:
    run = RunCli(tmp_path)
    run("init")
    port = free_port()
    run.env["IEP_FOLLOWUP_SMTP_RECEIVER"] = f"127.0.0.1:{port}"
    run.env["IEP_FOLLOWUP_METRICS_TOKEN"] = "a-long-random-metrics-token-0123"
    ok = run("check").stdout
    assert _line(ok, "incoming mail (SMTP receiver)").endswith(f"will listen on 127.0.0.1:{port}")
    assert _line(ok, "metrics").startswith("ok    metrics: token set")
    assert "a-long-random-metrics-token" not in ok

    with socket.create_server(("127.0.0.1", port)):
        taken = run("check", check=False)
    assert taken.returncode == 1
    assert "is taken by another program" in _line(taken.stdout, "incoming mail (SMTP receiver)")

    server = SmtpServer()  # an SMTP server that greets: the daemon's receiver, already running
    server.start()
    try:
        run.env["IEP_FOLLOWUP_SMTP_RECEIVER"] = f"127.0.0.1:{server.port}"
        greeted = run("check").stdout
    finally:
        server.stop()
    assert "already answers" in _line(greeted, "incoming mail (SMTP receiver)")

    run.env["IEP_FOLLOWUP_METRICS_TOKEN"] = "short"
    short = run("check", check=False)
    assert short.returncode == 1
    assert _line(short.stdout, "metrics").startswith(
        "FAIL  metrics: IEP_FOLLOWUP_METRICS_TOKEN is too short"
    )
