"""Every rule the server enforces on a step, with the message the buyer sees beside the field."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from stdnum import luhn

from tests.conftest import csrf_token
from tests.test_wizard_journeys import number_id, user_id, walk
from tests.wizard_client import errors, hidden
from wizard import clock  # business dates are Stockholm dates, as the app's
from wizard.porting import earliest_porting_date

BEFORE = {
    "number": [
        ("price_basis", {"basis": "unbound"}),
        ("call_rate", {"code": "rate-fixed"}),
        ("data_package", {"code": "data-5"}),
    ],
}
BEFORE["sim"] = BEFORE["number"] + [("number", {"choice": "new"})]
BEFORE["user"] = BEFORE["sim"] + [("sim", {"sim_kind": "esim"}), ("pbx", {"mode": "pbx", "mex": "y"})]


@pytest.fixture
def at(buyer_as):
    """at('sim') is an owner's mobile order standing at that step."""

    def _at(step):
        b = buyer_as("owner")
        b.start("mobile")
        walk(b, BEFORE[step])
        return b

    return _at


NOT_89 = "124607123456789012" + "3"
NOT_89 += luhn.calc_check_digit(NOT_89)


@pytest.mark.parametrize(
    ("icc", "message"),
    [
        ("", "Enter the SIM card number"),
        ("8946071234567890123", "The SIM card number must be 20 digits (you entered 19)"),
        ("894607123456789012300", "The SIM card number must be 20 digits (you entered 21)"),
        ("89460712345678901231", "The SIM card number is not valid: check the digits on the back of the card"),
        ("٨٩٤٦٠٧١٢٣٤٥٦٧٨٩٠١٢٣٠", "The SIM card number can only contain the digits 0 to 9"),
        ("8946O712345678901230", "The SIM card number can only contain the digits 0 to 9"),
        (NOT_89, "The SIM card number must start with 89"),
    ],
)
def test_icc_rules(at, icc, message):
    response = at("sim").answer("sim", {"sim_kind": "physical", "icc": icc})
    assert response.status_code == 422
    assert errors(response) == [message]
    assert f'value="{icc}"' in response.get_data(as_text=True), "what was typed is kept"


@pytest.mark.parametrize("icc", ["8946 0712 3456 7890 1230", "8946-0712-3456-7890-1230", "89460712345678901230"])
def test_icc_as_printed_on_cards_is_accepted(at, icc):
    assert at("sim").answer("sim", {"sim_kind": "physical", "icc": icc}).status_code == 303


def test_esim_needs_no_icc(at):
    assert at("sim").answer("sim", {"sim_kind": "esim", "icc": "garbage"}).status_code == 303


def _port(b, number, day=None, operator="Telia"):
    """Choose "Move a number here" on the Number step, then give its details on the Porting step."""
    day = day or earliest_porting_date("mobile", clock.today())
    assert b.answer("number", {"choice": "port"}).status_code == 303
    return b.answer(
        "porting",
        {
            "port_number": number,
            "port_operator": operator,
            "port_owner": "ours",
            "port_date": day.isoformat(),
        },
    )


@pytest.mark.parametrize(
    ("number", "message_start"),
    [
        ("070-444 55 66", "This number is bound to its current operator until "),
        ("08-123 456 71", "This is not a mobile number. A mobile subscription needs a mobile number."),
        ("12345", "Enter a real phone number"),
        ("", "Enter the number to move"),
    ],
)
def test_porting_number_rules(at, number, message_start):
    response = _port(at("number"), number)
    assert response.status_code == 422
    assert errors(response)[0].startswith(message_start)


def test_still_bound_message_says_when_the_binding_ends(app, at, query):
    from wizard.models import PortingRegisterEntry

    ends = query(
        lambda s: s.scalar(
            select(PortingRegisterEntry.binding_ends_on).where(PortingRegisterEntry.e164 == "+46704445566")
        )
    )
    text = errors(_port(at("number"), "+46 70 444 55 66"))[0]
    assert f"{ends:%b} {ends.day}, {ends.year}" in text  # Babel's medium date


@pytest.mark.parametrize(
    ("day", "message_start"),
    [
        (clock.today() - timedelta(days=1), "The porting date cannot be in the past"),
        (clock.today() + timedelta(days=1), "Choose a working day on or after"),
    ],
)
def test_porting_date_rules(at, day, message_start):
    response = _port(at("number"), "070-111 22 33", day=day)
    assert response.status_code == 422
    assert errors(response)[0].startswith(message_start)


def test_porting_date_must_be_a_working_day(at):
    day = earliest_porting_date("mobile", clock.today())
    while day.weekday() != 5:
        day += timedelta(days=1)
    response = _port(at("number"), "070-111 22 33", day=day)
    assert errors(response)[0].startswith("Choose a working day on or after")


def test_a_specific_number_held_by_another_buyer_cannot_be_picked(at, buyer_as, query):
    first = at("number")
    assert (
        first.answer(
            "number",
            {"choice": "specific", "search": "070-123 40 05", "specific_number": number_id(query, "+46701234005")},
        ).status_code
        == 303
    )
    second = at("number")
    response = second.answer(
        "number", {"choice": "specific", "search": "", "specific_number": number_id(query, "+46701234005")}
    )
    assert response.status_code == 422
    assert errors(response) in (["That number was just taken. Pick another."], ["Not a valid choice."])


def reveal(b, step, data):
    """What htmx sends as "A specific number" opens or its search box changes: the form plus _reveal."""
    page = b.get(b.step_url(step)).get_data(as_text=True)
    return b.client.post(
        b.step_url(step),
        data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "_reveal": "1", **data},
    )


def test_specific_search_lists_only_free_numbers_of_the_right_kind(at):
    b = at("number")
    page = reveal(b, "number", {"choice": "specific", "search": "4000"}).get_data(as_text=True)
    assert "070-123 40 00" in page
    assert "08-" not in page.split('id="specific-results"')[1].split("</div>")[0]


def test_reserved_numbers_are_only_the_organisations_own(buyer_as):
    b = buyer_as("fjord")
    b.start("mobile")
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
        ],
    )
    page = b.get(b.step_url("number")).get_data(as_text=True)
    assert "You have no reserved numbers of this kind" in page
    assert "073-123 45 00" not in page


def test_mex_needs_a_pbx_number_of_the_other_kind(at, query):
    response = at("user").answer("user", {"user_id": user_id(query, "erik@nordlys.test")})
    assert response.status_code == 422
    assert errors(response)[0].startswith("Erik Lund has no PBX-integrated fixed number to pair with")


def test_user_of_another_organisation_is_refused(at, query):
    fjord_owner = user_id(query, "owner@fjord.test")
    response = at("user").answer("user", {"user_id": fjord_owner})
    assert response.status_code == 422
    assert errors(response)


def _answers(query, b) -> dict:
    from wizard.models import Draft

    return query(lambda s: s.get(Draft, b.draft_url.rsplit("/", 1)[-1]).answers)


def test_every_follow_up_field_of_the_number_and_porting_steps_is_in_the_page_of_a_get(at):
    """No option chosen yet, and the fields each option asks for are already there (no reveal round trip)."""
    b = at("number")
    number = b.get(b.step_url("number")).get_data(as_text=True)
    for name in ("choice", "reserved_number", "search", "match"):
        assert f'name="{name}"' in number, name
    assert 'id="specific-results"' in number and 'name="_reveal" value="search"' in number
    assert "_shown" not in number
    assert b.answer("number", {"choice": "port"}).status_code == 303
    porting = b.get(b.step_url("porting")).get_data(as_text=True)
    for name in ("port_number", "port_operator", "port_date", "port_owner", "port_owner_org_number"):
        assert f'name="{name}"' in porting, name
    assert "There is a problem" not in number + porting


def test_an_option_and_its_follow_up_fields_are_saved_in_one_post(at, query):
    b = at("number")
    assert b.answer("number", {"choice": "port"}).status_code == 303
    b.posts.clear()
    day = earliest_porting_date("mobile", clock.today()).isoformat()
    details = {"port_number": "070-111 22 33", "port_operator": "Telia", "port_date": day}
    response = b.answer("porting", {**details, "port_owner": "other", "port_owner_org_number": "556677-8899"})
    assert response.status_code == 303, errors(response)
    assert b.posts == ["porting"]
    stored = _answers(query, b)
    assert stored["number"] == {"choice": "port"}
    assert stored["porting"]["e164"] == "+46701112233"
    assert stored["porting"]["port_owner"] == "other" and stored["porting"]["port_owner_org_number"] == "556677-8899"


def test_fields_of_an_option_not_chosen_are_ignored_not_validated(at, query):
    b = at("number")
    page = b.get(b.step_url("number")).get_data(as_text=True)
    # Posted as is (Buyer.answer would drop a field the page lacks: the free numbers are not listed yet).
    unchosen = {"reserved_number": "99999999999", "search": "07\x0012", "match": "nowhere", "specific_number": "²"}
    response = b.post_step(
        "number",
        {"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "choice": "new", **unchosen},
    )
    assert response.status_code == 303, errors(response)
    assert _answers(query, b)["number"]["choice"] == "new"
    assert "search" not in _answers(query, b)["number"] and "specific_number" not in _answers(query, b)["number"]
    b = at("number")
    assert b.answer("number", {"choice": "port"}).status_code == 303
    day = earliest_porting_date("mobile", clock.today()).isoformat()
    details = {"port_number": "070-111 22 33", "port_operator": "Telia", "port_date": day, "port_owner": "ours"}
    response = b.answer("porting", {**details, "port_owner_org_number": "not an organisation number"})
    assert response.status_code == 303, errors(response)
    assert "port_owner_org_number" not in _answers(query, b)["porting"]


def test_a_refused_post_keeps_what_was_typed(at):
    """A post with an error shows the step again with every typed value, the follow-up fields included."""
    b = at("number")
    assert b.answer("number", {"choice": "port"}).status_code == 303
    response = b.answer(
        "porting",
        {"port_number": "070-111 22 33", "port_owner": "other", "port_owner_org_number": "556677-8899"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="070-111 22 33"' in html and 'value="556677-8899"' in html
    assert errors(response) == ["Choose the current operator", "Enter the wanted porting date"]


@pytest.mark.parametrize(
    ("number", "message_start"),
    [
        ("070-123 40 05", "This number is already ours, so there is nothing to move"),
        ("+47 912 34 567", "Only Swedish numbers can be moved here"),
    ],
)
def test_porting_refuses_numbers_it_cannot_move(at, number, message_start):
    response = _port(at("number"), number)
    assert response.status_code == 422
    assert errors(response)[0].startswith(message_start)


@pytest.mark.parametrize("typed", ["2026-02-30", "not-a-date", ""])
def test_a_mistyped_porting_date_is_a_message_not_a_crash(at, typed):
    b = at("number")
    assert b.answer("number", {"choice": "port"}).status_code == 303
    response = b.answer(
        "porting",
        {
            "port_number": "070-111 22 33",
            "port_operator": "Telia",
            "port_owner": "ours",
            "port_date": typed,
        },
    )
    assert response.status_code == 422
    assert errors(response)


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("number", {"choice": "specific", "search": "", "specific_number": "99999999999999999999999"}),
        ("number", {"choice": "specific", "search": "", "specific_number": "²"}),
        ("number", {"choice": "specific", "search": "", "results_page": "99999999999999"}),
    ],
)
def test_malformed_ids_are_refused_not_crashed_on(at, step, data):
    response = at("number").answer(step, data)
    assert response.status_code in (200, 422)


@pytest.mark.parametrize("user_id", ["99999999999999999999", "²", "-1", "abc"])
def test_malformed_user_ids_are_refused(at, user_id):
    response = at("user").answer("user", {"user_id": user_id})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "/settings/account/subs/subscriptions/99999999999/esim",
        "/settings/users/²",
        "/settings/users/99999999999999999999999",
    ],
)
def test_huge_or_odd_ids_in_urls_are_not_found(login_as, url):
    assert login_as("owner").get(url).status_code == 404


def test_an_old_unfinished_order_is_gone_even_before_the_purge(app, buyer_as, query):
    from datetime import timedelta

    from wizard.models import Draft

    b = buyer_as("owner")
    b.start("fixed")

    def age(s):
        draft = s.scalar(select(Draft))
        draft.updated_at -= timedelta(days=app.config["DRAFT_MAX_AGE_DAYS"] + 1)
        s.commit()

    query(age)
    assert b.get(b.draft_url).status_code == 404
    assert "You have no unfinished orders." in b.get("/settings/account/subs").get_data(as_text=True)


def test_switching_mex_on_after_the_user_asks_for_the_user_again(at, query):
    b = at("user")
    assert b.answer("pbx", {"mode": "independent"}).status_code == 303
    walk(b, [("user", {"user_id": user_id(query, "erik@nordlys.test")}), ("top_up", {"top_up": "no"})])
    response = b.answer("pbx", {"mode": "pbx", "mex": "y"}, extra={"return": "review"})
    assert response.headers["Location"].endswith("/user"), "the user must be chosen again, with the number to pair"
