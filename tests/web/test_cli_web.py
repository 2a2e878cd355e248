"""`iep-followup web link` and `iep-followup web`, run as commands, served on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import EXAMPLE
from tests.integration.test_cli import CLI, RunCli


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_web_link_prints_a_link_that_opens_the_desk(tmp_path: Path) -> None:
    run = RunCli(tmp_path)
    port = _free_port()
    run.env["IEP_FOLLOWUP_WEB_LISTEN"] = f"127.0.0.1:{port}"
    run("init")
    run("import", str(EXAMPLE))
    link = run("web", "link", "Dana.Whitfield@lincoln.example.org").stdout.strip()
    assert link.startswith(f"http://127.0.0.1:{port}/signin/")
    refused = run("web", "link", "tom.okafor@lincoln.example.org", check=False)
    assert refused.returncode == 1 and "neither a case manager" in refused.stderr

    server = subprocess.Popen(
        [str(CLI), "web"],
        cwd=tmp_path,
        env=run.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(link, timeout=2) as response:
                    page = response.read().decode()
                    headers = response.headers
                break
            except OSError:
                time.sleep(0.2)
        assert "Press the button to sign in" in page
        assert headers["X-Content-Type-Options"] == "nosniff"
    finally:
        os.kill(server.pid, signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert "signin/" not in out + err  # no access log: the link's token stays out of logs
