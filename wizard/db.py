"""Engine and session per application, with SQLite made safe for concurrent writers.

A request that only reads (GET, HEAD, OPTIONS) gets a read-only session that runs its
statements without a transaction: no BEGIN, no write lock, on SQLite or PostgreSQL, and any
attempt to write through it raises. Every other request gets a writing session. On SQLite
its transaction starts with BEGIN IMMEDIATE, which takes the database's one write lock, at
the first write (or where `lock_for_write` asks for it): what a POST reads before it writes
(the login, the form's choices) holds no lock, so two workers do not queue behind each other.
Every write is a conditional UPDATE or guarded by a unique constraint, so reading first
cannot lose an update; code that decides on a read (a count against a limit) takes the lock
first with `lock_for_write`.
"""

from flask import current_app, g, has_request_context, request
from sqlalchemy import CursorResult, Executable, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker

READ_ONLY = "wizard_read_only"  # execution option of the read-only engine
LOCK_AT_FIRST_WRITE = "wizard_lock_at_first_write"  # execution option of the request sessions' writing engine
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyViolation(RuntimeError):
    """Something tried to write during a request that must only read."""


class Base(DeclarativeBase):
    """Declarative base of every model."""


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets pragmas on connect and BEGIN IMMEDIATE transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 15})
        _harden_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _harden_sqlite(engine: Engine) -> None:
    """SQLAlchemy's recipe: take the write lock at BEGIN, so read-then-write cannot lose updates.

    Python's sqlite3 driver would otherwise start a transaction only at the first
    write, letting two requests read the same row and both write it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 15000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if not (options.get(READ_ONLY) or options.get(LOCK_AT_FIRST_WRITE)):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_for_write(sess: Session) -> None:
    """Take SQLite's write lock now (BEGIN IMMEDIATE) unless this session's transaction holds it.
    PostgreSQL needs nothing here: its transaction began at the first statement."""
    conn = sess.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_at_first_write(factory: sessionmaker) -> None:
    """A writing session takes the write lock just before its first INSERT, UPDATE, DELETE or flush."""

    @event.listens_for(factory, "do_orm_execute")
    def _before_dml(state: ORMExecuteState):
        if state.is_insert or state.is_update or state.is_delete:
            lock_for_write(state.session)

    @event.listens_for(factory, "before_flush")
    def _before_flush(sess, _context, _instances):
        if sess.new or sess.dirty or sess.deleted:
            lock_for_write(sess)


def read_only(engine: Engine) -> Engine:
    """The same engine and pool, running each statement on its own: no BEGIN is ever sent.

    SQLite connections are already in the driver's autocommit mode (we issue BEGIN ourselves,
    and skip it here); PostgreSQL connections are switched to autocommit while checked out.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})


def _refuse_writes(factory: sessionmaker) -> None:
    """A read-only session raises on any INSERT, UPDATE, DELETE or flush of changed objects."""

    @event.listens_for(factory, "do_orm_execute")
    def _no_dml(state: ORMExecuteState):
        if state.is_insert or state.is_update or state.is_delete:
            raise ReadOnlyViolation(f"a {request.method} request must not write: {state.statement}")

    @event.listens_for(factory, "before_flush")
    def _no_flush(sess, _context, _instances):
        if sess.new or sess.dirty or sess.deleted:
            raise ReadOnlyViolation(
                f"a {request.method} request must not write: {list(sess.new | sess.dirty | sess.deleted)}"
            )


def init_app(app, url: str) -> None:
    """Bind an engine on `url` and session factories to the app and close sessions after each request."""
    engine = make_engine(url, app.config["SQL_ECHO"])
    app.extensions["db_engine"] = engine
    writer = sessionmaker(engine.execution_options(**{LOCK_AT_FIRST_WRITE: True}), expire_on_commit=False)
    _lock_at_first_write(writer)
    app.extensions["db_sessionmaker"] = writer
    reader = sessionmaker(read_only(engine), expire_on_commit=False, autoflush=False)
    _refuse_writes(reader)
    app.extensions["db_reader"] = reader
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of this app context, opened on first use: read-only for a GET."""
    if "wizard_db_session" not in g:
        reading = has_request_context() and request.method in SAFE_METHODS
        g.wizard_db_session = current_app.extensions["db_reader" if reading else "db_sessionmaker"]()
    return g.wizard_db_session


def _close_session(exc) -> None:
    sess = g.pop("wizard_db_session", None)
    if sess is not None:
        if exc is not None:
            sess.rollback()
        sess.close()


def changed(sess: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed (the conditional-UPDATE check)."""
    result = sess.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


INTEGER_MAX = 2**31 - 1


def as_int(value) -> int | None:
    """Text from a request as an int that fits an INTEGER column, else None.

    str.isdigit() alone accepts '²' and numbers PostgreSQL cannot compare with an INTEGER; the
    length is checked first, as int() refuses more than 4,300 digits (and takes time on fewer).
    """
    text = str(value or "")
    if not (len(text) <= len(str(INTEGER_MAX)) and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= INTEGER_MAX else None
