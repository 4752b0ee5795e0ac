"""Schema and data layer: migrations match the models, seeding is idempotent, SQLite is hardened."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from wizard import clock, db, migrate  # clock: business dates are Stockholm dates, as the app's
from wizard.db import Base
from wizard.models import Draft, MexPair, Organisation, PhoneNumber, PortingRegisterEntry, PriceItem, Subscription, User


def test_migrations_produce_exactly_the_models_schema(app):
    with app.app_context(), db.engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _counts(sess):
    return {t.name: sess.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_seed_demo_twice_changes_nothing(app, runner):
    with app.app_context():
        before = _counts(db.session())
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after = _counts(db.session())
    assert before == after
    assert after["users"] == 6 and after["organisations"] == 2


def test_demo_data_matches_the_spec(app):
    with app.app_context():
        sess = db.session()
        nordlys = sess.scalar(select(Organisation).where(Organisation.name == "Nordlys AB"))
        fjord = sess.scalar(select(Organisation).where(Organisation.name == "Fjord AS"))

        assert nordlys.active_contract(clock.today()).binding_months == 24
        assert fjord.active_contract(clock.today()) is None
        anna = sess.scalar(select(User).where(User.email == "anna@nordlys.test"))
        anna_numbers = sess.scalars(select(PhoneNumber).where(PhoneNumber.user_id == anna.id)).all()
        assert [(n.e164, n.kind, n.pbx) for n in anna_numbers] == [("+46812345670", "fixed", True)]
        free = sess.scalars(select(PhoneNumber.kind).where(PhoneNumber.status == "free")).all()
        assert "mobile" in free and "fixed" in free
        reserved = sess.scalars(select(PhoneNumber).where(PhoneNumber.status == "reserved")).all()
        assert reserved and all(n.organisation_id == nordlys.id for n in reserved)
        register = {e.e164: e.binding_ends_on for e in sess.scalars(select(PortingRegisterEntry))}
        assert register["+46701112233"] < clock.today() < register["+46704445566"]
        assert sess.scalar(select(func.count()).select_from(PriceItem).where(PriceItem.basis == "bound")) > 0


def test_a_number_is_in_at_most_one_mex_pair(app):
    with app.app_context():
        sess = db.session()
        anna = sess.scalar(select(User).where(User.email == "anna@nordlys.test"))
        fixed = sess.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+46812345670"))
        mobiles = sess.scalars(select(PhoneNumber).where(PhoneNumber.kind == "mobile").limit(2)).all()
        sess.add(
            MexPair(
                organisation_id=anna.organisation_id,
                user_id=anna.id,
                fixed_number_id=fixed.id,
                mobile_number_id=mobiles[0].id,
            )
        )
        sess.commit()
        sess.add(
            MexPair(
                organisation_id=anna.organisation_id,
                user_id=anna.id,
                fixed_number_id=fixed.id,
                mobile_number_id=mobiles[1].id,
            )
        )
        try:
            sess.commit()
            raise AssertionError("a second pair with the same fixed number was accepted")
        except IntegrityError:
            sess.rollback()


def test_phone_numbers_are_unique(app):
    with app.app_context():
        sess = db.session()
        sess.add(PhoneNumber(e164="+46812345670", kind="fixed", status="free"))
        try:
            sess.commit()
            raise AssertionError("a duplicate E.164 number was accepted")
        except IntegrityError:
            sess.rollback()


def test_sqlite_connections_are_hardened(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path):
    """Read-then-write in two transactions cannot interleave: the second waits for the first."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    engine.dispose()
    first = db.make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    second = db.make_engine(
        f"sqlite:///{tmp_path / 'lock.sqlite3'}",
    )
    from sqlalchemy import event

    @event.listens_for(second, "connect")
    def _short_timeout(dbapi_conn, _rec):
        dbapi_conn.execute("PRAGMA busy_timeout = 50")

    with first.begin() as a:
        a.execute(text("SELECT n FROM counter")).scalar()
        try:
            with second.begin() as b:
                b.execute(text("SELECT n FROM counter")).scalar()
            raise AssertionError("a second transaction began while the first held the lock")
        except Exception as exc:  # sqlite3.OperationalError: database is locked
            assert "locked" in str(exc)
    first.dispose()
    second.dispose()


def test_the_latest_migrations_downgrade_and_upgrade_again_with_data(app, buyer_as, query):
    """The latest migrations (0007 the porting and MEX steps' answers, 0008 port again and
    price lines, 0009 batches) undo cleanly on a database with a bought order and an open one, and redo
    to exactly the models' schema and the same answers."""
    from alembic import command

    from tests.test_journey import porting_day
    from tests.test_wizard_journeys import FIXED_ORDER, walk

    b = buyer_as("owner")
    b.start("fixed")  # a bought order first: SQLite rebuilds tables that its rows point to
    walk(b, FIXED_ORDER)
    assert b.save().status_code == 303
    b.start("mobile")
    details = {
        "port_number": "070-111 22 33",
        "port_operator": "Telia",
        "port_date": porting_day(),
        "port_owner": "ours",
    }
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "port"}),
            ("porting", details),
        ],
    )
    answers = query(lambda s: s.scalar(select(Draft.answers).where(Draft.status == "open")))
    engine = app.extensions["db_engine"]
    command.downgrade(migrate.alembic_config(engine), "0006")
    with engine.connect() as conn:
        old = conn.execute(text("SELECT answers FROM drafts WHERE status = 'open'")).scalar_one()
    old = json.loads(old) if isinstance(old, str) else old
    assert "porting" not in old and old["number"]["port_number"] == "+46701112233"  # the shape before 0007
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert query(lambda s: s.scalar(select(Draft.answers).where(Draft.status == "open"))) == answers
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 1
