"""A few buyers of one organisation cannot hold the whole free-number pool: its open drafts hold at
most MAX_HELD_NUMBERS_PER_ORGANISATION numbers at once (a cap per buyer alone would let each of
them hold ten), with a clear message beside the Number choice, race-safe, on SQLite and PostgreSQL."""

import html

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_CONFIG, csrf_token
from tests.test_concurrency import race
from tests.test_numbers import MOBILE_TO_NUMBER, Clock
from tests.test_wizard_journeys import walk
from tests.wizard_client import errors, hidden
from wizard import create_app
from wizard.clock import business_day
from wizard.models import Draft, Organisation, PhoneNumber
from wizard.porting import earliest_porting_date

CAP = 2
FULL = (
    "Your organisation's unfinished orders already hold 2 numbers, the most they may. "
    "Finish or discard one of them, or use one of your reserved numbers or move an existing number."
)


@pytest.fixture
def capped(app):
    app.config["MAX_HELD_NUMBERS_PER_ORGANISATION"] = CAP
    app.config["CLOCK"] = Clock()
    app.config["LOGIN_IDLE_MINUTES"] = 24 * 60  # these buyers wait for holds to run out, still logged in
    return app


@pytest.fixture
def at_number(capped, buyer_as):
    """at_number('owner'): a new mobile order of that demo person, at its Number step."""

    def _at(who="owner"):
        b = buyer_as(who)
        b.start("mobile")
        walk(b, MOBILE_TO_NUMBER)
        return b

    return _at


def shown_errors(response) -> list[str]:
    """The error messages beside the fields, as the buyer reads them."""
    return [html.unescape(message) for message in errors(response)]


def held_by_org(query, org_name="Nordlys AB"):
    return query(
        lambda s: s.scalar(
            select(func.count())
            .select_from(PhoneNumber)
            .join(Draft, Draft.id == PhoneNumber.held_by_draft_id)
            .join(Organisation, Organisation.id == Draft.organisation_id)
            .where(PhoneNumber.status == "held", Organisation.name == org_name)
        )
    )


def free_numbers(query, kind="mobile", limit=5):
    return query(
        lambda s: [
            str(i)
            for i in s.scalars(
                select(PhoneNumber.id)
                .where(PhoneNumber.kind == kind, PhoneNumber.status == "free")
                .order_by(PhoneNumber.e164)
                .limit(limit)
            )
        ]
    )


def specific(number_id):
    return {"choice": "specific", "search": "", "specific_number": number_id}


def test_the_organisation_holds_at_most_the_cap_whoever_of_it_buys(at_number, query):
    owner, buyer, third = at_number("owner"), at_number("buyer"), at_number("buyer")
    assert owner.answer("number", {"choice": "new"}).status_code == 303
    assert buyer.answer("number", {"choice": "new"}).status_code == 303
    refused = third.answer("number", {"choice": "new"})
    assert refused.status_code == 422
    assert shown_errors(refused) == [FULL]
    assert 'aria-describedby="choice-error"' in refused.get_data(as_text=True)  # beside the Number choice
    assert held_by_org(query) == CAP
    assert (
        query(lambda s: s.scalar(select(Draft.answers).where(Draft.id == third.draft_url.rsplit("/", 1)[1]))).get(
            "number"
        )
        is None
    )


def test_a_specific_number_is_refused_at_the_cap_and_stays_free(at_number, query):
    first, second, third = at_number(), at_number(), at_number()
    wanted = free_numbers(query, limit=3)
    assert first.answer("number", specific(wanted[0])).status_code == 303
    assert second.answer("number", specific(wanted[1])).status_code == 303
    refused = third.answer("number", specific(wanted[2]))
    assert refused.status_code == 422 and shown_errors(refused) == [FULL]
    assert query(lambda s: s.scalar(select(PhoneNumber.status).where(PhoneNumber.id == int(wanted[2])))) == "free"


def test_another_organisation_is_not_held_back(at_number, query):
    at_number().answer("number", {"choice": "new"})
    at_number().answer("number", {"choice": "new"})
    assert at_number("fjord").answer("number", {"choice": "new"}).status_code == 303
    assert held_by_org(query, "Fjord AS") == 1


def test_at_the_cap_a_draft_may_change_the_number_it_holds(at_number, query):
    first, second = at_number(), at_number()
    first.answer("number", {"choice": "new"})
    second.answer("number", {"choice": "new"})
    other = free_numbers(query, limit=1)[0]
    assert first.answer("number", specific(other)).status_code == 303
    assert held_by_org(query) == CAP
    assert query(lambda s: s.scalar(select(PhoneNumber.status).where(PhoneNumber.id == int(other)))) == "held"


def test_discarding_an_order_or_a_hold_running_out_makes_room(capped, at_number, query):
    first, second, third = at_number(), at_number(), at_number()
    first.answer("number", {"choice": "new"})
    second.answer("number", {"choice": "new"})
    assert third.answer("number", {"choice": "new"}).status_code == 422
    discard = first.get(f"{first.draft_url}/discard").get_data(as_text=True)
    first.client.post(
        f"{first.draft_url}/discard", data={"csrf_token": csrf_token(discard), "version": hidden(discard, "version")[0]}
    )
    assert third.answer("number", {"choice": "new"}).status_code == 303
    fourth = at_number()
    assert fourth.answer("number", {"choice": "new"}).status_code == 422
    capped.config["CLOCK"].advance(minutes=capped.config["NUMBER_HOLD_MINUTES"] + 1)  # the others' holds run out
    assert fourth.answer("number", {"choice": "new"}).status_code == 303


def test_a_reserved_number_or_a_port_needs_no_room(capped, at_number, query):
    at_number().answer("number", {"choice": "new"})
    at_number().answer("number", {"choice": "new"})
    reserved = query(
        lambda s: s.scalar(select(PhoneNumber.id).where(PhoneNumber.status == "reserved", PhoneNumber.kind == "mobile"))
    )
    assert reserved is not None, "the demo data has a reserved mobile number"
    assert at_number().answer("number", {"choice": "reserved", "reserved_number": str(reserved)}).status_code == 303
    mover = at_number()
    assert mover.answer("number", {"choice": "port"}).status_code == 303
    day = earliest_porting_date("mobile", business_day(capped.config["CLOCK"]()))
    details = {"port_number": "070-111 22 33", "port_operator": "Telia", "port_owner": "ours"}
    response = mover.answer("porting", {**details, "port_date": day.isoformat()})
    assert response.status_code == 303, errors(response)
    assert held_by_org(query) == CAP


@pytest.mark.parametrize("choice", ["new", "specific"])
def test_buyers_saving_at_once_cannot_pass_the_cap(at_number, query, choice):
    """Each a different free number (no row in common to queue on), or each the next free one."""
    n = 8
    wanted = free_numbers(query, limit=n)
    buyers = []
    for i in range(n):
        b = at_number("owner" if i % 2 else "buyer")
        page = b.get(b.step_url("number")).get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "choice": choice}
        if choice == "specific":
            data.update(search="", specific_number=wanted[i])
        buyers.append((b, data))
    results = race([lambda b=b, data=data: b.client.post(b.step_url("number"), data=data) for b, data in buyers])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [303] * CAP + [422] * (n - CAP)
    for r in results:
        if r.status_code == 422:
            assert shown_errors(r) == [FULL]
    assert held_by_org(query) == CAP


def test_the_cap_comes_from_the_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("MAX_HELD_NUMBERS_PER_ORGANISATION", "7")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}, instance_path=str(tmp_path))
    assert app.config["MAX_HELD_NUMBERS_PER_ORGANISATION"] == 7
    app.extensions["db_engine"].dispose()
