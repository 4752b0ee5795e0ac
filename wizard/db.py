"""Engine and session per application, with SQLite made safe for concurrent writers."""
from flask import current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


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
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app) -> None:
    """Bind an engine and session factory to the app and close sessions after each request."""
    engine = make_engine(app.config["DATABASE_URL"], app.config["SQL_ECHO"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of this app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(exc) -> None:
    sess = g.pop("db_session", None)
    if sess is not None:
        if exc is not None:
            sess.rollback()
        sess.close()


INTEGER_MAX = 2**31 - 1


def as_int(value) -> int | None:
    """Text from a request as an int that fits an INTEGER column, else None.

    str.isdigit() alone accepts '²' and numbers PostgreSQL cannot compare with an INTEGER.
    """
    text = str(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= INTEGER_MAX else None
