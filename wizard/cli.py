"""Operator commands: `flask --app app init-db | seed-demo | create-user | purge-drafts |
import-porting-register | port-status | embed-origins | mail-worker`."""

import logging
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import audit, clock, db, drafts, embedding, migrate, notify, porting, queue
from .emails import EmailAddressError, normalise_email
from .models import Organisation, User
from .passwords import MAX_LENGTH, MIN_LENGTH, hash_password, password_problem
from .seed import seed_demo


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema to the newest migration."""
    migrate.upgrade(db.engine())
    click.echo(_("Database is at the newest schema."))


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load SPEC's demo organisations, users, prices, numbers and porting register (idempotent)."""
    seed_demo(db.session())
    click.echo(_("Demo data is loaded."))


def _email_address(_ctx, _param, value: str) -> str:
    """The address as it is stored and looked up at login (emails.py), or why it is not one."""
    try:
        return normalise_email(value)
    except EmailAddressError as exc:
        raise click.BadParameter(str(exc)) from None


def _new_password(_ctx, _param, value: str) -> str:
    """The rules of passwords.py; at the prompt a refused password is asked again."""
    problem = password_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


@click.command("create-user")
@click.option("--email", required=True, callback=_email_address)
@click.option("--name", required=True)
@click.option("--org-number", required=True, help="Organisation number of an existing organisation.")
@click.option("--owner", is_flag=True, help="Make the user the organisation's owner.")
@click.option("--permission", "permissions", multiple=True, type=click.Choice(["account", "users"]))
@click.password_option(
    callback=_new_password, help=f"At least {MIN_LENGTH} and at most {MAX_LENGTH} characters, not a common one."
)
@with_appcontext
def create_user_command(email, name, org_number, owner, permissions, password):
    """Create a user who can log in (for real deployments).

    The e-mail address is checked and stored in lower case; the password needs a length within
    the bounds under --password and must not be one of the most common ones (nothing else).
    """
    sess = db.session()
    org = sess.scalar(select(Organisation).where(Organisation.org_number == org_number))
    if org is None:
        raise click.ClickException(_("No organisation with organisation number %(org_number)s.", org_number=org_number))
    if sess.scalar(select(User).where(User.email == email)):
        raise click.ClickException(_("A user with email %(email)s already exists.", email=email))
    sess.add(
        User(
            organisation_id=org.id,
            email=email,
            name=name,
            is_owner=owner,
            permissions=" ".join(permissions),
            password_hash=hash_password(password),
        )
    )
    sess.commit()
    click.echo(_("Created %(email)s in %(organisation)s.", email=email, organisation=org.name))


@click.command("purge-drafts")
@click.option("--days", type=int, default=None, help="Age in days (default: DRAFT_MAX_AGE_DAYS).")
@with_appcontext
def purge_drafts_command(days):
    """Delete unfinished orders untouched for longer than the configured age and free their numbers,
    and the record of failed logins naming no account older than that."""
    days = days if days is not None else current_app.config["DRAFT_MAX_AGE_DAYS"]
    count = drafts.purge(db.session(), clock.now(), days)
    unknown = audit.purge_unowned(db.session(), clock.now(), days)
    db.session().commit()
    age = ngettext("%(num)s day", "%(num)s days", days)
    click.echo(
        ngettext(
            "Purged %(num)s draft older than %(age)s.", "Purged %(num)s drafts older than %(age)s.", count, age=age
        )
    )
    click.echo(
        ngettext(
            "Purged %(num)s failed login naming no account, older than %(age)s.",
            "Purged %(num)s failed logins naming no account, older than %(age)s.",
            unknown,
            age=age,
        )
    )


@click.command("import-porting-register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_porting_register_command(file):
    """Import the porting register from a CSV FILE (all rows or none).

    Header row: number,current_operator,binding_ends_on. Numbers in any common format
    (070-111 22 33, +46 70 111 22 33, ...); binding_ends_on is YYYY-MM-DD or empty.
    Known numbers are updated, new ones inserted. If any row is wrong nothing is
    imported and the wrong rows are listed.
    """
    try:
        with file.open(encoding="utf-8-sig", newline="") as stream:
            rows, errors = porting.read_register_csv(stream)
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            _("%(file)s is not UTF-8 text (byte %(byte)s); save it as UTF-8 CSV.", file=str(file), byte=exc.start)
        ) from None
    if errors:
        bad_lines = len({error.line for error in errors})
        fine = ngettext("%(num)s line was fine", "%(num)s lines were fine", len(rows))
        summary = ngettext(
            "Nothing imported from %(file)s: %(num)s line rejected (%(fine)s).",
            "Nothing imported from %(file)s: %(num)s lines rejected (%(fine)s).",
            bad_lines,
            file=str(file),
            fine=fine,
        )
        raise click.ClickException("\n".join([summary] + [f"  {error}" for error in errors]))
    sess = db.session()
    try:
        counts = porting.import_register(sess, rows, clock.now())
        sess.commit()
    except IntegrityError:
        sess.rollback()
        raise click.ClickException(
            _("The porting register was changed by someone else meanwhile; nothing imported. Run the import again.")
        ) from None
    click.echo(
        ngettext(
            "Imported %(num)s number from %(file)s: %(inserted)s inserted, %(updated)s updated, %(unchanged)s unchanged.",
            "Imported %(num)s numbers from %(file)s: %(inserted)s inserted, %(updated)s updated, %(unchanged)s unchanged.",
            len(rows),
            file=str(file),
            inserted=counts.inserted,
            updated=counts.updated,
            unchanged=counts.unchanged,
        )
    )


@click.command("port-status")
@click.argument("number")
@click.argument("status", metavar="STATUS", type=click.Choice(porting.PORTING_STATUSES))
@click.option(
    "--date",
    "scheduled_for",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="With scheduled: the porting date the operator confirmed (default: the wanted date).",
)
@click.option("--reason", default=None, help="With rejected: why, in the words the buyer is told.")
@with_appcontext
def port_status_command(number, status, scheduled_for, reason):
    """Move the porting of the subscription with NUMBER to STATUS (the operator's callback).

    submitted -> scheduled -> completed; rejected or cancelled from submitted or scheduled.
    Completed makes the subscription active; rejected or cancelled cancels it. The buyer gets an
    e-mail for each (through the outbox and the mail queue).
    """
    sess = db.session()
    now = clock.now()
    try:
        change = porting.move_porting(
            sess, number, status, now, scheduled_for.date() if scheduled_for else None, (reason or "").strip() or None
        )
        letters = notify.porting_changed(sess, change, now)
        sess.commit()
    except porting.PortingError as exc:
        sess.rollback()
        raise click.ClickException(str(exc)) from None
    queue.of().enqueue(letters)
    sub = change.subscription
    # Statuses are shown as they are typed on the command line (data, not words to translate).
    facts = {"number": sub.number.e164, "old": change.old, "new": change.new, "id": sub.id, "status": sub.status}
    if change.new == "scheduled" and sub.porting_date is not None:
        message = _(
            "%(number)s: porting %(old)s -> %(new)s (subscription %(id)s is %(status)s), porting date %(date)s.",
            date=sub.porting_date.isoformat(),
            **facts,
        )
    elif change.mex_removed_with:  # only on rejected or cancelled, never with a porting date
        message = _(
            "%(number)s: porting %(old)s -> %(new)s (subscription %(id)s is %(status)s);"
            " its MEX pair with %(partner)s is removed.",
            partner=change.mex_removed_with,
            **facts,
        )
    else:
        message = _("%(number)s: porting %(old)s -> %(new)s (subscription %(id)s is %(status)s).", **facts)
    click.echo(message)


@click.command("embed-origins")
@click.argument("org_number")
@click.argument("origins", nargs=-1, metavar="[ORIGIN]...")
@click.option("--clear", is_flag=True, help="Allow no site to frame the wizard for this organisation.")
@with_appcontext
def embed_origins_command(org_number, origins, clear):
    """Show or set the sites that may show the wizard in a frame for organisation ORG_NUMBER.

    Each ORIGIN is a scheme, host and optional port, like https://intranet.example.com or
    https://intranet.example.com:8443 (no path). Given ORIGINs replace the list; --clear empties it;
    neither shows it. Framing also needs EMBEDDING on (docs/embedding.md).
    """
    if clear and origins:
        raise click.UsageError(_("Give origins or --clear, not both."))
    sess = db.session()
    org = sess.scalar(select(Organisation).where(Organisation.org_number == org_number))
    if org is None:
        raise click.ClickException(_("No organisation with organisation number %(org_number)s.", org_number=org_number))
    if origins or clear:
        parsed = [(text, embedding.parse_origin(text)) for text in origins]
        wrong = [text for text, origin in parsed if origin is None]
        if wrong:
            raise click.ClickException(
                _(
                    "Not an origin (scheme http or https, host, optional port, no path): %(origins)s."
                    " Nothing was changed.",
                    origins=", ".join(wrong),
                )
            )
        org.embed_origins = " ".join(dict.fromkeys(origin for _text, origin in parsed if origin))
        sess.commit()
    listed = " ".join(embedding.origins_of(org))
    if listed:
        click.echo(
            _("%(name)s (%(org_number)s): %(origins)s.", name=org.name, org_number=org.org_number, origins=listed)
        )
    else:
        click.echo(
            _("%(name)s (%(org_number)s): no site may frame the wizard.", name=org.name, org_number=org.org_number)
        )
    if org.embed_origins and not current_app.config["EMBEDDING"]:
        click.echo(_("EMBEDDING is off on this server: no site frames the wizard until it is on."))


@click.command("mail-worker")
@click.option("--workers", type=click.IntRange(1, 32), default=2, show_default=True, help="Threads sending mail.")
@click.option("--once", is_flag=True, help="Send what is due now, then stop (e.g. from cron).")
@with_appcontext
def mail_worker_command(workers, once):
    """Deliver the outbox: the job queue's consumer (Huey), until stopped with Ctrl-C or SIGTERM.

    Run one or more on any host that shares QUEUE_URL (Redis) and DATABASE_URL; each message is still
    sent once. On the default SQLite queue, `flask run` delivers mail itself and needs none.
    """
    if once:
        results = [queue.deliver_now(message_id) for message_id in queue.requeue_due(enqueue=False)]
        sent = results.count("sent")
        click.echo(ngettext("Sent %(num)s message.", "Sent %(num)s messages.", sent))
        if len(results) > sent:
            click.echo(_("%(num)s could not be sent now and will be tried again.", num=len(results) - sent))
        return
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    huey = queue.of().huey
    click.echo(
        ngettext(
            "Delivering mail from %(queue)s with %(num)s worker.",
            "Delivering mail from %(queue)s with %(num)s workers.",
            workers,
            queue=type(huey).__name__,
        )
    )
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


def init_app(app, group: str | None = None) -> None:
    """The commands on `flask`, or mounted in a host app under `flask <group>` (beside the host's own)."""
    target = app.cli
    if group is not None:
        target = click.Group(group, help="The subscription wizard's commands.")
        app.cli.add_command(target)
    for command in (
        init_db_command,
        seed_demo_command,
        create_user_command,
        purge_drafts_command,
        import_porting_register_command,
        port_status_command,
        embed_origins_command,
        mail_worker_command,
    ):
        target.add_command(command)
