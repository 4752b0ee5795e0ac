"""Deep links (README, "Deep links"): `.../orders/new?type=mobile&user=<e-mail>&number=new` shows
what it fills in and writes nothing; its Start button starts the order with the type answered and
the other values pre-selected on their steps, each checked as the buyer's own choice would be."""

from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from tests.conftest import csrf_token
from tests.pages import h1, notices
from tests.pages import page as read
from tests.test_browser import chromium, console, live_server, log_in, new_context, page, shot  # noqa: F401
from tests.test_wizard_journeys import user_id, walk
from wizard.db import Base
from wizard.models import Draft, PhoneNumber, User

NEW = "/settings/account/subs/orders/new"
SUBS = "/settings/account/subs"
ANNA = "anna@nordlys.test"
UP_TO_NUMBER = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-fixed"}),
    ("data_package", {"code": "data-5"}),
]
NUMBER_TO_USER = [("number", {"choice": "new"}), ("sim", {"sim_kind": "esim"}), ("pbx", {"mode": "independent"})]
NOT_FOUND = (
    "The link you followed named the user “{}”, but nobody who can be chosen in your organisation "
    "has that e-mail address. Choose a user."
)


def link(**params) -> str:
    return f"{NEW}?{urlencode(params)}"


def rows(query) -> dict:
    """How many rows every table has, and how many numbers are held."""
    counts = {
        t.name: query(lambda s, t=t: s.scalar(select(func.count()).select_from(t))) for t in Base.metadata.sorted_tables
    }
    counts["held numbers"] = held(query)
    return counts


def held(query) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(PhoneNumber).where(PhoneNumber.status == "held")))


def drafts(query) -> list[Draft]:
    return query(lambda s: list(s.scalars(select(Draft))))


def start_form(response) -> dict:
    """The fields the link page's Start form sends (its CSRF token and the link's values)."""
    form = read(response).find("form", action=NEW)
    assert form is not None
    return {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input")}


def follow(buyer, address, kind=None):
    """Open a deep link and press Start (or, when the link chose no valid type, Start a `kind` order)."""
    data = start_form(buyer.get(address))
    if kind:
        data["type"] = kind
    response = buyer.client.post(NEW, data=data)
    assert response.status_code == 303, response.status_code
    buyer.draft_url = response.headers["Location"].rsplit("/", 1)[0]
    return response


def summary(doc) -> dict:
    """What the link page says it fills in: step title -> value in words."""
    return {row.find("dt").text(): row.find("dd").text() for row in doc.find_all(cls="summary-row")}


def not_used(doc) -> list[str]:
    section = doc.find("section", aria_labelledby="not-used-heading")
    return [li.text() for li in section.find_all("li")] if section else []


def checked(doc, name) -> list[str]:
    return [i.attrs["value"] for i in doc.find_all("input", name=name, checked=True)]


def selected_user(doc) -> str | None:
    option = doc.find("select", name="user_id").find("option", selected=True)
    return option.attrs["value"] if option else None


def test_the_link_page_says_what_it_fills_in_and_writes_nothing(buyer_as, query):
    buyer = buyer_as("owner")
    before = rows(query)
    response = buyer.get(link(type="mobile", user=ANNA, number="new", colour="red"))
    assert response.status_code == 200
    doc = read(response)
    assert h1(doc) == "Start a new order"
    assert summary(doc) == {
        "Subscription type": "Mobile",
        "User": f"Anna Berg ({ANNA})",
        "Number": "A new number",
    }
    assert not_used(doc) == ["Not recognised, so ignored: colour."]
    assert rows(query) == before
    assert drafts(query) == []


def test_start_answers_the_type_and_preselects_user_and_number_on_their_steps(buyer_as, query):
    buyer = buyer_as("owner")
    started = follow(buyer, link(type="mobile", user=ANNA, number="new"))
    assert started.headers["Location"].endswith("/price_basis")
    (draft,) = drafts(query)
    assert draft.answers == {"type": {"kind": "mobile"}}
    assert held(query) == 0  # a link never holds a number

    moved = walk(buyer, UP_TO_NUMBER)
    assert moved.headers["Location"].endswith("/number")  # nothing the buyer must answer is skipped
    assert buyer.get(buyer.step_url("review")).headers["Location"].endswith("/number")
    number_page = read(buyer.get(buyer.step_url("number")))
    assert checked(number_page, "choice") == ["new"]
    assert notices(number_page) == []
    assert held(query) == 0  # held only when the buyer saves the Number step

    walk(buyer, NUMBER_TO_USER)
    assert held(query) == 1
    user_page = read(buyer.get(buyer.step_url("user")))
    anna = user_id(query, ANNA)
    assert selected_user(user_page) == anna
    walk(buyer, [("user", {"user_id": selected_user(user_page)}), ("top_up", {"top_up": "no"})])
    review = buyer.get(buyer.step_url("review")).get_data(as_text=True)
    assert "Anna Berg" in review


NOTHING_CHOSEN = {
    "type": lambda doc: checked(doc, "kind") == [],
    "number": lambda doc: checked(doc, "choice") == [],
    "user": lambda doc: selected_user(doc) is None,
}


@pytest.mark.parametrize(
    "params, step, message",
    [
        (
            {"type": "tablet"},
            "type",
            "The link you followed asked for the subscription type “tablet”, which is not offered. "
            "Choose mobile or fixed.",
        ),
        ({"type": "mobile", "user": "nobody@nordlys.test"}, "user", NOT_FOUND.format("nobody@nordlys.test")),
        ({"type": "mobile", "user": "owner@fjord.test"}, "user", NOT_FOUND.format("owner@fjord.test")),
        (
            {"type": "mobile", "number": "golden"},
            "number",
            "The link you followed asked for the number choice “golden”, which is not offered. "
            "Choose how to get a number.",
        ),
    ],
    ids=["type not offered", "unknown user", "another organisation's person", "number choice not offered"],
)
def test_a_value_that_fails_is_dropped_and_explained_on_its_step(buyer_as, query, params, step, message):
    buyer = buyer_as("owner")
    response = buyer.client.post(NEW, data={"csrf_token": csrf_token(buyer.get(NEW).get_data(as_text=True)), **params})
    assert response.status_code == 303
    buyer.draft_url = response.headers["Location"].rsplit("/", 1)[0]
    (draft,) = drafts(query)
    assert draft.answers == ({} if step == "type" else {"type": {"kind": "mobile"}})
    if step != "type":
        assert notices(read(buyer.get(buyer.step_url("price_basis")))) == []  # not on other steps
        walk(buyer, UP_TO_NUMBER + (NUMBER_TO_USER if step == "user" else []))
    shown = buyer.get(buyer.step_url(step))
    doc = read(shown)
    assert notices(doc) == [message]
    assert "Fjord" not in doc.text()  # another organisation's person is not revealed
    assert NOTHING_CHOSEN[step](doc)


def test_the_message_goes_once_the_step_is_answered(buyer_as, query):
    buyer = buyer_as("owner")
    follow(buyer, link(type="mobile", number="golden"))
    walk(buyer, UP_TO_NUMBER)
    assert len(notices(read(buyer.get(buyer.step_url("number"))))) == 1
    walk(buyer, [("number", {"choice": "new"})])
    assert notices(read(buyer.get(buyer.step_url("number")))) == []


def test_the_link_page_explains_what_it_cannot_use(buyer_as, query):
    query(lambda s: (s.execute(update(User).where(User.email == ANNA).values(active=False)), s.commit()))
    buyer = buyer_as("owner")
    doc = read(buyer.get(link(type="tablet", user=ANNA, number="golden")))
    assert summary(doc) == {}
    assert not_used(doc) == [
        "The link you followed asked for the subscription type “tablet”, which is not offered. Choose mobile or fixed.",
        "The link you followed asked for the number choice “golden”, which is not offered. Choose how to get a number.",
        NOT_FOUND.format(ANNA),  # switched off: the buyer could not choose Anna either
    ]
    buttons = [b.text() for b in doc.find("form", action=NEW).find_all("button")]
    assert buttons == ["Start a mobile order", "Start a fixed order"]


def test_without_values_the_link_page_offers_mobile_and_fixed(buyer_as, query):
    buyer = buyer_as("owner")
    started = follow(buyer, NEW, kind="fixed")
    assert started.headers["Location"].endswith("/price_basis")
    (draft,) = drafts(query)
    assert draft.answers == {"type": {"kind": "fixed"}}
    assert draft.prefill is None  # nothing for later steps


def test_a_person_without_the_account_permission_gets_the_403(login_as, query):
    staff = login_as("staff")
    shown = staff.get(link(type="mobile"))
    assert shown.status_code == 403
    assert h1(read(shown)) == "You do not have permission to see this page"
    posted = staff.client.post(NEW, data={"csrf_token": csrf_token(shown.get_data(as_text=True)), "type": "mobile"})
    assert posted.status_code == 403
    assert drafts(query) == []


def test_the_start_needs_the_forms_csrf_token(login_as, query):
    owner = login_as("owner")
    response = owner.client.post(NEW, data={"type": "mobile", "user": ANNA})
    assert response.status_code == 400
    assert "The form was too old or was not sent from this site." in read(response).text()
    assert drafts(query) == []


def test_the_open_order_limit_holds_for_links(app, buyer_as, query):
    app.config["MAX_OPEN_DRAFTS_PER_USER"] = 2
    buyer = buyer_as("buyer")
    follow(buyer, link(type="mobile"))
    follow(buyer, link(type="fixed", number="new"))
    refused = buyer.client.post(NEW, data=start_form(buyer.get(link(type="mobile"))))
    assert refused.status_code == 303 and refused.headers["Location"].endswith(SUBS)
    assert "You have 2 unfinished orders. Finish or discard one before you start another." in notices(
        read(buyer.get(SUBS))
    )
    assert len(drafts(query)) == 2


def serious_violations(page) -> list:  # noqa: F811  (the browser page fixture's name)
    """axe-core's serious and critical findings on the page."""
    found = Axe().run(page).response["violations"]
    return [(v["id"], v["help"]) for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
def test_a_deep_link_in_a_browser(live_server, page, console):  # noqa: F811  (fixtures imported above)
    """The link page, then the order it starts with the dropped number choice explained on the
    Number step (reached with htmx), and a GET to a POST-only address: each without axe findings."""
    console.expect_status(405)
    log_in(page, live_server)
    page.goto(f"{live_server}{link(type='mobile', user=ANNA, number='golden', colour='red')}")
    expect(page.get_by_role("heading", level=1, name="Start a new order")).to_be_visible()
    expect(page.get_by_text("Anna Berg (anna@nordlys.test)")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "deep-link")
    page.get_by_role("button", name="Start the order").click()
    for label, following in [("Unbound: current price list", "Call rate"), ("Fixed call rate", "Data package")]:
        page.get_by_label(label).check()
        page.get_by_role("button", name="Save and continue").click()
        expect(page.get_by_role("heading", level=1, name=following)).to_be_visible()
    page.get_by_label("5 GB").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1, name="Number")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="number choice “golden”")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "deep-link-number-step")

    page.goto(f"{live_server}/logout")
    expect(page.get_by_role("heading", level=1, name="This address cannot be opened like that")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "error-405")
