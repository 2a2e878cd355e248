"""The command line as a user runs it: a real process, a real SQLite file in a working folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, UNBALANCED

CLI = Path(sys.executable).with_name("iep-followup")


class RunCli:
    """Runs the installed `iep-followup` in a scratch working folder with a clean environment."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IEP_FOLLOWUP_")}
        self.env["IEP_FOLLOWUP_TIMEZONE"] = "America/Chicago"

    def __call__(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(CLI), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            input=stdin,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done


@pytest.fixture
def run(tmp_path: Path) -> RunCli:
    return RunCli(tmp_path)


def test_commands_refuse_an_uninitialised_database(run: RunCli) -> None:
    done = run("status", check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: the database is not set up: run `iep-followup init`"


def test_init_is_idempotent(run: RunCli) -> None:
    assert "applied 0001" in run("init").stdout
    assert "already up to date" in run("init").stdout


def test_import_then_balance_and_reimport_changes_nothing(run: RunCli) -> None:
    run("init")
    first = run("import", str(EXAMPLE)).stdout
    assert "added item reading-one-on-one" in first
    assert "Everyone has a part, and no one carries too much." in first
    assert "!" not in first
    second = run("import", str(EXAMPLE)).stdout
    assert "nothing changed" in second
    report = json.loads(run("balance", "--json").stdout)
    assert report[0]["open_items"] == 8
    items = json.loads(run("status", "--json").stdout)
    assert len(items) == 12  # and each implementer's check-in on each of 2 accommodations
    assert "added accommodation read-aloud for tom.okafor@lincoln.example.org" in first


def test_balance_warns_about_an_unbalanced_meeting(run: RunCli) -> None:
    run("init")
    first = run("import", str(UNBALANCED)).stdout
    assert "Dana Whitfield (case manager) has no action item" in first
    balance = run("balance", "--student", "S-2026-0533").stdout
    for name in ("Dana Whitfield", "Paul Brennan"):
        assert f"! {name} (" in balance
    assert "! the classroom teacher, Grace Lind, holds 3 of 4 open items (75%" in balance
    assert "! Karen Liu" not in balance


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("role: note_taker", "role: secretary", "team[7].role: unknown role 'secretary'"),
        ("owner: karen.liu@", "owner: karen.lu@", "concerns[3].actions[1].owner: owner karen.lu@"),
        ("due: 2027-03-05", "due: 2027-02-30", "concerns[2].actions[1].due:"),
        ("  grade: 3\n", "  grade: [3\n", "not valid YAML"),
    ],
)
def test_a_broken_file_exits_non_zero_and_changes_nothing(
    run: RunCli, tmp_path: Path, old: str, new: str, where: str
) -> None:
    run("init")
    run("import", str(EXAMPLE))
    before = run("status", "--json").stdout
    broken = tmp_path / "broken.yaml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("Lucía Herrera", "Changed Name")
    assert old in text
    broken.write_text(text.replace(old, new), encoding="utf-8")
    done = run("import", str(broken), check=False)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {broken}:")
    assert where in line
    assert "Traceback" not in done.stderr
    assert run("status", "--json").stdout == before


def test_update_and_status_for_one_student_and_owner(run: RunCli) -> None:
    run("init")
    run("import", str(EXAMPLE))
    # Alan's reading test is a task: 100% closes it (the example's routines never close so).
    items = json.loads(run("status", "--owner", "Alan.Brooks@lincoln.example.org", "--json").stdout)
    [reading_test] = items
    out = run(
        "update", str(reading_test["id"]), "--percent", "100", "--note", "Tested; results sent"
    ).stdout
    assert "is now done, 100% done" in out
    student = run("status", "--student", "S-2026-0417").stdout
    assert student.startswith("Lucía Herrera (S-2026-0417), grade 3, Lincoln Elementary")
    assert "+ Lucía is polite" in student
    bad = run("update", str(reading_test["id"]), "--status", "finished", check=False)
    assert bad.returncode == 1 and "unknown status 'finished'" in bad.stderr
    usage = run("update", str(reading_test["id"]), "--percent", "150", check=False)
    assert usage.returncode == 2


def test_update_on_a_routine_records_the_period_and_minutes(run: RunCli) -> None:
    run("init")
    run("import", str(EXAMPLE))
    owner = "karen.liu@lincoln.example.org"
    # Karen's routine (her other two items are her accommodations' check-ins).
    [reading] = [
        i
        for i in json.loads(run("status", "--owner", owner, "--json").stdout)
        if i["key"] == "reading-one-on-one"
    ]
    out = run("update", str(reading["id"]), "--period", "yes", "--minutes", "45").stdout
    assert "a routine until 2027-06-04: it happened, 45 minutes this period" in out
    # "done" (100%) is this period's yes for a routine: never "0% done" or closed.
    out = run("update", str(reading["id"]), "--percent", "100").stdout
    assert "it happened this period." in out and "% done" not in out and "not started" not in out
    [after] = [
        i
        for i in json.loads(run("status", "--owner", owner, "--json").stdout)
        if i["key"] == "reading-one-on-one"
    ]
    assert after["status"] != "done"
    # The table calls it a routine, with no percent, never "not started".
    [row] = [r for r in run("status", "--owner", owner).stdout.splitlines() if "one-on-one" in r]
    assert row.split()[-2:] == ["routine", "-"]
    [task] = json.loads(
        run("status", "--owner", "alan.brooks@lincoln.example.org", "--json").stdout
    )
    refused = run("update", str(task["id"]), "--period", "partly", check=False)
    assert refused.returncode == 1 and "this item is a task" in refused.stderr


def test_verbose_shows_the_traceback(run: RunCli) -> None:
    done = run("-v", "status", check=False)
    assert done.returncode == 1
    assert "Traceback" in done.stderr


def test_a_bad_setting_names_the_variable(run: RunCli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("IEP_FOLLOWUP_MAX_SHARE=2\n", encoding="utf-8")
    done = run("status", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: IEP_FOLLOWUP_MAX_SHARE:")
    (tmp_path / ".env").write_text("IEP_FOLLOWUP_TIMEZONE=Mars/Olympus\n", encoding="utf-8")
    run.env.pop("IEP_FOLLOWUP_TIMEZONE")  # the environment wins over .env
    done = run("status", check=False)
    assert done.returncode == 1
    assert "IEP_FOLLOWUP_TIMEZONE" in done.stderr and "Mars/Olympus" in done.stderr


def test_request_updates_then_deliver_sends_one_email_per_owner_once(
    run: RunCli, tmp_path: Path
) -> None:
    from tests.smtp_server import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        run.env["IEP_FOLLOWUP_SMTP_URL"] = server.url
        run.env["IEP_FOLLOWUP_SECRET_KEY"] = "a-long-enough-secret-for-the-test"
        (tmp_path / "holidays.txt").write_text("2026-12-01 Staff day\n", encoding="utf-8")
        run.env["IEP_FOLLOWUP_SCHOOL_CALENDAR"] = str(tmp_path / "holidays.txt")
        run("init")
        assert (
            "Queued 8 meeting summary"
            in run("import", "--now", "2026-11-16T15:00", str(EXAMPLE)).stdout
        )
        assert run("deliver", "--now", "2026-11-16T15:01").stdout.startswith("Sent 8 to SMTP")
        server.received.clear()

        assert "Queued 0 request(s)" in run("request-updates", "--now", "2026-11-30T23:00").stdout
        assert (
            "Queued 0 request(s)" in run("request-updates", "--now", "2026-12-01T09:00").stdout
        )  # the staff day
        dry = run("request-updates", "--now", "2026-11-30T08:30", "--dry-run").stdout
        assert dry.count(" ask ") == 4
        assert "Queued 4 request(s)" in run("request-updates", "--now", "2026-11-30T08:30").stdout
        assert run("deliver", "--now", "2026-11-30T08:31").stdout.startswith("Sent 4 to SMTP")
        assert "Queued 0 request(s)" in run("request-updates", "--now", "2026-11-30T08:40").stdout
        assert run("deliver", "--now", "2026-11-30T08:41").stdout.startswith("Sent 0 to SMTP")
    finally:
        server.stop()
    owners = sorted(r.rcpt_tos[0] for r in server.received)
    assert owners == [
        "karen.liu@lincoln.example.org",
        "megan.torres@lincoln.example.org",
        "rosa.herrera@example.com",
        "tom.okafor@lincoln.example.org",
    ]
    for received in server.received:
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        assert "+r" in message["Reply-To"].addresses[0].addr_spec
    rosa = next(r.message for r in server.received if r.rcpt_tos == ["rosa.herrera@example.com"])
    assert rosa["Subject"] == "¿Cómo va todo con Lucía Herrera?"
    failed = run("outbox", "--failed").stdout
    assert failed.strip() == "No failed messages."


def test_init_writes_a_secret_once_and_commands_without_one_say_what_to_set(
    run: RunCli, tmp_path: Path
) -> None:
    assert "Wrote a new IEP_FOLLOWUP_SECRET_KEY" in run("init").stdout
    secret_line = (tmp_path / ".env").read_text(encoding="utf-8")
    assert secret_line.startswith("IEP_FOLLOWUP_SECRET_KEY=") and len(secret_line.strip()) > 40
    assert "Wrote" not in run("init").stdout
    assert (tmp_path / ".env").read_text(encoding="utf-8") == secret_line
    run("import", str(EXAMPLE))
    (tmp_path / ".env").unlink()
    done = run("request-updates", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: IEP_FOLLOWUP_SECRET_KEY is not set")


def test_check_says_ok_or_what_to_fix(run: RunCli, tmp_path: Path) -> None:
    from tests.smtp_server import SmtpServer, free_port

    server = SmtpServer()
    server.start()
    try:
        run("init")
        run.env["IEP_FOLLOWUP_SMTP_URL"] = server.url
        good = run("check")
        assert (
            "ok    database:" in good.stdout
            and "ok    outgoing mail (SMTP): 127.0.0.1" in good.stdout
        )
        run.env["IEP_FOLLOWUP_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
        bad = run("check", check=False)
        assert bad.returncode == 1
        assert "FAIL  outgoing mail (SMTP)" in bad.stdout and "IEP_FOLLOWUP_SMTP_URL" in bad.stdout
        (tmp_path / ".env").unlink()
        assert (
            "FAIL  secret key: IEP_FOLLOWUP_SECRET_KEY is not set"
            in run("check", check=False).stdout
        )
    finally:
        server.stop()


def test_a_bounced_address_is_shown_and_cleared_by_hand(run: RunCli, tmp_path: Path) -> None:
    from tests.mailclient import delivery_report
    from tests.smtp_server import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        run.env["IEP_FOLLOWUP_SMTP_URL"] = server.url
        run.env["IEP_FOLLOWUP_SECRET_KEY"] = "a-long-enough-secret-for-the-test"
        run("init")
        run("import", "--now", "2026-11-16T15:00", str(EXAMPLE))
        run("deliver", "--now", "2026-11-16T15:01")
    finally:
        server.stop()
    tom = "tom.okafor@lincoln.example.org"
    bounce_address = next(r.mail_from for r in server.received if r.rcpt_tos == [tom])
    (tmp_path / "bounce.eml").write_bytes(delivery_report(bounce_address, tom))
    assert "address marked failing" in run("ingest", "bounce.eml").stdout
    status = run("status").stdout
    assert f"{tom}>" in status and "iep-followup person clear-failing EMAIL" in status
    dry = run("request-updates", "--now", "2026-11-30T08:30", "--dry-run").stdout
    assert "email address is failing" in dry

    cleared = run("person", "clear-failing", tom, "--by", "dana.whitfield@lincoln.example.org")
    assert "no longer marked failing" in cleared.stdout
    assert "was not marked failing" in run("person", "clear-failing", tom).stdout
    history = run("person", "history", tom).stdout.splitlines()
    assert [line.split("  ", 1)[1].split(" (")[0] for line in history] == ["failing", "cleared"]
    assert "by dana.whitfield@lincoln.example.org" in history[1]
    dry = run("request-updates", "--now", "2026-11-30T08:30", "--dry-run").stdout
    assert "email address is failing" not in dry
    assert run("person", "history", "nobody@example.org", check=False).returncode == 1


def test_a_bad_file_or_folder_is_one_clear_line_for_every_command(
    run: RunCli, tmp_path: Path
) -> None:
    run("init")
    text = EXAMPLE.read_text(encoding="utf-8")
    (tmp_path / "deep.yaml").write_text("[" * 50_000, encoding="utf-8")
    (tmp_path / "big.yaml").write_text(text + "#" * 2_000_000, encoding="utf-8")
    (tmp_path / "zone.yaml").write_text(
        text.replace("    language: es ", f"    timezone: {'x' * 100_000}\n    language: es "),
        encoding="utf-8",
    )
    zone_line = text[: text.index("    language: es ")].count("\n") + 1
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / "a-folder").mkdir()
    cases = [
        (["import", "deep.yaml"], "deep.yaml:1: nested more than 20 levels deep"),
        (["import", "big.yaml"], "big.yaml: the file is larger than 1 MB, the limit"),
        (
            ["import", "zone.yaml"],
            f"zone.yaml:{zone_line}: team[8].timezone: unknown time zone 'xxx",
        ),
        (["import", "missing.yaml"], "missing.yaml: no such file or folder"),
        (["import", "a-folder"], "a-folder: is a folder, not a file"),
        (["ingest", "missing.eml"], "missing.eml: no such file or folder"),
        (["ingest", "a-folder"], "a-folder: is a folder, not a file"),
        (["digest", "--preview", "a-file"], "a-file: is a file, not a folder"),
        (["digest", "--preview", "a-file/x"], "a-file/x: a part of the path is a file, not"),
    ]
    for args, expected in cases:
        done = run(*args, check=False)
        assert done.returncode == 1, args
        [line] = done.stderr.splitlines()
        assert line.startswith(f"error: {expected}"), (args, line)
        assert len(line) < 200


def test_an_over_limit_grade_is_the_same_one_line_error_on_both_databases(
    run: RunCli, tmp_path: Path, database_url: str
) -> None:
    # PostgreSQL printed a DataError with the INSERT and the student's name; SQLite stored it.
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    meeting = tmp_path / "grade.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    meeting.write_text(
        text.replace("grade: 3", "grade: 7th grade, self-contained autism program"),
        encoding="utf-8",
    )
    grade_line = text[: text.index("grade: 3")].count("\n") + 1
    done = run("import", str(meeting), check=False)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {meeting}:{grade_line}: student.grade: grade is longer than 32 characters (it has 40); shorten it"
    ]
    assert json.loads(run("status", "--json").stdout) == []


def test_a_piped_message_over_the_limit_is_counted_not_read(run: RunCli, tmp_path: Path) -> None:
    run.env["IEP_FOLLOWUP_SECRET_KEY"] = "a-long-enough-secret-for-the-test"
    run.env["IEP_FOLLOWUP_MAX_REPLY_BYTES"] = "100000"
    run("init")
    photo = "A" * 76 + "\n"
    message = (
        "From: someone@example.org\nTo: iep-replies@localhost\nSubject: photo\n"
        "Message-ID: <big@example.org>\n\n75%\n" + photo * 20_000
    )
    done = run("ingest", stdin=message)
    assert done.stdout.startswith("rejected: ") and "limit" in done.stdout
    (tmp_path / "big.eml").write_text(message, encoding="utf-8")
    assert (
        "duplicate" in run("ingest", "big.eml").stdout or "limit" in run("ingest", "big.eml").stdout
    )


def test_import_warns_of_missing_translations_and_can_hold_the_summaries(
    run: RunCli, tmp_path: Path
) -> None:
    run("init")
    draft = tmp_path / "draft.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    draft.write_text(text.replace("      es: Lucía no entrega la tarea.\n", ""), encoding="utf-8")
    done = run("import", str(draft), "--hold-summaries")
    assert done.stderr.startswith(
        'warning: Rosa Herrera reads Spanish: 1 text has no Spanish version: "Lucía does not'
    )
    assert "Summaries held" in done.stdout and "Queued" not in done.stdout
    run("import", str(EXAMPLE))  # the version added
    released = run("release-summaries", "S-2026-0417")
    assert released.stderr == ""
    assert "Queued 8 meeting summary email(s)" in released.stdout
    assert "No summaries were held" in run("release-summaries", "S-2026-0417").stdout


@pytest.mark.parametrize("group", [[], ["inbox"], ["person"], ["student"], ["web"]])
def test_help_lists_every_command_with_a_description_that_is_not_cut(
    run: RunCli, group: list[str]
) -> None:
    run.env["COLUMNS"] = "80"
    out = run(*group, "--help").stdout
    listed = out.split("\nCommands:\n", 1)[1].splitlines()
    assert listed
    for line in listed:
        name, _, description = line.strip().partition(" ")
        assert description.strip(), name
        assert not description.rstrip().endswith(("...", "…")), line


def test_import_keeps_a_person_on_another_caseloads_team_and_says_so(
    run: RunCli, tmp_path: Path
) -> None:
    run("init")
    run("import", str(EXAMPLE))  # Lucía, on Dana's caseload, with Rosa Herrera
    other = tmp_path / "other.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    other.write_text(
        text.replace("S-2026-0417", "S-2026-0999")
        .replace("dana.whitfield@lincoln.example.org", "keisha.case@lincoln.example.org")
        .replace("name: Rosa Herrera", "name: Rosa Someone"),
        encoding="utf-8",
    )
    done = run("import", str(other))
    assert (
        "warning: kept rosa.herrera@example.com's name as they are: they are on another "
        "caseload's team too (an administrator may change them)"
    ) in done.stderr
    members = json.loads(run("status", "--json").stdout)
    assert "Rosa Herrera" in json.dumps(members) and "Rosa Someone" not in json.dumps(members)


def test_record_prints_the_plan_carried_out_as_json(run: RunCli) -> None:
    run("init")
    run("import", "--now", "2026-11-16T15:00", str(EXAMPLE))
    out = run(
        "record",
        "S-2026-0417",
        "--since",
        "2026-11-30",
        "--until",
        "2026-12-06",
        "--json",
        "--now",
        "2026-12-08T15:00",
    ).stdout
    found = json.loads(out)
    assert set(found) == {"student", "since", "until", "accommodations", "services"}
    assert len(found["accommodations"]) == 4  # two accommodations, two implementers each
    assert found["accommodations"][0]["weeks"] == {
        "used": 0,
        "not_used": 0,
        "not_applicable": 0,
        "no_answer": 1,
    }
    promised = {s["item"]: s["promised_minutes"] for s in found["services"]}
    assert promised == {"reading-one-on-one": 45, "pencil-grip": 30, "letter-sounds": 20}
    text = run("record", "S-2026-0417", "--now", "2026-12-08T15:00").stdout
    assert "Accommodations (weeks used / not used / didn't come up / no answer):" in text
    missing = run("record", "S-0000", check=False)
    assert missing.returncode == 1 and "no student with id" in missing.stderr
