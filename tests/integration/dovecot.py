"""A throwaway Dovecot IMAP server for integration tests, run as a child process.

One instance per test: its own config, port, passwd-file and maildir; it can be
stopped and started again on the same port and maildir. Helpers talk to it over
the stdlib imaplib so the poller under test is checked by an independent client.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote

DOVECOT = Path("/usr/sbin/dovecot")
USER = "alice"
# '@', '%' and a space make sure the poller URL-decodes credentials.
PASSWORD = "s3cr@t %pw"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
STOP_GRACE = 0.5


def is_installed() -> bool:
    return DOVECOT.is_file() and os.access(DOVECOT, os.X_OK)


def has_openssl() -> bool:
    return shutil.which("openssl") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) that Dovecot 2.3 accepts.

    Dovecot refuses to run imap-login as root and refuses mail uid 0, so as root the
    login and mail processes run as `nobody`; as anyone else everything runs as that user.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    nobody = pwd.getpwnam("nobody")
    return "root", nobody.pw_name, nobody.pw_uid, nobody.pw_gid


class TokenIntrospection:
    """A tiny OAuth2 token-introspection endpoint (RFC 7662) that Dovecot asks about XOAUTH2 tokens."""

    def __init__(self, user: str, token: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                active = form.get("token") == [token]
                body = (
                    f'{{"active": true, "username": "{user}"}}' if active else '{"active": false}'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/introspect"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=STOP_TIMEOUT)


class Dovecot:
    """One Dovecot instance on 127.0.0.1; `start()` and `stop()` may be called repeatedly.

    With `oauth_token`, XOAUTH2 is enabled too and accepts exactly that bearer token;
    with `tls`, IMAPS also listens on `tls_port` (needs the openssl command);
    `extra_config` is appended to the configuration as is.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        oauth_token: str | None = None,
        tls: bool = False,
        extra_config: str = "",
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.user = USER
        self.password = PASSWORD
        # Unix socket paths are limited to ~108 bytes and pytest's tmp_path can be long;
        # the mail processes (uid `nobody` when we are root) also cannot enter tmp_path,
        # which pytest creates 0700. So sockets and mail live in a short, open scratch dir.
        self.scratch = Path(tempfile.mkdtemp(prefix="iepdc-"))
        self.scratch.chmod(0o755)
        internal, login, uid, gid = _accounts()
        self.mail_home = self.scratch / "home"
        self.mail_home.mkdir()
        if os.geteuid() == 0:
            os.chown(self.mail_home, uid, gid)
        self.log_path = workdir / "dovecot.log"
        self.config_path = workdir / "dovecot.conf"
        self.cert_path = workdir / "cert.pem"
        passwd = workdir / "users"
        passwd.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n", encoding="utf-8")
        self._introspection: TokenIntrospection | None = None
        mechanisms = "plain login"
        optional = ""
        if oauth_token is not None:
            self._introspection = TokenIntrospection(self.user, oauth_token)
            mechanisms += " xoauth2"
            optional += self._oauth_passdb(self._introspection.url)
        optional += self._tls_settings() if tls else "ssl = no\n"
        # Dovecot 2.3 wants each block on its own lines.
        self.config_path.write_text(
            f"""\
base_dir = {self.scratch / "run"}
state_dir = {self.scratch / "state"}
log_path = {self.log_path}
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.mail_home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
  }}
}}
{optional}{extra_config}
""",
            encoding="utf-8",
        )
        self._process: subprocess.Popen[bytes] | None = None

    def _oauth_passdb(self, introspection_url: str) -> str:
        oauth_conf = self.workdir / "oauth2.conf.ext"
        oauth_conf.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {introspection_url}\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n",
            encoding="utf-8",
        )
        return f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2\n  args = {oauth_conf}\n}}\n"

    def _tls_settings(self) -> str:
        """A self-signed certificate for 127.0.0.1 (clients trust `cert_path`)."""
        key_path = self.workdir / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key_path), "-out", str(self.cert_path),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        return f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{key_path}\n"

    def url(self, mailbox: str = "INBOX", query: str = "", *, tls: bool = False) -> str:
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        where = (
            f"imaps://{credentials}@127.0.0.1:{self.tls_port}"
            if tls
            else f"imap://{credentials}@127.0.0.1:{self.port}"
        )
        suffix = f"?{query}" if query else ""
        return f"{where}/{mailbox}{suffix}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.running, "Dovecot is already running"
        stderr = (self.workdir / "dovecot.stderr").open("ab")
        with stderr:
            self._process = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                # Its own process group, so stop() can take the session processes down too.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Dovecot exited at start-up:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not answer within {START_TIMEOUT}s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server and every process it started, dropping all client connections.

        Signalling only the master leaves running IMAP sessions alive (and their clients
        connected), so the whole process group is signalled, as a crash or reboot would.
        The master sometimes lingers for seconds over its children, hence the short grace.
        """
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_running(process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot processes in group {process.pid} would not exit")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            time.sleep(0.01)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._introspection is not None:
            self._introspection.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for path in (self.workdir / "dovecot.stderr", self.log_path):
            if path.exists():
                text += path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- an independent client (stdlib imaplib) ---------------------------------------

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, raw: bytes, mailbox: str = "INBOX") -> int:
        """Deliver one message; returns its UID."""
        with self.client() as imap:
            typ, data = imap.append(_quoted(mailbox), None, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert match, data
            return int(match.group(1))

    def flags(self, mailbox: str = "INBOX") -> dict[int, frozenset[str]]:
        """UID -> flags of every message in the mailbox, read without changing them."""
        with self.client() as imap:
            typ, data = imap.select(_quoted(mailbox), readonly=True)
            assert typ == "OK", data
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
            assert typ == "OK", data
            result: dict[int, frozenset[str]] = {}
            for item in data:
                if not isinstance(item, bytes):
                    continue
                uid = re.search(rb"UID (\d+)", item)
                flags = re.search(rb"FLAGS \(([^)]*)\)", item)
                if uid is None or flags is None:
                    continue
                result[int(uid.group(1))] = frozenset(flags.group(1).decode().split())
            return result

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        with self.client() as imap:
            typ, data = imap.status(_quoted(mailbox), "(UIDVALIDITY)")
            assert typ == "OK", data
            match = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
            assert match, data
            return int(match.group(1))

    def create(self, mailbox: str) -> None:
        with self.client() as imap:
            typ, data = imap.create(_quoted(mailbox))
            assert typ == "OK", data

    def recreate(self, mailbox: str) -> None:
        """Delete and create a mailbox again, which gives it a new UIDVALIDITY."""
        with self.client() as imap:
            typ, data = imap.delete(_quoted(mailbox))
            assert typ == "OK", data
            typ, data = imap.create(_quoted(mailbox))
            assert typ == "OK", data


def _group_running(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies, awaiting init, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
