"""deploy/systemd: the units verify, are hardened, and `init --env-file` writes where they read."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from iep_followup.config import load_settings
from tests.conftest import ROOT
from tests.integration.test_cli import CLI, RunCli

UNITS = ROOT / "deploy" / "systemd"
SERVICES = ("iep-followup.service", "iep-followup-desk.service")
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
    "User": "iep-followup",
    "UMask": "0077",
}


def _directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_the_unit_verifies(name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package has it)")
    # The unit as installed, but running this checkout's command: verify checks it exists.
    text = (UNITS / name).read_text(encoding="utf-8")
    assert "ExecStart=/opt/iep-followup/bin/iep-followup " in text
    copy = tmp_path / name
    copy.write_text(text.replace("/opt/iep-followup/bin/iep-followup", str(CLI)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Unknown" not in done.stderr and "ignoring" not in done.stderr, done.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_the_unit_runs_hardened_in_its_data_folder(name: str) -> None:
    directives = _directives(UNITS / name)
    for key, value in HARDENING.items():
        assert directives.get(key) == [value], f"{name}: {key}"
    assert (
        directives["ReadWritePaths"] == directives["WorkingDirectory"] == ["/var/lib/iep-followup"]
    )
    assert directives["StateDirectory"] == ["iep-followup"]
    assert directives["EnvironmentFile"] == ["/etc/iep-followup/env"]


def test_init_env_file_writes_the_secret_where_the_units_read_it(tmp_path: Path) -> None:
    read_by_units = {
        value for name in SERVICES for value in _directives(UNITS / name)["EnvironmentFile"]
    }
    assert read_by_units == {"/etc/iep-followup/env"}
    env_file = tmp_path / "etc" / "iep-followup" / "env"  # the same path, under tmp_path
    env_file.parent.mkdir(parents=True)
    example = (UNITS / "iep-followup.env.example").read_text(encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'iep.db'}"
    env_file.write_text(
        example.replace(
            "IEP_FOLLOWUP_DATABASE_URL=postgresql://", "# IEP_FOLLOWUP_DATABASE_URL=postgresql://"
        )
        + f"IEP_FOLLOWUP_DATABASE_URL={database}",  # no newline at the end, as editors leave it
        encoding="utf-8",
    )
    run = RunCli(tmp_path)
    first = run("init", "--env-file", str(env_file))
    assert f"Wrote a new IEP_FOLLOWUP_SECRET_KEY to {env_file}" in first.stdout
    assert not (tmp_path / ".env").exists()  # not the working folder's .env
    settings = load_settings(env_file)
    assert settings.database_url == database  # the line before it stayed whole
    assert settings.secret_key is not None and len(settings.secret_key.get_secret_value()) >= 32
    assert settings.log_format == "json"
    again = run("init", "--env-file", str(env_file))
    assert "Wrote" not in again.stdout
    assert env_file.read_text(encoding="utf-8").count("IEP_FOLLOWUP_SECRET_KEY=") == 2  # + comment


def test_init_creates_a_missing_env_file_readable_by_its_owner_only(tmp_path: Path) -> None:
    env_file = tmp_path / "new" / "env"
    run = RunCli(tmp_path)
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'iep.db'}"
    run("init", "--env-file", str(env_file))
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text(encoding="utf-8").startswith("IEP_FOLLOWUP_SECRET_KEY=")
