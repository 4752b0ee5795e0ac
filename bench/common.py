"""Shared by the benchmarks: throw-away databases, extra benchmark data, statistics, tables."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import phonenumbers
from sqlalchemy import create_engine, func, insert, select, text

from wizard import clock  # business dates are Stockholm dates, as the app's

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BUYER = ("buyer@nordlys.test", "demo-buyer-pw")
OWNER = ("owner@nordlys.test", "demo-owner-pw")
NORDLYS = "556677-8899"

# App settings for in-process runs: production-like (no TESTING, no DEBUG, CSRF on), http cookies.
INPROCESS_CONFIG = {
    "SECRET_KEY": "benchmark-secret-key",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "PROPAGATE_EXCEPTIONS": True,
}


def git_commit() -> str:
    """The commit measured (BENCH_COMMIT overrides, e.g. for an exported tree without .git)."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "wizard", "templates", "static", "app.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except Exception:
        return "unknown"


# -- databases ---------------------------------------------------------------------------------
def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


@contextmanager
def fresh_database(kind: str, workdir: Path):
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite:///{path}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"wizard_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_inprocess_app(url: str, instance: Path):
    """The app on a migrated, seeded database (in this process), CSRF on."""
    from wizard import create_app, db, migrate
    from wizard.seed import seed_demo

    app = create_app({**INPROCESS_CONFIG, "DATABASE_URL": url}, instance_path=str(instance))
    with app.app_context():
        migrate.upgrade(db.engine())
        seed_demo(db.session())
    return app


# -- extra data --------------------------------------------------------------------------------
def mobile_numbers(prefix: str, count: int) -> list[str]:
    """`count` Swedish mobile numbers +46 70 … that phonenumbers accepts as mobile."""
    width = 11 - len(prefix.removeprefix("+"))  # +46 70 xxx xx xx: 11 digits after +
    numbers = [f"{prefix}{n:0{width}d}" for n in range(count)]
    for sample in (numbers[0], numbers[-1]):
        parsed = phonenumbers.parse(sample)
        assert phonenumbers.is_valid_number(parsed), sample
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE, sample
    return numbers


def add_free_numbers(sess, count: int, prefix: str = "+467055") -> int:
    """Free mobile numbers for the pool (the demo data has 20); returns how many were added."""
    from wizard.models import PhoneNumber

    rows = [{"e164": e, "kind": "mobile", "status": "free", "pbx": False} for e in mobile_numbers(prefix, count)]
    for i in range(0, len(rows), 1000):
        sess.execute(insert(PhoneNumber), rows[i : i + 1000])
    sess.commit()
    return len(rows)


def add_buyers(sess, count: int, password: str = "bench-buyer-pw") -> list[tuple[str, str]]:
    """`count` users of Nordlys AB with the account permission; all share one password hash."""
    from argon2 import PasswordHasher

    from wizard.config import Defaults
    from wizard.models import Organisation, User

    org_id = sess.scalar(select(Organisation.id).where(Organisation.org_number == NORDLYS))
    hashed = PasswordHasher(time_cost=Defaults.ARGON2_TIME_COST, memory_cost=Defaults.ARGON2_MEMORY_COST).hash(password)
    accounts = [(f"bench-buyer-{i:03d}@nordlys.test", password) for i in range(count)]
    sess.execute(
        insert(User),
        [
            {
                "organisation_id": org_id,
                "email": email,
                "name": f"Bench Buyer {i:03d}",
                "password_hash": hashed,
                "is_owner": False,
                "permissions": "account",
                "active": True,
                "created_at": datetime.now(UTC),
            }
            for i, (email, _pw) in enumerate(accounts)
        ],
    )
    sess.commit()
    return accounts


def user_id(sess, email: str) -> int:
    from wizard.models import User

    return sess.scalar(select(User.id).where(User.email == email))


def add_subscriptions(sess, count: int, start: int = 0) -> None:
    """`count` bought mobile subscriptions in Nordlys AB, as orders.place leaves them: an assigned
    number, a submitted draft, the subscription with its price items, an eSIM."""
    from wizard.models import Draft, Organisation, PhoneNumber, PriceItem, Sim, Subscription, User

    org_id = sess.scalar(select(Organisation.id).where(Organisation.org_number == NORDLYS))
    users = dict(sess.execute(select(User.email, User.id).where(User.organisation_id == org_id)).all())
    buyer, owner = users["buyer@nordlys.test"], users["owner@nordlys.test"]
    holders = [users["erik@nordlys.test"], users["anna@nordlys.test"], buyer]
    price = {
        code: pid
        for code, pid in sess.execute(select(PriceItem.code, PriceItem.id).where(PriceItem.basis == "unbound"))
    }
    now = datetime.now(UTC)
    numbers = mobile_numbers("+467066", start + count)[start:]
    sess.execute(
        insert(PhoneNumber),
        [
            {
                "e164": e,
                "kind": "mobile",
                "status": "assigned",
                "organisation_id": org_id,
                "user_id": holders[(start + i) % len(holders)],
                "pbx": False,
            }
            for i, e in enumerate(numbers)
        ],
    )
    ids = dict(sess.execute(select(PhoneNumber.e164, PhoneNumber.id).where(PhoneNumber.e164.in_(numbers))).all())
    drafts, subs = [], []
    for i, e in enumerate(numbers):
        n = start + i
        draft_id = f"bench{n:07d}{uuid.uuid4().hex[:8]}"
        made = now - timedelta(minutes=n)
        creator = (owner, buyer)[n % 2]
        answers = {
            "type": {"kind": "mobile"},
            "price_basis": {"basis": "unbound"},
            "call_rate": {"code": "rate-fixed"},
            "data_package": {"code": "data-20"},
            "number": {"choice": "new", "number_id": ids[e], "e164": e},
            "sim": {"sim_kind": "esim"},
            "pbx": {"mode": "independent"},
            "user": {"user_id": str(holders[n % len(holders)])},
            "top_up": {"top_up": "no"},
        }
        drafts.append(
            {
                "id": draft_id,
                "organisation_id": org_id,
                "created_by_id": creator,
                "answers": answers,
                "version": 10,
                "status": "submitted",
                "created_at": made,
                "updated_at": made,
            }
        )
        subs.append(
            {
                "organisation_id": org_id,
                "draft_id": draft_id,
                "kind": "mobile",
                "price_basis": "unbound",
                "call_rate_id": price["rate-fixed"],
                "data_package_id": price["data-20"],
                "number_id": ids[e],
                "user_id": holders[n % len(holders)],
                "pbx": False,
                "top_up": False,
                "monthly_ore": 32700,
                "one_off_ore": 9900,
                "binding_ends_on": None,
                "status": "active",
                "porting_status": None,
                "porting_date": None,
                "created_by_id": creator,
                "created_at": made,
            }
        )
    for i in range(0, len(drafts), 1000):
        sess.execute(insert(Draft), drafts[i : i + 1000])
        sess.execute(insert(Subscription), subs[i : i + 1000])
    sub_ids = (
        sess.execute(select(Subscription.id).where(Subscription.draft_id.in_([d["id"] for d in drafts])))
        .scalars()
        .all()
    )
    sess.execute(
        insert(Sim),
        [
            {
                "subscription_id": sid,
                "kind": "esim",
                "icc": None,
                "activation_code": f"LPA:1$smdp.example-operator.test${uuid.uuid4().hex.upper()}",
            }
            for sid in sub_ids
        ],
    )
    sess.commit()


def count_subscriptions(sess) -> int:
    from wizard.models import Subscription

    return sess.scalar(select(func.count()).select_from(Subscription))


# -- a shared machine -----------------------------------------------------------------------------
def add_quiet_options(parser, wait: float = 30, max_other: float = 25, attempts: int = 2) -> None:
    """--quiet-wait, --max-other, --attempts: how hard to try for a measurement nobody disturbed."""
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=wait,
        help=f"seconds to wait for other processes to go idle before measuring (default {wait:g})",
    )
    parser.add_argument(
        "--max-other",
        type=float,
        default=max_other,
        help=f"measure again when other processes used more than this %% of one core meanwhile (default {max_other:g})",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=attempts,
        help=f"at most this many measurements; the least disturbed one counts (default {attempts})",
    )


def quiet_options(args) -> dict:
    return {"quiet_wait": args.quiet_wait, "max_other": args.max_other, "attempts": args.attempts}


# -- statistics and tables ---------------------------------------------------------------------
def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    values = sorted(values)
    if not values:
        return float("nan")
    rank = max(1, min(len(values), int(-(-p * len(values) // 100))))
    return values[rank - 1]


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table (readable in a terminal too)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or ("l" + "r" * (len(headers) - 1))

    def line(r):
        return (
            "| "
            + " | ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align, strict=True))
            + " |"
        )

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1)) for w, a in zip(widths, align, strict=True)
        )
        + "|"
    )
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def today() -> date:
    return clock.today()


def write_json(results, target: str) -> None:
    """--json FILE: the results as JSON, to the file or ('-') to standard output."""
    text = json.dumps(results, indent=2)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n")
