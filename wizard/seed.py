"""SPEC's demo data: two organisations, their people, prices, a number pool and the porting register.

Every row is looked up by its natural key first, so running the seed twice changes nothing.
"""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .models import Contract, Organisation, PhoneNumber, PortingRegisterEntry, PriceItem, User
from .passwords import hash_password

ORGANISATIONS = [
    {"name": "Nordlys AB", "org_number": "556677-8899", "country": "SE"},
    {"name": "Fjord AS", "org_number": "923609016", "country": "NO"},
]

CONTRACT_REFERENCE = "NL-2026-24"  # Nordlys's contract

# (org number, email, name, password, owner, permissions)
USERS = [
    ("556677-8899", "owner@nordlys.test", "Nora Lindqvist", "demo-owner-pw", True, ""),
    ("556677-8899", "buyer@nordlys.test", "Björn Sandberg", "demo-buyer-pw", False, "account"),
    ("556677-8899", "staff@nordlys.test", "Sara Holm", "demo-staff-pw", False, ""),
    ("556677-8899", "anna@nordlys.test", "Anna Berg", None, False, ""),
    ("556677-8899", "erik@nordlys.test", "Erik Lund", None, False, ""),
    ("923609016", "owner@fjord.test", "Fredrik Dahl", "demo-owner-pw", True, ""),
]

# (code, category, kind, name, description, unbound monthly/one-off öre, bound monthly/one-off öre, GB)
# One price item a line, like the table it is: the formatter leaves it alone.
# fmt: off
PRICES = [
    ("base-mobile", "subscription", "mobile", "Mobile subscription", "Monthly fee and start fee", 4900, 9900, 3900, 0, None),
    ("base-fixed", "subscription", "fixed", "Fixed subscription", "Monthly fee and start fee", 5900, 14900, 4900, 0, None),
    ("rate-fixed", "call_rate", None, "Fixed call rate", "All calls within Sweden included", 9900, 0, 7900, 0, None),
    ("rate-variable", "call_rate", None, "Variable call rate", "SEK 0.49 per minute, no monthly call fee", 0, 0, 0, 0, None),
    ("data-5", "data_package", "mobile", "5 GB", "5 GB per month in the EU/EEA", 9900, 0, 7900, 0, 5),
    ("data-20", "data_package", "mobile", "20 GB", "20 GB per month in the EU/EEA", 17900, 0, 14900, 0, 20),
    ("data-unlimited", "data_package", "mobile", "Unlimited", "Unlimited data, 40 GB in the EU/EEA", 29900, 0, 24900, 0, None),
    ("number-specific", "number", None, "Chosen number", "A number you pick from the free numbers", 0, 19900, 0, 9900, None),
    ("number-port", "number", None, "Number porting", "Moving your number from its current operator", 0, 0, 0, 0, None),
    ("sim-physical", "sim", "mobile", "SIM card", "Start fee for a physical SIM card", 0, 4900, 0, 0, None),
    ("sim-esim", "sim", "mobile", "eSIM", "Start fee for an eSIM", 0, 4900, 0, 0, None),
]
# fmt: on

# The same items in Swedish: code -> (name, description).
PRICES_SV = {
    "base-mobile": ("Mobilabonnemang", "Månadsavgift och startavgift"),
    "base-fixed": ("Fast abonnemang", "Månadsavgift och startavgift"),
    "rate-fixed": ("Fast samtalstaxa", "Alla samtal inom Sverige ingår"),
    "rate-variable": ("Rörlig samtalstaxa", "0,49 kr per minut, ingen månadsavgift för samtal"),
    "data-5": ("5 GB", "5 GB per månad inom EU/EES"),
    "data-20": ("20 GB", "20 GB per månad inom EU/EES"),
    "data-unlimited": ("Obegränsad", "Obegränsad data, 40 GB inom EU/EES"),
    "number-specific": ("Valt nummer", "Ett nummer som du väljer bland de lediga"),
    "number-port": ("Nummerflytt", "Flytt av numret från dess nuvarande operatör"),
    "sim-physical": ("SIM-kort", "Startavgift för ett fysiskt SIM-kort"),
    "sim-esim": ("eSIM", "Startavgift för ett eSIM"),
}

FREE_NUMBERS = (
    [f"+467012340{n:02d}" for n in range(0, 20)]  # mobile, 070-123 40 xx
    + [f"+4681234570{n}" for n in range(0, 10)]  # fixed, 08-123 457 0x
)
NORDLYS_RESERVED = ["+46731234500", "+46731234501", "+46731234502", "+46812345690", "+46812345691"]
ANNA_FIXED = "+46812345670"

PORTING_REGISTER = [
    # (number, current operator, days until binding ends: negative = already ended)
    ("+46701112233", "Telia", -60),
    ("+46704445566", "Tele2", 122),
]


def _get_or_create(sess: Session, model, key: dict, **values):
    obj = sess.scalar(select(model).filter_by(**key))
    if obj is None:
        obj = model(**key, **values)
        sess.add(obj)
        sess.flush()
    return obj


def _kind_of(e164: str) -> str:
    return "fixed" if e164.startswith("+468") else "mobile"


def seed_demo(sess: Session, today: date | None = None) -> None:
    """Insert whatever of the demo data is missing."""
    today = today or clock.today()
    orgs = {
        o["org_number"]: _get_or_create(
            sess, Organisation, {"org_number": o["org_number"]}, name=o["name"], country=o["country"]
        )
        for o in ORGANISATIONS
    }
    nordlys = orgs["556677-8899"]
    contract = _get_or_create(
        sess,
        Contract,
        {"reference": CONTRACT_REFERENCE},
        organisation_id=nordlys.id,
        starts_on=today - timedelta(days=180),
        ends_on=today - timedelta(days=180) + timedelta(days=730),
        binding_months=24,
    )
    users = {}
    for org_number, email, name, password, owner, perms in USERS:
        users[email] = _get_or_create(
            sess,
            User,
            {"email": email},
            organisation_id=orgs[org_number].id,
            name=name,
            password_hash=hash_password(password) if password else None,
            is_owner=owner,
            permissions=perms,
        )
    for code, category, kind, name, desc, um, uo, bm, bo, gb in PRICES:
        common = {"category": category, "kind": kind, "name": name, "description": desc, "data_gb": gb}
        sv_name, sv_description = PRICES_SV[code]
        translations = {"sv": {"name": sv_name, "description": sv_description}}
        for basis, contract_id, monthly, one_off in (("unbound", None, um, uo), ("bound", contract.id, bm, bo)):
            item = _get_or_create(
                sess,
                PriceItem,
                {"code": code, "basis": basis, "contract_id": contract_id},
                monthly_ore=monthly,
                one_off_ore=one_off,
                **common,
            )
            if not item.translations:  # a database seeded before the items had Swedish names
                item.translations = translations
    for e164 in FREE_NUMBERS:
        _get_or_create(sess, PhoneNumber, {"e164": e164}, kind=_kind_of(e164), status="free")
    for e164 in NORDLYS_RESERVED:
        _get_or_create(
            sess, PhoneNumber, {"e164": e164}, kind=_kind_of(e164), status="reserved", organisation_id=nordlys.id
        )
    _get_or_create(
        sess,
        PhoneNumber,
        {"e164": ANNA_FIXED},
        kind="fixed",
        status="assigned",
        organisation_id=nordlys.id,
        user_id=users["anna@nordlys.test"].id,
        pbx=True,
    )
    for e164, operator, days in PORTING_REGISTER:
        _get_or_create(
            sess,
            PortingRegisterEntry,
            {"e164": e164},
            current_operator=operator,
            binding_ends_on=today + timedelta(days=days),
        )
    sess.commit()
