"""Back up the whole database to a file, and restore such a file onto an empty database."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from iep_followup.errors import DatabaseError, ValidationError
from iep_followup.store.backup import is_empty, libpq_target, sqlite_backup, sqlite_restore
from iep_followup.store.db import Database

TOOL_SECONDS = 3600


@dataclass(frozen=True)
class CopyOutcome:
    """Done (and what), or the exact command to run where PostgreSQL's tool is installed."""

    done: bool
    detail: str
    command: str | None = None


def backup(database: Database, dest: Path) -> CopyOutcome:
    if dest.exists():
        raise ValidationError(f"{dest} already exists: give a new file name")
    if database.dialect == "sqlite":
        source = _sqlite_file(database)
        revision = sqlite_backup(source, dest)
        return CopyOutcome(True, f"Backed up {source} to {dest} (schema revision {revision}).")
    target = libpq_target(database)
    args = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--file={dest}",
        f"--dbname={target.url}",
    ]
    outcome = _run_tool(args, target.password, "pg_dump")
    if outcome is not None:
        return outcome
    return CopyOutcome(True, f"Backed up {_shown(database)} to {dest} (pg_dump, custom format).")


def restore(database: Database, source: Path) -> CopyOutcome:
    if not source.is_file():
        raise ValidationError(f"{source} is not a file")
    head = database.head_revision()
    if database.dialect == "sqlite":
        revision = sqlite_restore(source, _sqlite_file(database))
        return CopyOutcome(True, _restored(source, _shown(database), revision, head))
    if not is_empty(database):
        raise ValidationError(
            f"the database {_shown(database)} is not empty: restore onto a new database "
            "(createdb, then point IEP_FOLLOWUP_DATABASE_URL at it)"
        )
    target = libpq_target(database)
    args = [
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={target.url}",
        str(source),
    ]
    outcome = _run_tool(args, target.password, "pg_restore")
    if outcome is not None:
        return outcome
    return CopyOutcome(True, _restored(source, _shown(database), database.current_revision(), head))


def _restored(source: Path, target: str, revision: str | None, head: str | None) -> str:
    text = f"Restored {source} onto {target} (schema revision {revision})."
    if revision != head:
        text += f" This version needs {head}: run `iep-followup init` to upgrade it."
    return text


def _run_tool(args: list[str], password: str | None, tool: str) -> CopyOutcome | None:
    """Run pg_dump or pg_restore; None when it worked, the command to run when it is missing."""
    executable = shutil.which(tool)
    command = shlex.join(args)
    if executable is None:
        where = "PGPASSWORD=... " if password else ""
        return CopyOutcome(
            False,
            f"{tool} is not installed here (Debian: postgresql-client); run this where it is"
            + (", with the database password in PGPASSWORD:" if password else ":"),
            where + command,
        )
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    try:
        done = subprocess.run(  # noqa: S603  (our own arguments, no shell)
            [executable, *args[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=TOOL_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatabaseError(f"{tool} could not run: {type(exc).__name__}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise DatabaseError(f"{tool} failed ({done.returncode}): {reason}")
    return None


def _sqlite_file(database: Database) -> Path:
    path = database.sqlite_path()
    if path is None:
        raise ValidationError("an in-memory SQLite database has nothing to copy")
    return path


def _shown(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=True)
