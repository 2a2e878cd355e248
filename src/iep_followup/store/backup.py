"""Copies of the whole database: SQLite's online backup, and the commands of PostgreSQL's tools."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from iep_followup.errors import DatabaseError, ValidationError
from iep_followup.store.db import Database

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class LibpqTarget:
    """A PostgreSQL database as pg_dump and pg_restore take it: the URL without its password
    (which goes in PGPASSWORD, out of the process list and of what is printed)."""

    url: str
    password: str | None


def libpq_target(database: Database) -> LibpqTarget:
    url: URL = make_url(database.url)
    password = url.password if isinstance(url.password, str) else None
    plain = url.set(drivername="postgresql", password=None)
    return LibpqTarget(plain.render_as_string(hide_password=False), password)


def sqlite_backup(source: Path, dest: Path) -> str | None:
    """Copy a live SQLite database to `dest` with the online backup API: one consistent
    snapshot, while a daemon goes on writing (WAL readers do not block it). Returns the
    copy's schema revision."""
    if dest.exists():
        raise ValidationError(f"{dest} already exists: give a new file name")
    if not source.exists():
        raise DatabaseError(f"the database file {source} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    try:
        with (
            contextlib.closing(_connect(source)) as src,
            contextlib.closing(_connect(partial)) as out,
        ):
            src.backup(out)  # all pages in one step: one read transaction, one snapshot
            revision = _revision(out)
        partial.replace(dest)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"the backup to {dest} failed: {exc}") from None
    return revision


def sqlite_restore(source: Path, target: Path) -> str | None:
    """Copy a backup file onto an empty SQLite database; returns its schema revision."""
    try:
        with contextlib.closing(_connect(source)) as src:
            revision = _revision(src)
            if revision is None:
                raise ValidationError(f"{source} is not an iep-followup backup (no schema version)")
            with contextlib.closing(_connect(target)) as out:
                if _tables(out):
                    raise ValidationError(
                        f"the database {target} is not empty: restore onto a new file"
                    )
                src.backup(out)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot restore {source}: {exc}") from None
    return revision


def is_empty(database: Database) -> bool:
    """No table at all (no schema either): what a restore may write onto."""
    try:
        return not inspect(database.engine).get_table_names()
    except SQLAlchemyError as exc:
        shown = database.engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"database {shown}: {type(exc).__name__}") from None


def _connect(path: Path) -> sqlite3.Connection:
    # Read-write even to read: a read-only connection cannot open a WAL database whose
    # shared-memory file is gone (after a clean stop). Callers check that sources exist.
    return sqlite3.connect(path, timeout=30)


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [str(row[0]) for row in rows]


def _revision(connection: sqlite3.Connection) -> str | None:
    if VERSION_TABLE not in _tables(connection):
        return None
    row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
    return str(row[0]) if row else None
