"""The command line at its edges: ids past a database's range, a settings file that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.integration.test_cli import RunCli

HUGE = "99999999999999999999999"


@pytest.fixture
def run(tmp_path: Path) -> RunCli:
    return RunCli(tmp_path)


def test_an_id_past_the_database_range_is_a_usage_error_naming_the_argument(
    run: RunCli, database_url: str
) -> None:
    # It printed "error: unexpected OverflowError" (SQLite) or a driver's DataError.
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    run("import", str(EXAMPLE))
    for args in (
        ("update", HUGE, "--percent", "50"),
        ("inbox", "show", HUGE),
        ("inbox", "release", HUGE),
    ):
        done = run(*args, check=False)
        assert done.returncode == 2, (args, done.stderr)
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: Invalid value for "), (args, last)
        assert "must be a whole number from 1 to 9223372036854775807" in last
        assert "Overflow" not in done.stderr and "Traceback" not in done.stderr
    assert run("update", "0", "--percent", "50", check=False).returncode == 2


def test_a_named_settings_file_that_is_missing_is_one_error_and_creates_nothing(
    run: RunCli, tmp_path: Path
) -> None:
    # It was skipped, and `init` made a new empty iep-followup.db in the working folder.
    for command in (("init",), ("status",), ("import", str(EXAMPLE))):
        done = run("--env-file", "prod.env", *command, check=False)
        assert done.returncode == 1, (command, done.stdout)
        assert done.stderr.splitlines() == [
            "error: the settings file prod.env cannot be read: no such file"
        ]
    assert list(tmp_path.iterdir()) == []
    # Named and there, it is read; not named, a missing .env is no error.
    (tmp_path / "prod.env").write_text(
        f"IEP_FOLLOWUP_DATABASE_URL=sqlite:///{tmp_path / 'prod.db'}\n", encoding="utf-8"
    )
    assert "applied 0001" in run("--env-file", "prod.env", "init").stdout
    assert (tmp_path / "prod.db").exists()
    assert "applied 0001" in run("init").stdout
