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
