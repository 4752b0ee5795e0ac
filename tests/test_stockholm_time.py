"""Business dates are Stockholm dates: at 23:30 UTC on 31 December it is already 00:30 on New Year's
Day in Stockholm, and every rule (the contract in force, a number's binding, the binding end of a new
subscription, the time a held number is kept until, a draft's date) follows Stockholm, on SQLite and
PostgreSQL."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from tests.pages import page
from tests.test_wizard_journeys import user_id, walk
from tests.wizard_client import errors
from wizard import clock
from wizard.models import Contract, PortingRegisterEntry

NEW_YEARS_EVE_UTC = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 in Stockholm
SPACES = {0x00A0: " ", 0x202F: " "}  # Babel's no-break spaces


@pytest.fixture
def new_year(app, query):
    """The app's clock stopped at 23:30 UTC on New Year's Eve; Nordlys's contract starts on New Year's
    Day, and a number at Telia is bound until New Year's Eve."""
    app.config["CLOCK"] = lambda: NEW_YEARS_EVE_UTC

    def arrange(sess):
        sess.execute(update(Contract).values(starts_on=date(2027, 1, 1), ends_on=date(2028, 12, 31)))
        sess.add(
            PortingRegisterEntry(e164="+46709998877", current_operator="Telia", binding_ends_on=date(2026, 12, 31))
        )
        sess.commit()

    query(arrange)


def text(response) -> str:
    return page(response).text().translate(SPACES)


def test_the_clock_gives_the_stockholm_date(app, new_year):
    with app.app_context():
        assert clock.now() == NEW_YEARS_EVE_UTC
        assert clock.today() == date(2027, 1, 1)


def test_a_contract_starting_on_new_years_day_is_in_force_and_binds_from_it(buyer_as, new_year, query):
    b = buyer_as("owner")
    b.start("mobile")
    basis = text(b.get(b.step_url("price_basis")))
    assert "Bound: prices from your contract" in basis
    assert "has no active contract" not in basis
    walk(b, [("price_basis", {"basis": "bound"}), ("call_rate", {"code": "rate-fixed"})])
    walk(b, [("data_package", {"code": "data-5"}), ("number", {"choice": "new"})])
    walk(b, [("sim", {"sim_kind": "esim"}), ("pbx", {"mode": "independent"})])
    walk(b, [("user", {"user_id": user_id(query, "anna@nordlys.test")}), ("top_up", {"top_up": "no"})])
    check = text(b.get(b.step_url("review")))
    assert "Bound until Jan 1, 2029" in check  # 24 months from 1 January 2027, not from 31 December


def test_the_held_number_is_kept_until_a_stockholm_time(buyer_as, new_year):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"})])
    walk(b, [("data_package", {"code": "data-5"}), ("number", {"choice": "new"})])
    number = text(b.get(b.step_url("number")))
    assert "held for you until 1:00 AM" in number  # 00:30 in Stockholm plus 30 minutes


def test_a_binding_that_ended_on_new_years_eve_no_longer_stops_porting(buyer_as, new_year):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"})])
    walk(b, [("data_package", {"code": "data-5"})])
    assert b.answer("number", {"choice": "port"}).status_code == 303
    port = {"port_number": "070-999 88 77", "port_operator": "Telia", "port_owner": "ours"}
    response = b.answer("porting", {**port, "port_date": "2027-01-11"})
    assert response.status_code == 303, errors(response)


def test_an_unfinished_order_started_after_midnight_is_dated_new_years_day(buyer_as, new_year):
    b = buyer_as("owner")
    b.start("fixed")
    subs = text(b.get("/settings/account/subs"))
    assert "Jan 1, 2027" in subs
    assert "Dec 31, 2026" not in subs
