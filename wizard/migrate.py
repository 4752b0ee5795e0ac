"""Alembic, driven from Python so `flask --app app init-db` needs no alembic.ini."""

import os

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = os.path.dirname(__file__)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config whose env.py uses this engine."""
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(HERE, "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date (creates it on an empty database)."""
    command.upgrade(alembic_config(engine), revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)
