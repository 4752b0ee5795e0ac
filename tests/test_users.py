"""Users & Teams → Users: search, paging, permissions, and MEX on a user (Done, then Save)."""

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser, csrf_token
from tests.wizard_client import errors
from wizard import forms, mex, users_view
from wizard.models import AuditEvent, MexPair, Organisation, PhoneNumber, User
from wizard.passwords import hash_password

MEX_EVENTS = AuditEvent.action.like("mex.%")  # logins are audited too

ANNA_FIXED = "+46812345670"
ANNA_MOBILE = "+46709990001"
NORDLYS, FJORD = "556677-8899", "923609016"


# --------------------------------------------------------------------------- helpers


def org_id(s, org_number=NORDLYS):
    return s.scalar(select(Organisation.id).where(Organisation.org_number == org_number))


def user_id(query, email):
    return query(lambda s: s.scalar(select(User.id).where(User.email == email)))


def number_id(query, e164):
    return query(lambda s: s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164)))


def add_number(query, e164, kind="mobile", email="anna@nordlys.test", pbx=True, org_number=NORDLYS):
    """A number assigned to a user, inserted directly (as if bought earlier)."""

    def _add(s):
        owner = s.scalar(select(User).where(User.email == email)) if email else None
        number = PhoneNumber(
            e164=e164,
            kind=kind,
            status="assigned",
            organisation_id=org_id(s, org_number),
            user_id=owner.id if owner else None,
            pbx=pbx,
        )
        s.add(number)
        s.commit()
        return number.id

    return query(_add)


def add_pair(query, fixed_e164, mobile_e164, email="anna@nordlys.test"):
    def _add(s):
        ids = {
            n.e164: n.id for n in s.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_([fixed_e164, mobile_e164])))
        }
        s.add(
            MexPair(
                organisation_id=org_id(s),
                user_id=s.scalar(select(User.id).where(User.email == email)),
                fixed_number_id=ids[fixed_e164],
                mobile_number_id=ids[mobile_e164],
            )
        )
        s.commit()

    query(_add)


def pairs(query):
    return query(lambda s: [(p.fixed_number.e164, p.mobile_number.e164) for p in s.scalars(select(MexPair))])


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True).replace("\u00a0", " "))


def pending_inputs(response):
    return dict(re.findall(r'name="(pending-\d+)" value="([^"]*)"', response.get_data(as_text=True)))


class Panel:
    """A user's panel as a browser without JavaScript uses it: every button posts the whole form."""

    def __init__(self, browser: Browser, uid: int):
        self.b, self.uid = browser, uid
        self.page = browser.get(f"/settings/users/{uid}")
        self.fields = pending_inputs(self.page)

    def press(self, action, data=None, **kwargs):
        post = {"csrf_token": csrf_token(self.page.get_data(as_text=True)), **self.fields, **(data or {})}
        url = f"/settings/users/{self.uid}/mex" + ("" if action == "save" else "/preview")
        response = self.b.client.post(url, data=post, **kwargs)
        if response.status_code in (200, 422):
            self.page, self.fields = response, pending_inputs(response)
        return response

    def connect(self, fixed_id, typed, **kwargs):
        """Pen, type under Connected, Done."""
        assert self.press("preview", {"edit": str(fixed_id)}).status_code == 200
        return self.press("preview", {"done": str(fixed_id), f"connected-{fixed_id}": typed}, **kwargs)


@pytest.fixture
def anna(query):
    return user_id(query, "anna@nordlys.test")


@pytest.fixture
def anna_fixed(query):
    return number_id(query, ANNA_FIXED)


@pytest.fixture
def users_admin(app, query):
    """A colleague with only the `users` permission, logged in."""

    def _add(s):
        s.add(
            User(
                organisation_id=org_id(s),
                email="ulla@nordlys.test",
                name="Ulla Admin",
                password_hash=hash_password("ulla-users-pw"),
                permissions="users",
            )
        )
        s.commit()

    with app.app_context():
        query(_add)
    b = Browser(app.test_client())
    assert b.login("ulla@nordlys.test", "ulla-users-pw").status_code == 302
    return b


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("buyer", 403), ("staff", 403)])
def test_users_pages_need_the_users_permission(login_as, anna, who, status):
    b = login_as(who)
    assert b.get("/settings/users").status_code == status
    assert b.get(f"/settings/users/{anna}").status_code == status


def test_a_colleague_with_the_users_permission_may_pair(users_admin, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    assert users_admin.get("/settings/users").status_code == 200
    panel = Panel(users_admin, anna)
    assert panel.connect(anna_fixed, "070-999 00 01").status_code == 200
    assert panel.press("save").status_code == 303
    assert pairs(query) == [(ANNA_FIXED, ANNA_MOBILE)]


def test_account_permission_alone_may_not_post(login_as, anna, anna_fixed):
    owner = login_as("owner")
    page = owner.get(f"/settings/users/{anna}")
    buyer = login_as("buyer")
    token = csrf_token(buyer.get("/settings/account/subs").get_data(as_text=True))
    for url in (f"/settings/users/{anna}/mex/preview", f"/settings/users/{anna}/mex"):
        response = buyer.client.post(url, data={"csrf_token": token, f"pending-{anna_fixed}": ""})
        assert response.status_code == 403
    assert page.status_code == 200


def test_another_organisations_user_is_not_found(login_as, anna, anna_fixed):
    fjord = login_as("fjord")
    assert fjord.get(f"/settings/users/{anna}").status_code == 404
    assert fjord.get("/settings/users/not-a-number").status_code == 404
    token = csrf_token(fjord.get("/settings/users").get_data(as_text=True))
    for url in (f"/settings/users/{anna}/mex/preview", f"/settings/users/{anna}/mex"):
        assert fjord.client.post(url, data={"csrf_token": token, "edit": str(anna_fixed)}).status_code == 404
    listing = text(fjord.get("/settings/users?q=anna"))
    assert "Anna Berg" not in listing and "0 users match" in listing


def test_another_organisations_number_id_is_not_found(login_as, query, anna):
    fjord_number = add_number(query, "+4721000000", kind="fixed", email="owner@fjord.test", org_number=FJORD)
    panel = Panel(login_as("owner"), anna)
    assert panel.press("preview", {"edit": str(fjord_number)}).status_code == 404
    assert panel.press("save", {f"pending-{fjord_number}": ANNA_MOBILE}).status_code == 404
    assert panel.press("preview", {"done": "999999", "connected-999999": ANNA_MOBILE}).status_code == 404


def test_views_posts_need_csrf(login_as, anna, anna_fixed):
    b = login_as("owner")
    response = b.client.post(f"/settings/users/{anna}/mex/preview", data={"edit": str(anna_fixed)})
    assert response.status_code == 400


# --------------------------------------------------------------------------- search and paging


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("anna", {"Anna Berg"}),
        ("BERG", {"Anna Berg", "Björn Sandberg"}),
        ("LUND", {"Erik Lund"}),
        ("erik@nordlys", {"Erik Lund"}),
        ("nordlys.test", {"Nora Lindqvist", "Björn Sandberg", "Sara Holm", "Anna Berg", "Erik Lund"}),
        ("08-123 456 70", {"Anna Berg"}),
        ("+46 8 123 456 70", {"Anna Berg"}),
        ("45670", {"Anna Berg"}),
        ("100%", set()),
        ("zzz", set()),
    ],
)
def test_search_by_name_email_or_number(login_as, q, expected):
    html = login_as("owner").get("/settings/users", query_string={"q": q}).get_data(as_text=True)
    listed = set(re.findall(r'class="expand-icon" aria-hidden="true">›</span> ([^<]+)</a>', html))
    assert listed == expected


def test_search_without_javascript_is_a_plain_get_form(login_as):
    html = login_as("owner").get("/settings/users").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/settings/users"[^>]*>(.*?)</form>', html, re.S)
    assert form and 'name="q"' in form.group(1) and 'type="submit"' in form.group(1)
    assert 'hx-trigger="input changed delay:300ms"' in form.group(1)


def test_live_search_answers_htmx_with_the_list_only(login_as):
    response = login_as("owner").get("/settings/users?q=erik", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="user-list"')
    assert "Erik Lund" in html and "Anna Berg" not in html
    assert response.headers["HX-Replace-Url"] == "/settings/users?q=erik"


def test_users_are_paged_and_the_pager_keeps_the_query(login_as, query):
    def _many(s):
        nordlys = org_id(s)
        s.add_all(
            [
                User(organisation_id=nordlys, email=f"tester{i:02d}@nordlys.test", name=f"Tester {i:02d}")
                for i in range(45)
            ]
        )
        s.commit()

    query(_many)
    b = login_as("owner")

    def names(html):
        return re.findall(r'class="expand-icon" aria-hidden="true">›</span> ([^<]+)</a>', html)

    first = b.get("/settings/users?q=tester").get_data(as_text=True)
    assert names(first) == [f"Tester {i:02d}" for i in range(20)]
    assert 'href="/settings/users?q=tester&amp;page=2" rel="next"' in first and 'rel="prev"' not in first
    assert "Page 1 of 3" in first and "45 users match" in first
    last = b.get("/settings/users?q=tester&page=3").get_data(as_text=True)
    assert names(last) == [f"Tester {i:02d}" for i in range(40, 45)]
    assert 'href="/settings/users?q=tester&amp;page=2" rel="prev"' in last and 'rel="next"' not in last
    assert names(b.get("/settings/users?q=tester&page=99").get_data(as_text=True)) == names(last)
    assert "Page 1 of 3" in b.get("/settings/users?page=x").get_data(as_text=True)  # 50 users in all


# --------------------------------------------------------------------------- the panel


def test_expanding_shows_subscriptions_and_numbers(buyer_as, login_as, query, anna):
    from tests.test_wizard_journeys import walk

    b = buyer_as("owner")
    b.start("mobile")
    walk(
        b,
        [
            ("price_basis", {"basis": "bound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-20"}),
            ("number", {"choice": "new"}),
            ("sim", {"sim_kind": "esim"}),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": str(anna)}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    assert b.save().status_code == 303
    page = text(login_as("owner").get(f"/settings/users/{anna}"))
    assert "Subscriptions & Numbers" in page and "Phone Numbers" in page
    for shown in (
        "Mobile",
        "Bound (contract prices)",
        "20 GB",
        "Active",
        "Not ported",
        "08-123 456 70",
        "070-123 40 00",
        "PBX-integrated",
        "Independent",
        "PBX features off: no line state or call transfer",
    ):
        assert shown in page, shown
    assert "Edit 08-123 456 70" in re.sub(r"<[^>]+>", "", page).replace("✎ ", "").replace("  ", " ")


def test_expanding_with_htmx_gives_the_panel_and_pushes_its_url(login_as, anna):
    response = login_as("owner").get(f"/settings/users/{anna}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html and "data-autofocus" in html
    assert response.headers["HX-Push-Url"] == f"/settings/users/{anna}"


def test_edit_pen_opens_the_editor_with_the_current_partner(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    add_pair(query, ANNA_FIXED, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    assert "MEX: +46 70 999 00 01 ↔ +46 8 123 456 70" in text(panel.page)
    html = panel.press("preview", {"edit": str(anna_fixed)}).get_data(as_text=True)
    assert re.search(rf'<label for="connected-{anna_fixed}">Connected</label>', html)
    assert f'name="connected-{anna_fixed}" value="070-999 00 01"' in html.replace("\u00a0", " ")
    assert 'name="edit"' not in html  # one editor at a time: Enter in the field means Done


# The MEX rules, each with a clear message beside the Connected field (and nothing stored).
def _independent(query):
    add_number(query, "+46709990002", pbx=False)


def _erik(query):
    add_number(query, "+46709990003", email="erik@nordlys.test")


def _fjord(query):
    add_number(query, "+4791234567", email="owner@fjord.test", org_number=FJORD)


def _paired_elsewhere(query):
    add_number(query, "+46812345699", kind="fixed")
    add_number(query, "+46709990004")
    add_pair(query, "+46812345699", "+46709990004")


def _reserved(query):
    pass  # +46731234500 is reserved for Nordlys but not assigned to anyone


@pytest.mark.parametrize(
    ("setup", "typed", "message"),
    [
        (None, "12", "Enter a real phone number"),
        (None, "hello", "Enter a real phone number"),
        (None, "08-123 457 00", "That is not a mobile number"),  # a fixed number in the mobile field
        (None, ANNA_FIXED, "That is not a mobile number"),
        (None, "070-123 40 05", "not one of your organisation"),  # a free number of the pool
        (_fjord, "+47 912 34 567", "not one of your organisation"),  # no hint that another tenant has it
        (_independent, "070-999 00 02", "is independent (not connected to the PBX)"),
        (_erik, "070-999 00 03", "does not belong to Anna Berg"),
        (_reserved, "073-123 45 00", "does not belong to Anna Berg"),
        (_paired_elsewhere, "070-999 00 04", "already connected (MEX) to another number"),
    ],
)
def test_mex_rules(login_as, query, anna, anna_fixed, setup, typed, message):
    if setup:
        setup(query)
    panel = Panel(login_as("owner"), anna)
    response = panel.connect(anna_fixed, typed)
    assert response.status_code == 422
    assert [message in e for e in errors(response)] == [True], errors(response)
    html = response.get_data(as_text=True)
    assert f'aria-describedby="connected-{anna_fixed}-hint connected-{anna_fixed}-error"' in html
    assert f'value="{typed}"' in html  # what was typed stays
    assert pending_inputs(response) == {} and "data-unsaved" not in html
    before = len(pairs(query))
    assert panel.press("save", {f"pending-{anna_fixed}": typed}).status_code == 422  # Save re-validates too
    assert len(pairs(query)) == before


@pytest.mark.parametrize("typed", ["070-999 00 01", "0709990001", "+46 70 999 00 01", "+46709990001", " 070 999 0001 "])
def test_any_common_format_is_accepted_and_shown_normalised(login_as, query, anna, anna_fixed, typed):
    add_number(query, ANNA_MOBILE)
    response = Panel(login_as("owner"), anna).connect(anna_fixed, typed)
    assert response.status_code == 200
    assert pending_inputs(response) == {f"pending-{anna_fixed}": ANNA_MOBILE}
    assert "Pending: connect 070-999 00 01 to 08-123 456 70 (not saved)" in text(response)


def test_done_stores_nothing_and_save_stores_the_pair_with_an_audit_event(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    done = panel.connect(anna_fixed, "070-999 00 01")
    assert done.status_code == 200 and "data-unsaved" in done.get_data(as_text=True)
    assert pairs(query) == []
    assert query(lambda s: s.scalar(select(func.count(AuditEvent.id)).where(MEX_EVENTS))) == 0

    saved = panel.press("save")
    assert saved.status_code == 303 and saved.headers["Location"] == f"/settings/users/{anna}"
    assert pairs(query) == [(ANNA_FIXED, ANNA_MOBILE)]
    event = query(lambda s: s.scalar(select(AuditEvent).where(MEX_EVENTS)))
    owner = user_id(query, "owner@nordlys.test")
    assert (event.action, event.subject, event.actor_id) == ("mex.connected", f"user:{anna}", owner)
    assert event.data == {"fixed": ANNA_FIXED, "mobile": ANNA_MOBILE} and event.created_at is not None
    page = text(panel.b.get(saved.headers["Location"]))
    assert "Saved. The MEX connections of Anna Berg are updated." in page
    assert "MEX: +46 70 999 00 01 ↔ +46 8 123 456 70" in page and "data-unsaved" not in page


def test_clearing_connected_removes_the_pair(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    add_pair(query, ANNA_FIXED, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    done = panel.connect(anna_fixed, "")
    assert done.status_code == 200 and pending_inputs(done) == {f"pending-{anna_fixed}": ""}
    assert "Pending: remove the MEX connection of 08-123 456 70 (not saved)" in text(done)
    assert pairs(query) == [(ANNA_FIXED, ANNA_MOBILE)]
    assert panel.press("save").status_code == 303
    assert pairs(query) == []
    event = query(lambda s: s.scalar(select(AuditEvent).where(MEX_EVENTS)))
    assert (event.action, event.data) == ("mex.disconnected", {"fixed": ANNA_FIXED, "mobile": ANNA_MOBILE})


def test_changing_the_partner_is_one_disconnect_and_one_connect(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    add_number(query, "+46709990005")
    add_pair(query, ANNA_FIXED, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    assert panel.connect(anna_fixed, "070-999 00 05").status_code == 200
    assert panel.press("save").status_code == 303
    assert pairs(query) == [(ANNA_FIXED, "+46709990005")]
    assert query(
        lambda s: [e.action for e in s.scalars(select(AuditEvent).where(MEX_EVENTS).order_by(AuditEvent.id))]
    ) == [
        "mex.disconnected",
        "mex.connected",
    ]


def test_one_save_may_move_a_mobile_number_between_fixed_numbers(login_as, query, anna, anna_fixed):
    other_fixed = add_number(query, "+46812345699", kind="fixed")
    add_number(query, ANNA_MOBILE)
    add_pair(query, "+46812345699", ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    assert panel.connect(anna_fixed, "070-999 00 01").status_code == 422  # still paired with the other one
    assert panel.connect(other_fixed, "").status_code == 200
    assert panel.connect(anna_fixed, "070-999 00 01").status_code == 200  # freed by the pending change
    assert set(panel.fields) == {f"pending-{anna_fixed}", f"pending-{other_fixed}"}
    assert panel.press("save").status_code == 303
    assert pairs(query) == [(ANNA_FIXED, ANNA_MOBILE)]


def test_typing_the_current_partner_again_is_no_change(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    add_pair(query, ANNA_FIXED, ANNA_MOBILE)
    response = Panel(login_as("owner"), anna).connect(anna_fixed, "+46 70 999 00 01")
    assert response.status_code == 200 and pending_inputs(response) == {}


def test_cancel_and_undo_keep_or_drop_pending_changes(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    panel.connect(anna_fixed, "070-999 00 01")
    panel.press("preview", {"edit": str(anna_fixed)})
    assert 'value="070-999 00 01"' in panel.page.get_data(as_text=True).replace("\u00a0", " ")
    cancelled = panel.press("preview", {"cancel": str(anna_fixed), f"connected-{anna_fixed}": "junk"})
    assert cancelled.status_code == 200 and panel.fields == {f"pending-{anna_fixed}": ANNA_MOBILE}
    undone = panel.press("preview", {"undo": str(anna_fixed)})
    assert undone.status_code == 200 and panel.fields == {} and "data-unsaved" not in undone.get_data(as_text=True)
    assert pairs(query) == []


def test_save_rechecks_what_changed_since_done(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    assert panel.connect(anna_fixed, "070-999 00 01").status_code == 200
    add_number(query, "+46812345699", kind="fixed")  # meanwhile, the mobile number is paired elsewhere
    add_pair(query, "+46812345699", ANNA_MOBILE)
    response = panel.press("save")
    assert response.status_code == 422
    assert "Nothing was saved" in text(response) and "already connected (MEX)" in text(response)
    assert pending_inputs(response) == {f"pending-{anna_fixed}": ANNA_MOBILE}  # kept, to fix or undo
    assert pairs(query) == [("+46812345699", ANNA_MOBILE)]
    assert query(lambda s: s.scalar(select(func.count(AuditEvent.id)).where(MEX_EVENTS))) == 0


def test_done_with_htmx_swaps_the_panel_and_errors_come_as_422(login_as, query, anna, anna_fixed):
    add_number(query, ANNA_MOBILE)
    panel = Panel(login_as("owner"), anna)
    htmx = {"HX-Request": "true"}
    panel.press("preview", {"edit": str(anna_fixed)}, headers=htmx)
    bad = panel.press("preview", {"done": str(anna_fixed), f"connected-{anna_fixed}": "12"}, headers=htmx)
    assert bad.status_code == 422 and bad.get_data(as_text=True).lstrip().startswith("<form")
    good = panel.press("preview", {"done": str(anna_fixed), f"connected-{anna_fixed}": "0709990001"}, headers=htmx)
    html = good.get_data(as_text=True)
    assert good.status_code == 200 and html.lstrip().startswith("<form") and "data-unsaved" in html
    assert "HX-Push-Url" not in good.headers


# --------------------------------------------------------------------------- one set of rules


def test_the_wizard_and_this_page_share_the_mex_rules():
    assert forms.mex is mex and users_view.mex is mex
    assert not hasattr(users_view, "pair_problem") and not hasattr(users_view, "paired_ids")


@pytest.mark.parametrize("rule_changed", [False, True])
def test_a_rule_changed_in_mex_changes_both(buyer_as, login_as, query, anna, anna_fixed, monkeypatch, rule_changed):
    """Anna's new PBX mobile number may pair; a changed rule (every number counts as paired) refuses it in both."""
    from tests.test_wizard_journeys import walk

    mobile = add_number(query, ANNA_MOBILE)
    if rule_changed:
        real = mex.paired_ids
        monkeypatch.setattr(mex, "paired_ids", lambda sess, org: real(sess, org) | {mobile})
    b = buyer_as("owner")
    b.start("fixed")
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("number", {"choice": "new"}),
            ("pbx", {"mode": "pbx", "mex": "y"}),
        ],
    )
    # The User step refuses Anna when she has nothing to pair with; otherwise the MEX step pairs the number.
    wizard = [b.answer("user", {"user_id": str(anna)}).status_code]
    if wizard == [303]:
        wizard.append(b.answer("mex", {"mex_partner": str(mobile)}).status_code)
    page = Panel(login_as("owner"), anna).connect(anna_fixed, "070-999 00 01")
    assert (wizard, page.status_code) == (([422], 422) if rule_changed else ([303, 303], 200))
