"""Operator commands: `flask --app app init-db | seed-demo | create-user`."""
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from . import db, drafts, migrate
from .models import Organisation, User
from .passwords import hash_password
from .seed import seed_demo


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema to the newest migration."""
    migrate.upgrade(db.engine())
    click.echo("Database is at the newest schema.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load SPEC's demo organisations, users, prices, numbers and porting register (idempotent)."""
    seed_demo(db.session())
    click.echo("Demo data is loaded.")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--org-number", required=True, help="Organisation number of an existing organisation.")
@click.option("--owner", is_flag=True, help="Make the user the organisation's owner.")
@click.option("--permission", "permissions", multiple=True, type=click.Choice(["account", "users"]))
@click.password_option()
@with_appcontext
def create_user_command(email, name, org_number, owner, permissions, password):
    """Create a user who can log in (for real deployments)."""
    sess = db.session()
    org = sess.scalar(select(Organisation).where(Organisation.org_number == org_number))
    if org is None:
        raise click.ClickException(f"No organisation with organisation number {org_number}.")
    email = email.strip().lower()
    if sess.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"A user with email {email} already exists.")
    sess.add(User(organisation_id=org.id, email=email, name=name, is_owner=owner,
                  permissions=" ".join(permissions), password_hash=hash_password(password)))
    sess.commit()
    click.echo(f"Created {email} in {org.name}.")


@click.command("purge-drafts")
@click.option("--days", type=int, default=None, help="Age in days (default: DRAFT_MAX_AGE_DAYS).")
@with_appcontext
def purge_drafts_command(days):
    """Delete unfinished orders untouched for longer than the configured age and free their numbers."""
    days = days if days is not None else current_app.config["DRAFT_MAX_AGE_DAYS"]
    count = drafts.purge(db.session(), datetime.now(timezone.utc), days)
    click.echo(f"Purged {count} draft(s) older than {days} days.")


def init_app(app) -> None:
    for command in (init_db_command, seed_demo_command, create_user_command, purge_drafts_command):
        app.cli.add_command(command)
