"""The journey without JavaScript (plain posts, CSRF on): follow-up questions in the page from the
start, Back and "Save and finish later" that keep what was typed, the held number named where the
buyer needs it, and error links that land on something to answer."""

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import csrf_token
from tests.test_numbers import MOBILE_TO_NUMBER, SPACES, clock, status_of  # noqa: F401  (clock: a fixture)
from tests.test_wizard_journeys import FIXED_ORDER, VALID_ICC, walk
from tests.wizard_client import errors, form_html, hidden
from wizard import clock as wizard_clock
from wizard.models import Draft
from wizard.porting import earliest_porting_date

MIGRATION = Path(__file__).parent.parent / "wizard/migrations/versions/0007_porting_and_mex_steps.py"
_spec = importlib.util.spec_from_file_location("migration_0007", MIGRATION)
assert _spec and _spec.loader
migration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(migration)


def porting_day() -> str:
    return earliest_porting_date("mobile", wizard_clock.today()).isoformat()


def answers_of(query, b) -> dict:
    draft_id = b.draft_url.rsplit("/", 1)[-1]
    return query(lambda s: s.get(Draft, draft_id).answers)


def prefill_of(query, b) -> dict:
    draft_id = b.draft_url.rsplit("/", 1)[-1]
    return query(lambda s: s.get(Draft, draft_id).prefill) or {}


def at_porting(buyer_as):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [*MOBILE_TO_NUMBER, ("number", {"choice": "port"})])
    return b


def test_every_follow_up_question_is_in_the_page_from_the_start(buyer_as):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [*MOBILE_TO_NUMBER, ("number", {"choice": "new"})])
    sim = b.get(b.step_url("sim")).get_data(as_text=True)
    assert 'name="icc"' in sim  # nothing chosen yet, and the card number's field is there
    assert 'data-controls="sim_kind-0-conditional"' in sim and 'id="sim_kind-0-conditional"' in sim
    assert "Only if you chose “Physical SIM card”:" in sim  # said for whoever sees every block
    fixed = buyer_as("owner")
    fixed.start("fixed")
    walk(fixed, [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"})])
    walk(fixed, [("number", {"choice": "new"})])
    pbx = fixed.get(fixed.step_url("pbx")).get_data(as_text=True)
    assert 'name="mex"' in pbx and "Only if you chose “PBX-integrated”:" in pbx
    assert "_shown" not in sim + pbx and "hx-post" not in re.sub(r"<form[^>]*>", "", form_html(sim))


def test_fields_of_an_option_not_chosen_are_ignored_not_checked(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [*MOBILE_TO_NUMBER, ("number", {"choice": "new"})])
    response = b.answer("sim", {"sim_kind": "esim", "icc": "not a card number"})
    assert response.status_code == 303, errors(response)
    assert answers_of(query, b)["sim"] == {"sim_kind": "esim"}


def test_the_option_and_its_follow_up_are_saved_in_one_post(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, [*MOBILE_TO_NUMBER, ("number", {"choice": "new"})])
    b.posts.clear()
    assert b.answer("sim", {"sim_kind": "physical", "icc": VALID_ICC}).status_code == 303
    assert b.posts == ["sim"] and answers_of(query, b)["sim"] == {"sim_kind": "physical", "icc": VALID_ICC}


def test_back_keeps_what_was_typed_and_goes_to_the_previous_step_on_the_route(buyer_as, query):
    b = at_porting(buyer_as)
    response = b.leave("porting", {"port_number": "070-111 22 33", "port_operator": "Telia"}, "back")
    assert response.status_code == 303 and response.headers["Location"].endswith("/number")
    assert "porting" not in answers_of(query, b)  # not an answer yet: the date and owner are missing
    again = b.get(b.step_url("porting")).get_data(as_text=True)
    assert 'value="070-111 22 33"' in again and '<option selected value="Telia">' in again
    assert "This is what you typed here last time" in again
    assert errors(b.get(b.step_url("porting"))) == []  # kept, not judged: no errors until they continue


def test_back_with_a_valid_answer_saves_it(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, MOBILE_TO_NUMBER)
    response = b.leave("number", {"choice": "reserved", "reserved_number": ""}, "back")
    assert response.headers["Location"].endswith("/data_package")
    assert "number" not in answers_of(query, b)
    response = b.leave("number", {"choice": "port"}, "back")
    assert response.headers["Location"].endswith("/data_package")
    assert answers_of(query, b)["number"] == {"choice": "port"}
    assert "typed" not in prefill_of(query, b).get("number", {})  # the answer replaced what was kept


def test_back_from_the_first_question_goes_to_subs(buyer_as):
    b = buyer_as("owner")
    b.start("fixed")
    response = b.leave("price_basis", {}, "back")
    assert response.status_code == 303 and response.headers["Location"].endswith("/type")  # answered at the start
    response = b.leave("type", {"kind": "fixed"}, "back")
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/account/subs")


def test_back_after_a_change_link_returns_to_check_your_answers(buyer_as):
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    page = b.get(b.step_url("call_rate") + "?return=review").get_data(as_text=True)
    assert 'name="return" value="review"' in page
    response = b.leave("call_rate", {"code": "rate-variable", "return": "review"}, "back")
    assert response.headers["Location"].endswith("/review")
    response = b.answer("pbx", {"mode": "independent"}, extra={"return": "review"})
    assert response.headers["Location"].endswith("/review")  # Change, then Save and continue: back there


def test_save_and_finish_later_keeps_what_was_typed_and_the_order(buyer_as, query):
    b = at_porting(buyer_as)
    response = b.leave("porting", {"port_number": "070-111 22 33"}, "later")
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/account/subs")
    subs = b.get("/settings/account/subs").get_data(as_text=True)
    assert "Your order is saved" in subs and "Next: Porting details" in subs
    resumed = b.get(b.draft_url)
    assert resumed.headers["Location"].endswith("/porting")
    assert 'value="070-111 22 33"' in b.get(resumed.headers["Location"]).get_data(as_text=True)


def test_save_and_finish_later_saves_a_valid_answer(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, MOBILE_TO_NUMBER)
    response = b.leave("number", {"choice": "new"}, "later")
    assert response.headers["Location"].endswith("/settings/account/subs")
    saved = answers_of(query, b)["number"]
    assert saved["choice"] == "new" and status_of(query, saved["e164"])[0] == "held"
    assert b.get(b.draft_url).headers["Location"].endswith("/sim")


def test_save_and_finish_later_with_htmx_loads_subs_as_a_page(buyer_as):
    b = at_porting(buyer_as)
    response = b.leave("porting", {"port_number": "070"}, "later", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith("/settings/account/subs")


def test_what_is_kept_is_text_only_and_bounded(buyer_as, query):
    b = at_porting(buyer_as)
    b.leave("porting", {"port_number": "0" * 500 + "\x00", "unknown_field": "x"}, "later")
    kept = prefill_of(query, b)["porting"]["typed"]
    assert set(kept) == {"port_number"} and len(kept["port_number"][0]) == 100
    assert "\x00" not in kept["port_number"][0]


def test_an_answer_saved_later_replaces_what_was_kept(buyer_as, query):
    b = at_porting(buyer_as)
    b.leave("porting", {"port_number": "070-111 22 33"}, "later")
    day = porting_day()
    response = b.answer(
        "porting",
        {"port_number": "070-111 22 33", "port_operator": "Telia", "port_date": day, "port_owner": "ours"},
    )
    assert response.status_code == 303, errors(response)
    assert "porting" not in prefill_of(query, b)
    assert "This is what you typed" not in b.get(b.step_url("porting")).get_data(as_text=True)


def test_error_summary_links_land_on_the_first_option_of_a_group(buyer_as):
    b = buyer_as("owner")
    b.start("mobile")
    walk(b, MOBILE_TO_NUMBER)
    response = b.answer("number", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#choice-0">Choose how to get a number</a>' in html and 'id="choice-0"' in html
    b.answer("number", {"choice": "port"})
    html = b.answer("porting", {"port_number": "070-111 22 33"}).get_data(as_text=True)
    assert '<a href="#port_owner-0">' in html and '<a href="#port_operator">' in html


def test_the_held_number_is_named_on_the_next_step_and_on_check_your_answers(buyer_as, clock, query):  # noqa: F811
    b = buyer_as("owner")
    b.start("fixed")
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("number", {"choice": "new"}),
        ],
    )
    e164 = answers_of(query, b)["number"]["e164"]
    pbx = b.get(b.step_url("pbx")).get_data(as_text=True).translate(SPACES)
    assert "Your number is 08-123 457 00. It is held for you until 10:30 AM." in pbx  # 09:00 UTC is 10:00 here
    walk(b, [("pbx", {"mode": "independent"}), ("user", {"user_id": "5"})])
    user_page = b.get(b.step_url("user")).get_data(as_text=True)
    assert "held for you until" not in user_page  # said once, after the Number step, and on the review
    review = b.get(b.step_url("review")).get_data(as_text=True).translate(SPACES)
    assert "Your number is 08-123 457 00. It is held for you until 10:30 AM." in review

    clock.advance(minutes=45)
    review = b.get(b.step_url("review")).get_data(as_text=True).translate(SPACES)
    assert "Your hold on 08-123 457 00 has run out. It is still free" in review
    assert status_of(query, e164)[2] < clock.now  # reading the page wrote nothing
    form = review[review.index('<div class="notice notice-warning held"') :]
    response = b.client.post(
        b.step_url("review"), data={"csrf_token": csrf_token(review), "version": hidden(form, "version")[0]}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/review")
    assert status_of(query, e164)[2] > clock.now  # held again
    review = b.get(b.step_url("review")).get_data(as_text=True).translate(SPACES)
    assert "It is held for you until 11:15 AM." in review


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            {
                "number": {
                    "choice": "port",
                    "e164": "+46701112233",
                    "port_number": "+46701112233",
                    "port_operator": "Telia",
                    "port_date": "2026-12-04",
                    "port_owner": "ours",
                },
                "user": {"user_id": "4", "mex_partner": "9"},
            },
            {
                "number": {"choice": "port"},
                "porting": {
                    "e164": "+46701112233",
                    "port_number": "+46701112233",
                    "port_operator": "Telia",
                    "port_date": "2026-12-04",
                    "port_owner": "ours",
                },
                "user": {"user_id": "4"},
                "mex": {"mex_partner": "9"},
            },
        ),
        ({"number": {"choice": "new", "number_id": "3", "e164": "+46701234000"}, "user": {"user_id": "4"}}, None),
    ],
)
def test_stored_orders_are_rewritten_into_the_new_steps_and_back(old, new):
    expected = new or old
    assert migration.split(old) == expected
    assert migration.joined(migration.split(old)) == old


def test_an_order_started_before_the_upgrade_resumes_at_the_right_step(app, buyer_as, query):
    b = at_porting(buyer_as)
    draft_id = b.draft_url.rsplit("/", 1)[-1]
    old_shape = {
        **answers_of(query, b),
        "number": {
            "choice": "port",
            "e164": "+46701112233",
            "port_number": "+46701112233",
            "port_operator": "Telia",
            "port_owner": "ours",
            "port_date": porting_day(),
        },
    }

    def rewrite(s):
        s.get(Draft, draft_id).answers = migration.split(old_shape)
        s.commit()

    query(rewrite)
    assert b.get(b.draft_url).headers["Location"].endswith("/sim")
    assert '<option selected value="Telia">' in b.get(b.step_url("porting")).get_data(as_text=True)
