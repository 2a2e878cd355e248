"""The privacy commands as a user runs them: `export`, `access-log` and `student forget`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from iep_followup.desk import RECORD_COLUMNS
from tests.conftest import EXAMPLE
from tests.integration.test_cli import RunCli

STUDENT = "S-2026-0417"


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> RunCli:
    run = RunCli(tmp_path)
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    run("import", str(EXAMPLE))
    return run


def test_an_export_from_the_command_line_is_on_the_access_log(cli: RunCli) -> None:
    assert json.loads(cli("access-log", STUDENT, "--json").stdout) == []
    exported = cli("export", STUDENT).stdout
    rows = list(csv.reader(io.StringIO(exported)))
    assert tuple(rows[0]) == RECORD_COLUMNS
    assert {row[1] for row in rows[1:]} == {"Lucía Herrera"}
    log = json.loads(cli("access-log", STUDENT, "--json").stdout)
    # Newest first: the export, then the first read of the log (this read is recorded after).
    assert [(e["actor"], e["client"], e["action"]) for e in log] == [
        ("cli", "cli", "exported_cli"),
        ("cli", "cli", "viewed_access_log"),
    ]
    table = cli("access-log", STUDENT).stdout
    assert "exported_cli" in table and "WHEN (UTC)" in table
    cli("status", "--student", STUDENT)
    newest = json.loads(cli("access-log", STUDENT, "--json").stdout)[0]
    assert (newest["actor"], newest["action"]) == ("cli", "viewed_student")


def test_forget_is_a_dry_run_until_yes(cli: RunCli) -> None:
    items = len(json.loads(cli("status", "--student", STUDENT, "--json").stdout)["items"])
    assert items >= 8  # the example's plan, and its accommodations' check-ins
    dry = cli("student", "forget", STUDENT).stdout
    assert "a dry run; nothing was changed" in dry
    assert "family members (name and address): 1" in dry
    assert f"action items: {items}" in dry
    done = cli("student", "forget", STUDENT, "--yes").stdout
    assert f"{STUDENT}: forgotten." in done
    assert f"action items: {items}" in done
    kept = json.loads(cli("status", "--student", STUDENT, "--json").stdout)
    assert (kept["name"], kept["items"], kept["members"]) == ("Lucía Herrera", [], [])
    [forgotten] = [
        e
        for e in json.loads(cli("access-log", STUDENT, "--json").stdout)
        if e["action"] == "forgotten"
    ]
    assert (forgotten["actor"], forgotten["client"]) == ("cli", "cli")
    assert "action items: 0" in cli("student", "forget", STUDENT).stdout


def test_an_unknown_student_is_an_error(cli: RunCli) -> None:
    for args in (("access-log", "S-404"), ("export", "S-404"), ("student", "forget", "S-404")):
        done = cli(*args, check=False)
        assert done.returncode == 1, args
        assert done.stderr.strip() == "error: no student with id 'S-404'", args
