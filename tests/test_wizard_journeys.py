"""Whole purchases as a buyer makes them, with plain form posts and CSRF on (as without JavaScript)."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.wizard_client import errors
from wizard import clock  # business dates are Stockholm dates, as the app's
from wizard.models import AuditEvent, Draft, MexPair, PhoneNumber, Sim, Subscription, User
from wizard.porting import earliest_porting_date

# A whole fixed order after the type, up to Check your answers (user 5 is Erik Lund).
FIXED_ORDER = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-fixed"}),
    ("number", {"choice": "new"}),
    ("pbx", {"mode": "independent"}),
    ("user", {"user_id": "5"}),
]
VALID_ICC = "89460712345678901230"
OTHER_ICC = "89460712345678901248"


def user_id(query, email):
    return str(query(lambda s: s.scalar(select(User.id).where(User.email == email))))


def number_id(query, e164):
    return str(query(lambda s: s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))))


def walk(b, steps):
    """Answer steps in order; each must move on (303)."""
    for key, data in steps:
        response = b.answer(key, data)
        assert response.status_code == 303, (key, response.status_code, errors(response))
    return response


def test_mobile_physical_sim_new_number_pbx_mex_with_anna(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    anna = user_id(query, "anna@nordlys.test")
    walk(
        b,
        [
            ("price_basis", {"basis": "bound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-20"}),
            ("number", {"choice": "new"}),
            ("sim", {"sim_kind": "physical", "icc": "8946 0712 3456 7890 1230"}),
            ("pbx", {"mode": "pbx", "mex": "y"}),
            ("user", {"user_id": anna}),
            ("mex", {"mex_partner": number_id(query, "+46812345670")}),
            ("top_up", {"top_up": "yes"}),
        ],
    )
    review = b.get(b.step_url("review")).get_data(as_text=True).replace("\u00a0", " ")
    assert "Anna Berg" in review and "MEX with 08-123 456 70" in review
    assert "Bound until" in review
    response = b.save()
    assert response.status_code == 303 and response.headers["Location"].endswith("/done")
    done = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Subscription ordered" in done

    def check(s):
        sub = s.scalar(select(Subscription))
        assert sub.kind == "mobile" and sub.price_basis == "bound" and sub.pbx and sub.top_up is True
        assert sub.number.status == "assigned" and sub.number.user_id == int(anna) and sub.number.pbx
        assert sub.binding_ends_on is not None
        sim = s.scalar(select(Sim))
        assert (sim.kind, sim.icc) == ("physical", VALID_ICC)
        pair = s.scalar(select(MexPair))
        assert pair.fixed_number.e164 == "+46812345670" and pair.mobile_number_id == sub.number_id
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.purchased"))
        assert audit.data["binding_accepted_until"] == sub.binding_ends_on.isoformat()  # ticked before Save
        assert s.scalar(select(Draft.status)) == "submitted"

    query(check)


def route_on_page(html: str) -> list[str]:
    """The steps the progress list names, by the step addresses it links to or marks as current."""
    nav = html[html.index('class="progress"') : html.index("</nav>", html.index('class="progress"'))]
    return re.findall(r'<li class="[^"]*"', nav)


def test_no_javascript_ported_mobile_with_a_physical_sim_takes_one_post_per_step(buyer_as, query):
    """Every follow-up question is in the page from the start: choosing "port", then the porting
    details, then "physical SIM" with its card number, each go in the one post of their step."""
    b = buyer_as("buyer")
    b.start("mobile")
    porting_day = earliest_porting_date("mobile", clock.today())
    steps = [
        ("price_basis", {"basis": "unbound"}),
        ("call_rate", {"code": "rate-variable"}),
        ("data_package", {"code": "data-5"}),
        ("number", {"choice": "port"}),
        (
            "porting",
            {
                "port_number": "070-111 22 33",
                "port_operator": "Telia",
                "port_owner": "other",
                "port_owner_org_number": "5560360793",
                "port_date": porting_day.isoformat(),
            },
        ),
        ("sim", {"sim_kind": "physical", "icc": VALID_ICC}),
        ("pbx", {"mode": "independent"}),
        ("user", {"user_id": user_id(query, "erik@nordlys.test")}),
        ("top_up", {"top_up": "no"}),
    ]
    walk(b, steps)
    review = b.get(b.step_url("review")).get_data(as_text=True)
    assert len(route_on_page(review)) == 1 + len(steps) + 1  # the type (answered at the start) and this page
    assert b.save().status_code == 303
    assert b.posts == [key for key, _data in steps]  # one POST per step, nothing re-posted

    def check(s):
        sub = s.scalar(select(Subscription))
        assert sub.number.e164 == "+46701112233" and sub.porting_status == "submitted"
        assert sub.porting_date == porting_day and sub.binding_ends_on is None
        assert s.scalar(select(Sim.icc)) == VALID_ICC

    query(check)


def test_no_javascript_fixed_pbx_with_mex_takes_one_post_per_step(buyer_as, query):
    """MEX turned on in the PBX step's one post; the user, then which of their numbers to pair with."""
    b = buyer_as("owner")
    anna = user_id(query, "anna@nordlys.test")
    b.start("mobile")  # first a PBX mobile for Anna, for the fixed number to pair with
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "new"}),
            ("sim", {"sim_kind": "esim"}),
            ("pbx", {"mode": "pbx"}),
            ("user", {"user_id": anna}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    assert b.save().status_code == 303
    mobile = str(query(lambda s: s.scalar(select(Subscription.number_id))))
    b.posts.clear()
    b.start("fixed")
    steps = [
        ("price_basis", {"basis": "unbound"}),
        ("call_rate", {"code": "rate-fixed"}),
        ("number", {"choice": "new"}),
        ("pbx", {"mode": "pbx", "mex": "y"}),
        ("user", {"user_id": anna}),
        ("mex", {"mex_partner": mobile}),
    ]
    walk(b, steps)
    review = b.get(b.step_url("review")).get_data(as_text=True)
    assert len(route_on_page(review)) == 1 + len(steps) + 1
    assert b.save().status_code == 303
    assert b.posts == [key for key, _data in steps]

    def check(s):
        pair = s.scalar(select(MexPair))
        fixed = s.scalar(select(Subscription).where(Subscription.kind == "fixed"))
        assert pair.mobile_number_id == int(mobile) and pair.fixed_number_id == fixed.number_id

    query(check)


def test_mobile_esim_with_a_ported_number(buyer_as, query):
    b = buyer_as("buyer")
    b.start("mobile")
    porting_day = earliest_porting_date("mobile", clock.today())
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-variable"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "port"}),
            (
                "porting",
                {
                    "port_number": "070-111 22 33",
                    "port_operator": "Telia",
                    "port_owner": "ours",
                    "port_date": porting_day.isoformat(),
                },
            ),
            ("sim", {"sim_kind": "esim"}),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": user_id(query, "erik@nordlys.test")}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    assert b.save().status_code == 303

    def check(s):
        sub = s.scalar(select(Subscription))
        assert sub.number.e164 == "+46701112233" and sub.porting_status == "submitted"
        assert sub.porting_date == porting_day and sub.binding_ends_on is None
        code = s.scalar(select(Sim.activation_code))
        assert re.fullmatch(r"LPA:1\$[a-z0-9.-]+\$[0-9A-F-]+", code)

    query(check)


def test_fixed_subscription_has_no_sim_data_or_top_up_steps(buyer_as, query):
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
    assert b.get(b.step_url("number")).status_code == 200
    response = b.answer("pbx", {"mode": "independent"})
    assert response.headers["Location"].endswith("/user")
    response = b.answer("user", {"user_id": user_id(query, "erik@nordlys.test")})
    assert response.headers["Location"].endswith("/review")
    review = b.get(b.step_url("review")).get_data(as_text=True)
    for absent in ("Data package", "SIM", "Top-up"):
        assert f"<dt>{absent}</dt>" not in review
    assert b.save().status_code == 303
    assert query(lambda s: s.scalar(select(Subscription.kind))) == "fixed"
    assert query(lambda s: s.scalar(select(func.count()).select_from(Sim))) == 0


def test_bound_prices_are_refused_without_a_contract(buyer_as):
    b = buyer_as("fjord")
    b.start("mobile")
    page = b.get(b.step_url("price_basis")).get_data(as_text=True)
    assert re.search(r'value="bound"[^>]*disabled', page)
    assert "has no active contract" in page
    response = b.answer("price_basis", {"basis": "bound"})
    assert response.status_code == 422
    assert "Bound prices need an active contract. Choose unbound." in errors(response)


def test_stop_after_step_four_and_resume_later(app, buyer_as, query):
    b = buyer_as("buyer")
    b.start("mobile")
    walk(
        b,
        [
            ("price_basis", {"basis": "bound"}),
            ("call_rate", {"code": "rate-variable"}),
            ("data_package", {"code": "data-unlimited"}),
        ],
    )
    draft_url = b.draft_url
    b.logout()
    again = buyer_as("buyer")
    subs = again.get("/settings/account/subs").get_data(as_text=True)
    assert "Next: Number (step" in subs and "Resume" in subs  # the count itself: test_subs_page.py
    resume = again.get(draft_url)
    assert resume.status_code == 302 and resume.headers["Location"].endswith("/number")
    kept = again.get(f"{draft_url}/data_package").get_data(as_text=True)
    assert re.search(r'value="data-unlimited"\s+checked', kept)


def test_two_tabs_the_stale_one_is_told_and_nothing_is_overwritten(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    stale_page = b.get(b.step_url("price_basis")).get_data(as_text=True)
    assert b.answer("price_basis", {"basis": "bound"}).status_code == 303
    from tests.conftest import csrf_token

    version = re.search(r'name="version" value="(\d+)"', stale_page).group(1)
    response = b.client.post(
        b.step_url("price_basis"), data={"csrf_token": csrf_token(stale_page), "version": version, "basis": "unbound"}
    )
    assert response.status_code == 409
    assert "changed in another tab" in response.get_data(as_text=True)
    answers = query(lambda s: s.scalar(select(Draft.answers)))
    assert answers["price_basis"] == {"basis": "bound"}


def test_switching_mobile_to_fixed_drops_what_no_longer_applies_and_says_so(buyer_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "new"}),
            ("sim", {"sim_kind": "esim"}),
        ],
    )
    held = query(lambda s: s.scalar(select(PhoneNumber.e164).where(PhoneNumber.status == "held")))
    assert held.startswith("+467")
    response = b.answer("type", {"kind": "fixed"})
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "removed answers that no longer apply" in page
    for title in ("Data package", "Number", "SIM"):
        assert title in page
    answers = query(lambda s: s.scalar(select(Draft.answers)))
    assert set(answers) == {"type", "price_basis", "call_rate"}
    assert query(lambda s: s.scalar(select(PhoneNumber.status).where(PhoneNumber.e164 == held))) == "free"


def test_other_organisations_and_colleagues_get_404(buyer_as):
    owner = buyer_as("owner")
    owner.start("mobile")
    for who in ("fjord", "buyer"):
        other = buyer_as(who)
        assert other.get(owner.draft_url).status_code == 404
        assert other.get(owner.step_url("price_basis")).status_code == 404
    assert buyer_as("staff").get(owner.draft_url).status_code == 403


def test_owner_sees_and_resumes_a_colleagues_draft(buyer_as):
    buyer = buyer_as("buyer")
    buyer.start("fixed")
    owner = buyer_as("owner")
    subs = owner.get("/settings/account/subs").get_data(as_text=True)
    assert "by Björn Sandberg" in subs
    assert owner.get(buyer.draft_url).status_code == 302


def test_jumping_ahead_by_url_goes_to_the_first_unanswered_step(buyer_as):
    b = buyer_as("owner")
    b.start("mobile")
    response = b.get(b.step_url("user"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/price_basis")
    assert b.get(b.step_url("no-such-step")).status_code in (303, 404)


def test_change_link_returns_to_check_your_answers(buyer_as):
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    response = b.answer("call_rate", {"code": "rate-variable"}, extra={"return": "review"})
    assert response.headers["Location"].endswith("/review")


def test_save_twice_gives_one_subscription(buyer_as, query):
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    page = b.get(b.step_url("review")).get_data(as_text=True)
    from tests.conftest import csrf_token

    data = {"csrf_token": csrf_token(page), "version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    first = b.client.post(f"{b.draft_url}/save", data=data)
    second = b.client.post(f"{b.draft_url}/save", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert query(lambda s: s.scalar(select(func.count()).select_from(Subscription))) == 1


def test_save_refuses_answers_changed_after_they_were_checked(buyer_as, query):
    """Tab A checks the answers; tab B changes the data package; tab A's Save buys nothing."""
    b = buyer_as("owner")
    b.start("mobile")
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "new"}),
            ("sim", {"sim_kind": "esim"}),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": "5"}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    from tests.conftest import csrf_token

    checked = b.get(b.step_url("review")).get_data(as_text=True)
    assert b.answer("data_package", {"code": "data-unlimited"}, extra={"return": "review"}).status_code == 303
    response = b.client.post(
        f"{b.draft_url}/save",
        data={
            "csrf_token": csrf_token(checked),
            "version": re.search(r'name="version" value="(\d+)"', checked).group(1),
        },
    )
    assert response.status_code == 409
    assert "changed in another tab" in response.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count()).select_from(Subscription))) == 0
    assert b.save().status_code == 303, "after reloading, Save buys what is shown"


def test_save_rechecks_answers_against_current_data(buyer_as, query, app):
    """An ICC used by another order meanwhile is reported on the SIM step, and nothing is bought."""
    first, second = buyer_as("owner"), buyer_as("buyer")
    common = [
        ("price_basis", {"basis": "unbound"}),
        ("call_rate", {"code": "rate-fixed"}),
        ("data_package", {"code": "data-5"}),
        ("number", {"choice": "new"}),
        ("sim", {"sim_kind": "physical", "icc": OTHER_ICC}),
        ("pbx", {"mode": "independent"}),
        ("user", {"user_id": user_id(query, "erik@nordlys.test")}),
        ("top_up", {"top_up": "no"}),
    ]
    for b in (first, second):
        b.start("mobile")
        walk(b, common)
    assert first.save().status_code == 303
    response = second.save()
    assert response.headers["Location"].endswith("/sim?recheck=1")
    page = second.get(response.headers["Location"])
    assert page.status_code == 422
    assert "This SIM card is already in use for 070-123 40 0" in page.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count()).select_from(Subscription))) == 1


def test_discard_asks_then_frees_the_number(buyer_as, query):
    b = buyer_as("owner")
    b.start("fixed")
    walk(
        b, [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"}), ("number", {"choice": "new"})]
    )
    confirm = b.get(f"{b.draft_url}/discard")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    response = b.submit(
        f"{b.draft_url}/discard",
        {"version": re.search(r'name="version" value="(\d+)"', confirm.get_data(as_text=True)).group(1)},
    )
    assert response.status_code == 303
    assert "You have no unfinished orders." in b.get("/settings/account/subs").get_data(as_text=True)
    assert (
        query(lambda s: s.scalar(select(func.count()).select_from(PhoneNumber).where(PhoneNumber.status == "held")))
        == 0
    )
    assert b.get(b.draft_url).status_code == 404


def test_purge_drafts_removes_old_drafts_and_releases_holds(buyer_as, query, runner):
    b = buyer_as("owner")
    b.start("fixed")
    walk(
        b, [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"}), ("number", {"choice": "new"})]
    )
    fresh = buyer_as("owner")
    fresh.start("mobile")

    def age_first(s):
        draft = s.scalar(select(Draft).where(Draft.answers["type"]["kind"].as_string() == "fixed"))
        draft.updated_at = draft.updated_at - timedelta(days=31)
        s.commit()

    query(age_first)
    result = runner.invoke(args=["purge-drafts"])
    assert "Purged 1 draft" in result.output
    assert query(lambda s: s.scalar(select(func.count()).select_from(Draft))) == 1
    assert (
        query(lambda s: s.scalar(select(func.count()).select_from(PhoneNumber).where(PhoneNumber.status == "held")))
        == 0
    )


def test_one_buyer_cannot_open_unlimited_orders(app, buyer_as, query):
    app.config["MAX_OPEN_DRAFTS_PER_USER"] = 3
    b = buyer_as("buyer")
    for _ in range(3):
        b.start("mobile")
    page = b.get("/settings/account/subs").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = b.client.post("/settings/account/subs/orders", data={"csrf_token": csrf_token(page), "kind": "fixed"})
    assert response.headers["Location"].endswith("/settings/account/subs")
    assert "Finish or discard one before you start another." in b.get("/settings/account/subs").get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count()).select_from(Draft))) == 3
