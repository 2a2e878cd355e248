"""Engines, transactions and migrations: the one place that knows how we talk to a database."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Insert,
    Result,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlmodel import Session

from iep_followup.errors import DatabaseError, StoreRefusedError

__all__ = [
    "OUTBOX_CHANNEL",
    "Database",
    "Session",
    "create_db_engine",
    "insert_rows",
    "insert_skipping_duplicates",
    "note_outbox_queued",
]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL's NOTIFY channel for "the outbox has new mail" (see Database.transaction).
OUTBOX_CHANNEL = "iep_followup_outbox"
_OUTBOX_QUEUED = "iep_followup.outbox_queued"


def create_db_engine(url: str) -> Engine:
    """An engine with the pragmas SQLite needs to be a safe shared store."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"IEP_FOLLOWUP_DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, str] = {}
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            # Plain postgresql:// means psycopg 3 here, not the psycopg2 SQLAlchemy defaults to.
            parsed = parsed.set(drivername="postgresql+psycopg")
        # JIT compiling costs 100-250 ms and pays back only on long analytic queries; ours are
        # short, and a stale row estimate once made a 3 ms planning read take 180 ms. Given
        # beside the URL, not in it, so that the URL shown to the administrator is theirs.
        given = parsed.query.get("options", ())
        given = (given,) if isinstance(given, str) else given
        connect_args["options"] = " ".join((*given, "-c jit=off"))
    try:
        return create_engine(
            parsed, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args
        )
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the driver for {parsed.get_backend_name()} is not installed ({exc.name}); "
            "for PostgreSQL install iep-followup[postgres]"
        ) from None


def insert_skipping_duplicates(session: Session, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: rows a unique constraint already holds are skipped.

    One statement for many rows where a savepoint per row would otherwise catch the duplicate
    (another daemon, or an earlier run, got there first).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise DatabaseError(f"unsupported database {dialect}: use SQLite or PostgreSQL")


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_duplicates: bool = False,
    returning: Sequence[ColumnElement[Any]] = (),
) -> Result[Any]:
    """Insert rows (at least one, each with the same keys) in one statement.

    On PostgreSQL several rows go as one array per column, `INSERT ... SELECT unnest(...)`:
    the statement is the same short text for any number of rows. A VALUES list has a
    parameter per cell, which SQLAlchemy compiles and psycopg parses anew for every batch
    (with it, queueing requests took a third longer at 2,000 students). `skip_duplicates`:
    rows a unique constraint already holds are left out, as by insert_skipping_duplicates.
    """
    dialect = session.get_bind().dialect.name
    names = tuple(rows[0])
    as_arrays = dialect == "postgresql" and len(rows) > 1
    statement = _insert_statement(
        dialect, table, names if as_arrays else (), skip_duplicates, tuple(returning)
    )
    if as_arrays:
        return session.execute(statement, {f"all_{n}": [row[n] for row in rows] for n in names})
    return session.execute(statement, dict(rows[0]) if len(rows) == 1 else list(rows))


@lru_cache(maxsize=64)
def _insert_statement(
    dialect: str,
    table: Table,
    array_names: tuple[str, ...],
    skip_duplicates: bool,
    returning: tuple[ColumnElement[Any], ...],
) -> Executable:
    """Built once per shape: building and keying it cost as much as running a one-row insert."""
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    if array_names:
        arrays = select(
            *(func.unnest(bindparam(f"all_{n}", type_=ARRAY(table.c[n].type))) for n in array_names)
        )
        statement = statement.from_select(array_names, arrays)
    if skip_duplicates:
        statement = statement.on_conflict_do_nothing()
    return statement.returning(*returning) if returning else statement


def note_outbox_queued(session: Session) -> None:
    """Say that this transaction queued mail: its commit wakes delivery (Database.transaction)."""
    session.info[_OUTBOX_QUEUED] = True


def _driver(connection: Connection) -> Any:
    """The sqlite3 connection under `connection`, for pragmas that must run outside a transaction."""
    return connection.connection.driver_connection


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the busy
        # timeout instead of one failing when it upgrades a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine; hands out transactions; knows whether the schema is current."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_db_engine(url)
        self._outbox_listeners: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session
                    queued = session.info.pop(_OUTBOX_QUEUED, False)
                    if queued and self.dialect == "postgresql":
                        # Inside the transaction: PostgreSQL delivers it on commit, and only then.
                        session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
                if queued:
                    self._outbox_committed()
        except OperationalError as exc:
            raise DatabaseError(_describe(exc, self.url)) from exc
        except (DataError, IntegrityError) as exc:
            raise StoreRefusedError(_refusal(exc)) from exc
        except SADatabaseError as exc:
            # A database that refuses every write (read-only, out of disk, no permission):
            # like one out of reach, a caller keeps what it has and tries again later.
            raise DatabaseError(_describe(exc, self.url)) from exc

    def on_outbox_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each commit that queued mail, in the committing thread.

        Returns what stops it. Other processes hear of such commits through LISTEN on
        OUTBOX_CHANNEL (PostgreSQL only).
        """
        self._outbox_listeners.append(listener)
        return lambda: self._outbox_listeners.remove(listener)

    def _outbox_committed(self) -> None:
        for listener in self._outbox_listeners:
            try:
                listener()
            except Exception as exc:
                # The mail is committed; the next delivery tick sends it anyway.
                log.warning("outbox listener failed: %s", type(exc).__name__)

    @contextmanager
    def writer(self, *, wait_for_flush: bool = True) -> Iterator[Writer]:
        """One connection for a run of small Core transactions; closed when the block ends.

        `wait_for_flush=False` (PostgreSQL): each statement commits on its own, without waiting
        for the WAL flush (see Writer). Only for writes that may be lost in a server crash.
        """
        writer = Writer(self, wait_for_flush=wait_for_flush)
        try:
            yield writer
        finally:
            writer.close()

    def migrate(self) -> list[str]:
        """Create or upgrade the schema to the newest revision; returns revisions applied."""
        before = self.current_revision()
        try:
            with self.engine.connect() as connection:
                sqlite = self.engine.dialect.name == "sqlite"
                if sqlite:
                    # A migration that rebuilds a table on SQLite drops the old one; with
                    # foreign keys on, that deletes (cascades) every row that refers to it.
                    # The pragma only takes effect outside a transaction, hence the driver.
                    _driver(connection).execute("PRAGMA foreign_keys=OFF")
                try:
                    with connection.begin():
                        config = _alembic_config(self.url)
                        config.attributes["connection"] = connection
                        command.upgrade(config, "head")
                        if (
                            sqlite
                            and connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                        ):
                            raise DatabaseError("a migration left rows that refer to nothing")
                finally:
                    if sqlite:
                        _driver(connection).execute("PRAGMA foreign_keys=ON")
        except SQLAlchemyError as exc:
            raise DatabaseError(_describe(exc, self.url)) from exc
        script = ScriptDirectory.from_config(_alembic_config(self.url))
        applied = [rev.revision for rev in script.iterate_revisions("head", before)]
        return list(reversed(applied))

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise DatabaseError(_describe(exc, self.url)) from exc

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(_alembic_config(self.url)).get_current_head()

    def require_current(self) -> None:
        """Refuse to work on a database that is missing tables or is from another version."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = (
                "not set up"
                if current is None
                else f"at revision {current}, this version needs {head}"
            )
            raise DatabaseError(f"the database is {state}: run `iep-followup init`")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Run a block in one process at a time across daemons; yields False when another holds it.

        PostgreSQL: a transaction-scoped advisory lock, released by commit, rollback or a
        dropped connection. SQLite: only one daemon runs at all (see the daemon's lock file).
        """
        if self.dialect != "postgresql":
            yield True
            return
        key = int.from_bytes(
            hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
        )
        try:
            with self.engine.connect() as connection, connection.begin():
                got = connection.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}
                ).scalar()
                yield bool(got)
        except OperationalError as exc:
            raise DatabaseError(_describe(exc, self.url)) from exc

    def sqlite_path(self) -> Path | None:
        """The database file, for a SQLite URL (None in memory or on another backend)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database).resolve()

    def dispose(self) -> None:
        self.engine.dispose()


class Writer:
    """One connection kept for a run of one-statement transactions (marking messages sent, one
    by one): a Session, or a connection checked out of the pool, for each would cost more than
    the write. Not for sharing between threads; no transaction stays open between uses.

    Without `wait_for_flush` on PostgreSQL the connection autocommits with synchronous_commit
    off: one round trip per write and no disk flush to wait for. A committed write survives
    the client being killed; a crash of the database server itself can lose the writes of
    its last few hundred milliseconds (3 x wal_writer_delay). SQLite's WAL with
    synchronous=NORMAL makes the same trade.
    """

    def __init__(self, database: Database, *, wait_for_flush: bool = True) -> None:
        self._database = database
        self._relaxed = not wait_for_flush and database.dialect == "postgresql"
        self._connection: Connection | None = None

    def _connect(self) -> Connection:
        connection = self._database.engine.connect()
        if self._relaxed:
            try:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("SET synchronous_commit TO off")
                connection.commit()  # ends SQLAlchemy's autobegun block; nothing to commit
            except SQLAlchemyError:
                connection.invalidate()
                connection.close()
                raise
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            if self._connection is None or self._connection.invalidated:
                self.close()
                self._connection = self._connect()
            with self._connection.begin():
                yield self._connection
        except OperationalError as exc:
            self.close()  # a connection that failed is not used again
            raise DatabaseError(_describe(exc, self._database.url)) from exc
        except (DataError, IntegrityError) as exc:
            raise StoreRefusedError(_refusal(exc)) from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._relaxed and not connection.invalidated:
            # The pool resets the isolation level but not this setting: put it back first.
            try:
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
            except SQLAlchemyError:
                connection.invalidate()  # never hand a relaxed connection to anyone else
        connection.close()


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # '%' would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _describe(exc: SQLAlchemyError, url: str) -> str:
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    target = make_url(url).render_as_string(hide_password=True)
    if isinstance(exc, OperationalError | SADatabaseError):
        return f"database {target}: {reason}"
    return f"database error: {reason}"


def _refusal(exc: DataError | IntegrityError) -> str:
    # Never the driver's text: it can hold the SQL and the values (a student's name).
    if isinstance(exc, IntegrityError):
        return (
            "the database refused the change: it conflicts with what was stored meanwhile "
            "(a duplicate, or a record removed); nothing was saved, try again"
        )
    return (
        "the database refused a value that passed the library's checks; nothing was saved. "
        "This is a bug: please report it (run with -v for details)"
    )
