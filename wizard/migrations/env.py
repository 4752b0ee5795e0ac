"""Alembic environment: runs on the engine handed over by wizard.migrate.

On SQLite a schema change rebuilds the table (batch mode: create the new one, copy, drop the old,
rename), and dropping a table that other rows point to fails while foreign keys are enforced. So,
as SQLite's own "generalized ALTER TABLE procedure" says, foreign keys are switched off for the
migration (outside its transaction, where the pragma takes effect), checked with
`PRAGMA foreign_key_check` before the commit, and switched on again.
"""

from alembic import context

from wizard import models  # noqa: F401  (registers every table on Base.metadata)
from wizard.db import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    # On the driver's connection itself: through SQLAlchemy the pragma would open a transaction first
    # (wizard.db begins each one with BEGIN IMMEDIATE), inside which SQLite ignores it.
    raw = connection.connection.dbapi_connection
    if sqlite:
        raw.execute("PRAGMA foreign_keys = OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"The migration left rows pointing nowhere: {broken[:10]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()  # nothing left open (after a failure) before the pragma
            raw.execute("PRAGMA foreign_keys = ON")
