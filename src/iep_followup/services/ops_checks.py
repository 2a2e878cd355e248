"""`check`'s lines about what the service offers: the desk, the SMTP receiver, the probes, metrics."""

from __future__ import annotations

from iep_followup.config import Settings, parse_listen
from iep_followup.net.probe import healthz_answers, listen_problem, smtp_greets
from iep_followup.services.health import Check

MIN_TOKEN = 16
LOOPBACK_NAMES = ("localhost", "127.", "[::1]")


def service_checks(settings: Settings) -> list[Check]:
    checks = [_desk(settings), _receiver(settings.smtp_receiver), _metrics(settings)]
    if settings.ops_listen is not None:
        checks.append(
            _http_listen("health and metrics", settings.ops_listen, "IEP_FOLLOWUP_OPS_LISTEN")
        )
    return checks


def _desk(settings: Settings) -> Check:
    url = settings.web_url or f"http://{settings.web_listen}"
    host = url.split("://", 1)[1]
    if url.startswith("http://") and not host.startswith(LOOPBACK_NAMES):
        return Check(
            "desk",
            False,
            f"IEP_FOLLOWUP_WEB_URL {url} is not https: sign-in links and sessions would cross "
            "the network unencrypted; put the desk behind a TLS proxy and give its https:// address",
        )
    if "web_listen" not in settings.model_fields_set:
        return Check(
            "desk",
            True,
            f"{url}/ (`iep-followup web` listens on {settings.web_listen}; "
            "`run` serves it when IEP_FOLLOWUP_WEB_LISTEN is set)",
        )
    listening = _http_listen("desk", settings.web_listen, "IEP_FOLLOWUP_WEB_LISTEN")
    return Check("desk", listening.ok, f"{url}/; {listening.detail}")


def _http_listen(name: str, listen_on: str, setting: str) -> Check:
    host, port = parse_listen(listen_on)
    problem = listen_problem(host, port)
    if problem is None:
        return Check(name, True, f"will listen on {listen_on}")
    shown = f"[{host}]" if ":" in host else host
    if problem == "in use" and healthz_answers(f"http://{shown}:{port}"):
        return Check(name, True, f"{listen_on} already answers /healthz (it is running)")
    if problem == "in use":
        return Check(name, False, f"{setting}: {listen_on} is taken by another program")
    return Check(name, False, f"{setting}: cannot listen on {listen_on} ({problem})")


def _receiver(address: str | None) -> Check:
    name = "incoming mail (SMTP receiver)"
    if not address:
        return Check(name, True, "not configured")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return Check(name, False, "IEP_FOLLOWUP_SMTP_RECEIVER must look like 127.0.0.1:2525")
    host = host.strip("[]")
    problem = listen_problem(host, int(port))
    if problem is None:
        return Check(name, True, f"will listen on {address}")
    if problem == "in use" and smtp_greets(host, int(port)):
        return Check(name, True, f"an SMTP server already answers on {address} (the daemon?)")
    if problem == "in use":
        return Check(
            name, False, f"IEP_FOLLOWUP_SMTP_RECEIVER: {address} is taken by another program"
        )
    hint = " (ports below 1024 need CAP_NET_BIND_SERVICE)" if int(port) < 1024 else ""
    return Check(
        name, False, f"IEP_FOLLOWUP_SMTP_RECEIVER: cannot listen on {address} ({problem}){hint}"
    )


def _metrics(settings: Settings) -> Check:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if not token:
        return Check(
            "metrics", True, "no IEP_FOLLOWUP_METRICS_TOKEN: /metrics answers loopback only"
        )
    if len(token) < MIN_TOKEN:
        return Check(
            "metrics",
            False,
            f"IEP_FOLLOWUP_METRICS_TOKEN is too short to be safe; use at least {MIN_TOKEN} random characters",
        )
    return Check("metrics", True, "token set: /metrics answers other hosts that send it")
