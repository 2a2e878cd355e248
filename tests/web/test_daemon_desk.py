"""`iep-followup run` serves the desk in the daemon's loop when IEP_FOLLOWUP_WEB_LISTEN is set."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

from tests.integration.test_cli import RunCli
from tests.integration.test_daemon import _prepare, _start, _wait, stop_after
from tests.web.test_cli_web import _free_port

__all__ = ["stop_after"]  # the fixture, used below


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_run_serves_the_desk_and_stops_it_with_the_daemon(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    port = _free_port()
    env["IEP_FOLLOWUP_WEB_LISTEN"] = f"127.0.0.1:{port}"
    daemon = _start(tmp_path, env)
    stop_after.append(daemon)
    _wait(lambda: _answers(f"http://127.0.0.1:{port}/signin"), 30, "the desk's sign-in page")
    # A signed-in page through the daemon's desk: the same database the jobs use.
    cli = RunCli(tmp_path)
    cli.env = env
    link = cli("web", "link", "dana.whitfield@lincoln.example.org").stdout.strip()
    with urllib.request.urlopen(link, timeout=5) as response:
        page = response.read().decode()
    assert "Press the button to sign in" in page
    daemon.send_signal(signal.SIGTERM)
    _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert f"the desk at http://127.0.0.1:{port}/" in err
    assert "iep_followup.daemon: stopped" in err
    assert _refused(port)  # the desk stopped with the daemon
    assert "signin/" not in err  # no access log: a link's token stays out of the log
    assert "Uvicorn running" not in err  # uvicorn's chatter stays out too


def test_a_busy_desk_port_is_one_clear_error(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as busy:
        env["IEP_FOLLOWUP_WEB_LISTEN"] = f"127.0.0.1:{busy.getsockname()[1]}"
        daemon = _start(tmp_path, env)
        stop_after.append(daemon)
        _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode != 0
    assert "IEP_FOLLOWUP_WEB_LISTEN: cannot listen on 127.0.0.1" in err
    assert "Traceback" not in err
