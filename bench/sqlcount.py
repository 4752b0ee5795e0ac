"""Count the SQL a request sends, per request, from SQLAlchemy's engine events.

    from bench.sqlcount import SqlCounter

    counter = SqlCounter(app.extensions["db_engine"])
    with counter.request("GET", "/settings/account/subs") as stats:
        client.get("/settings/account/subs")
    stats.n_statements, stats.n_tx, stats.begins, stats.get_in_transaction
    counter.close()

What is counted (see docs/performance.md):

* ``statements``: every statement that goes through ``before_cursor_execute`` and is not
  transaction control (SELECT, INSERT, UPDATE, DELETE, PRAGMA, ...). An ``executemany``
  counts once.
* ``tx`` (transaction control), counted apart, only what reaches the database:
  BEGIN / START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, END sent as text through
  the cursor (SQLite's ``BEGIN IMMEDIATE``, savepoints), plus what SQLAlchemy does on the DBAPI
  connection without a cursor: ``BEGIN (implicit)`` from the engine's ``begin`` event when the
  driver will send a BEGIN (psycopg without autocommit sends it before the first statement),
  ``COMMIT`` / ``ROLLBACK`` from the ``commit`` / ``rollback`` events when the connection is
  inside a transaction, and ``ROLLBACK (pool reset)`` when the pool rolls back a connection
  returned inside one. A textual BEGIN issued from within the ``begin`` event (SQLite's
  recipe) is one BEGIN, not two.
* ``noop_tx``: those SQLAlchemy events that send nothing: ``BEGIN (implicit)`` on an autocommit
  connection (psycopg ``autocommit``, sqlite3 with ``isolation_level = None``), COMMIT or
  ROLLBACK of a connection that is not inside a transaction. SQLAlchemy's echo log still shows
  them; they cost no round trip.
* ``in_transaction_after``: statements after which the DBAPI connection was inside a
  transaction (psycopg: ``info.transaction_status`` not IDLE; sqlite3: ``in_transaction``).
* ``checkouts``: connections taken from the pool. On PostgreSQL with ``pool_pre_ping`` every
  checkout of a pooled connection also sends one ``SELECT 1`` that no event reports.

A GET "ran in a transaction" when it sent a BEGIN (as text, or an implicit one the driver
sends) or a statement left the connection inside a transaction. Events from threads with no
open ``request()`` land in ``unattributed``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine

IMPLICIT_BEGIN = "BEGIN (implicit)"
TX_KEYWORDS = ("BEGIN", "START TRANSACTION", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


def is_transaction_control(statement: str) -> bool:
    """BEGIN…, START TRANSACTION, COMMIT, END, ROLLBACK…, SAVEPOINT…, RELEASE…"""
    head = statement.lstrip().upper()
    return any(head == kw or head.startswith(kw + " ") or head.startswith(kw + ";") for kw in TX_KEYWORDS)


def _short(statement: str, limit: int = 160) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dbapi_in_transaction(dbapi_connection) -> bool | None:
    """Whether a DBAPI connection is inside a transaction now (None: driver not known)."""
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg 3
        from psycopg.pq import TransactionStatus

        return status != TransactionStatus.IDLE
    in_tx = getattr(dbapi_connection, "in_transaction", None)  # sqlite3
    if isinstance(in_tx, bool):
        return in_tx
    return None


def driver_sends_begin(dbapi_connection) -> bool:
    """Whether the driver will really open a transaction after SQLAlchemy's BEGIN (implicit)."""
    autocommit = getattr(dbapi_connection, "autocommit", None)
    if hasattr(getattr(dbapi_connection, "info", None), "transaction_status"):  # psycopg 3
        return not autocommit
    if hasattr(dbapi_connection, "in_transaction") and hasattr(dbapi_connection, "isolation_level"):  # sqlite3
        if isinstance(autocommit, bool):  # Python 3.12+ PEP 249 transaction control
            return not autocommit
        return dbapi_connection.isolation_level is not None  # legacy: None is the driver's autocommit
    return True


def _dbapi(conn):
    try:
        return conn.connection.dbapi_connection
    except Exception:  # connection closed or invalidated
        return None


@dataclass
class RequestStats:
    """The SQL of one request (or of any block of code run inside ``SqlCounter.request``)."""

    method: str = ""
    label: str = ""
    statements: list[str] = field(default_factory=list)
    tx: list[str] = field(default_factory=list)
    noop_tx: list[str] = field(default_factory=list)
    in_transaction_after: list[str] = field(default_factory=list)
    checkouts: int = 0

    @property
    def n_statements(self) -> int:
        return len(self.statements)

    @property
    def n_tx(self) -> int:
        return len(self.tx)

    @property
    def begins(self) -> list[str]:
        """Every BEGIN that reached the database: sent as text (BEGIN IMMEDIATE, START TRANSACTION)
        or SQLAlchemy's BEGIN (implicit) on a connection whose driver sends one."""
        return [t for t in self.tx if t.upper().startswith(("BEGIN", "START TRANSACTION"))]

    @property
    def sent_begins(self) -> list[str]:
        """BEGIN statements sent as text through a cursor (e.g. SQLite's BEGIN IMMEDIATE)."""
        return [t for t in self.begins if t != IMPLICIT_BEGIN]

    @property
    def implicit_begins(self) -> int:
        """SQLAlchemy's BEGIN (implicit) that the driver sends (psycopg without autocommit)."""
        return self.tx.count(IMPLICIT_BEGIN)

    def transaction_signs(self) -> list[str]:
        """What shows this request ran in a transaction: the BEGINs by kind, and 'in tx' when a
        statement left the connection inside one."""
        signs = sorted(set(self.begins))
        if self.in_transaction_after:
            signs.append("in tx")
        return signs

    @property
    def ran_in_transaction(self) -> bool:
        return bool(self.begins) or bool(self.in_transaction_after)

    @property
    def get_in_transaction(self) -> bool:
        """A GET that sent a BEGIN of any kind or ran a statement inside a transaction."""
        return self.method.upper() == "GET" and self.ran_in_transaction

    def as_dict(self, with_sql: bool = False) -> dict:
        out = {
            "method": self.method,
            "label": self.label,
            "statements": self.n_statements,
            "tx": self.n_tx,
            "begins": len(self.begins),
            "sent_begins": len(self.sent_begins),
            "implicit_begins": self.implicit_begins,
            "noop_tx": len(self.noop_tx),
            "in_transaction_after": len(self.in_transaction_after),
            "checkouts": self.checkouts,
            "get_in_transaction": self.get_in_transaction,
        }
        if with_sql:
            out["sql"] = list(self.statements)
            out["tx_sql"] = list(self.tx)
            out["noop_tx_sql"] = list(self.noop_tx)
        return out


class SqlCounter:
    """Listens on one engine; ``request()`` collects what the current thread sends meanwhile."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()
        self.unattributed = 0
        self._listeners = [
            ("before_cursor_execute", self._before_cursor_execute),
            ("after_cursor_execute", self._after_cursor_execute),
            ("begin", self._begin),
            ("commit", self._commit),
            ("rollback", self._rollback),
            ("checkout", self._checkout),
            ("reset", self._reset),
        ]
        for name, fn in self._listeners:
            event.listen(engine, name, fn)

    def close(self) -> None:
        """Remove the listeners."""
        for name, fn in self._listeners:
            if event.contains(self.engine, name, fn):
                event.remove(self.engine, name, fn)
        self._listeners = []

    @contextmanager
    def request(self, method: str = "", label: str = ""):
        """Collect the SQL this thread sends inside the block into a RequestStats."""
        stats = RequestStats(method=method, label=label)
        previous = getattr(self._local, "stats", None)
        self._local.stats, self._local.last = stats, None
        try:
            yield stats
        finally:
            self._local.stats, self._local.last = previous, None

    # -- event handlers -------------------------------------------------------------------
    def _current(self) -> RequestStats | None:
        stats = getattr(self._local, "stats", None)
        if stats is None:
            self.unattributed += 1
        return stats

    def _before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        stats = self._current()
        if stats is None:
            return
        if is_transaction_control(statement):
            text = _short(statement)
            last = getattr(self._local, "last", None)
            if text.upper().startswith(("BEGIN", "START TRANSACTION")) and last == "implicit_begin":
                stats.tx[-1] = text  # the begin event's own BEGIN, sent as text: one BEGIN
                self._local.last = None
            else:
                stats.tx.append(text)
                self._local.last = "text_begin" if text.upper().startswith(("BEGIN", "START TRANSACTION")) else None
        else:
            stats.statements.append(_short(statement))
            self._local.last = None

    def _after_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        stats = getattr(self._local, "stats", None)
        if stats is None:
            return
        dbapi_connection = _dbapi(conn)
        if dbapi_connection is not None and dbapi_in_transaction(dbapi_connection):
            stats.in_transaction_after.append(_short(statement, 80))

    def _begin(self, conn):
        stats = self._current()
        if stats is None:
            return
        if getattr(self._local, "last", None) == "text_begin":
            self._local.last = None  # SQLite's BEGIN IMMEDIATE, sent from an earlier begin listener
            return
        dbapi_connection = _dbapi(conn)
        if dbapi_connection is None or driver_sends_begin(dbapi_connection):
            stats.tx.append(IMPLICIT_BEGIN)
            self._local.last = "implicit_begin"
        else:
            stats.noop_tx.append(IMPLICIT_BEGIN)
            self._local.last = None

    def _end(self, conn, what: str) -> None:
        stats = self._current()
        if stats is None:
            return
        dbapi_connection = _dbapi(conn)
        in_tx = dbapi_in_transaction(dbapi_connection) if dbapi_connection is not None else None
        (stats.noop_tx if in_tx is False else stats.tx).append(what)
        self._local.last = None

    def _commit(self, conn):
        self._end(conn, "COMMIT")

    def _rollback(self, conn):
        self._end(conn, "ROLLBACK")

    def _checkout(self, dbapi_connection, connection_record, connection_proxy):
        stats = getattr(self._local, "stats", None)
        if stats is not None:
            stats.checkouts += 1

    def _reset(self, dbapi_connection, connection_record, reset_state=None):
        stats = getattr(self._local, "stats", None)
        if stats is None:
            return
        already = getattr(reset_state, "transaction_was_reset", False)
        if not already and dbapi_in_transaction(dbapi_connection):
            stats.tx.append("ROLLBACK (pool reset)")
            self._local.last = None
