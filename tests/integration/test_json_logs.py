"""IEP_FOLLOWUP_LOG_FORMAT=json: a real daemon (with its desk) logs one JSON object per line."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.test_daemon import SECRET, _prepare, _start, _wait, stop_after
from tests.web.test_cli_web import _free_port

__all__ = ["stop_after"]  # the fixture, used below


def _sign_in_page(url: str) -> bool:
    request = urllib.request.Request(url, headers={"X-Request-ID": "probe-from-the-test-42"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.headers["X-Request-ID"] == "probe-from-the-test-42")
    except OSError:
        return False


def test_a_json_log_daemon_writes_one_json_object_per_line(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    port = _free_port()
    env["IEP_FOLLOWUP_LOG_FORMAT"] = "json"
    env["IEP_FOLLOWUP_WEB_LISTEN"] = f"127.0.0.1:{port}"
    daemon = _start(tmp_path, env)
    stop_after.append(daemon)
    _wait(
        lambda: len(list((tmp_path / "mail").glob("*.eml"))) == 8, 30, "the eight meeting summaries"
    )
    _wait(lambda: _sign_in_page(f"http://127.0.0.1:{port}/signin"), 30, "the desk")
    time.sleep(1.5)  # let a heartbeat happen after the deliveries
    daemon.send_signal(signal.SIGTERM)
    out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert out == ""
    lines: list[dict[str, Any]] = []
    for text in err.splitlines():
        line = json.loads(text)  # every line parses, or the test fails naming it
        assert isinstance(line, dict), text
        assert {"time", "level", "logger", "event", "message"} <= set(line), text
        lines.append(line)
    events = [line["event"] for line in lines]
    assert events[0] == "daemon_started" and events[-1] == "daemon_stopped"
    delivered = [
        line
        for line in lines
        if line["event"] == "job_done" and line["job"] == "deliver" and line["counts"]["sent"]
    ]
    assert [line["counts"] for line in delivered] == [{"sent": 8, "retried": 0, "failed": 0}]
    assert isinstance(delivered[0]["duration"], float)
    heartbeat = next(line for line in lines if line.get("job") == "heartbeat")
    assert heartbeat["counts"]["held"] == 0
    request = next(line for line in lines if line["event"] == "request")
    assert request["request_id"] == "probe-from-the-test-42"
    assert request["message"].startswith("GET ")
    assert SECRET not in err
    assert "Lucía" not in err and "@" not in err.replace("iep-followup@localhost", "")
