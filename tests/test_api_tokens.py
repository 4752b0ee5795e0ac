"""Settings → Account → API tokens: made and shown once, stored hashed, checked and revoked (wizard/tokens.py)."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import Browser
from tests.pages import h1, links, notices, page
from tests.test_concurrency import race
from wizard import tokens
from wizard.db import Base
from wizard.models import ApiToken, User

URL = "/settings/account/api-tokens"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- helpers


def make_token_form(browser: Browser, name: str = "Intranet sync") -> dict[str, str]:
    """The make-token form of the page, filled in: every field a browser would send."""
    form = page(browser.get(URL)).find("form", action=URL)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input") if "name" in i.attrs}
    return {**fields, "name": name}


def shown_token(response) -> str | None:
    """The new token the page shows (in its read-only input), or None."""
    shown = page(response).find("input", id="new-token")
    return shown.attrs["value"] if shown else None


def make_token(browser: Browser, name: str = "Intranet sync"):
    """Make a token on the page, as a person does; the response and the token it shows."""
    response = browser.client.post(URL, data=make_token_form(browser, name))
    return response, shown_token(response)


def token_row(query, raw: str) -> ApiToken:
    return query(lambda s: s.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(raw))))


def authenticate(query, raw: str, now: datetime = T0):
    """tokens.authenticate in its own transaction: the token's id and its creator's email, or None."""

    def _auth(s):
        found = tokens.authenticate(s, raw, now)
        s.commit()
        return None if found is None else (found[0].id, found[1].email)

    return query(_auth)


def set_user(query, email: str, **values):
    def _set(s):
        s.execute(update(User).where(User.email == email).values(**values))
        s.commit()

    query(_set)


def revoke_url(token_id: int) -> str:
    return f"{URL}/{token_id}/revoke"


def revoke(browser: Browser, token_id: int):
    """Revoke as a person does: Revoke in the list opens the confirmation, whose button posts."""
    return browser.submit(revoke_url(token_id), {})


def list_rows(response) -> list[str]:
    """The token list's rows as text."""
    table = page(response).find("table", cls="tokens-table")
    return [row.text() for row in table.find("tbody").find_all("tr")] if table else []


def error_messages(response) -> list[str]:
    return [p.text().removeprefix("Error:").strip() for p in page(response).find_all("p", cls="error-message")]


# --------------------------------------------------------------------------- the page


def test_a_new_token_is_shown_once(login_as):
    buyer = login_as("buyer")
    response, raw = make_token(buyer, "Intranet sync")
    assert response.status_code == 200
    assert raw.startswith("nbt_") and len(raw) == 4 + 43  # 32 random bytes in URL-safe Base64
    assert "shown only this once" in page(response).find("section", cls="notice").text()

    again = buyer.get(URL)
    assert again.status_code == 200
    assert raw not in again.get_data(as_text=True)
    assert page(again).find("code", id="new-token") is None
    [row] = list_rows(again)
    assert "Intranet sync" in row and raw[:12] + "…" in row and "Never" in row and "Active" in row


def test_the_new_token_is_in_a_read_only_input_to_select_whole(login_as):
    response, raw = make_token(login_as("buyer"))
    shown = page(response).find("input", id="new-token")
    assert shown.attrs["type"] == "text" and "readonly" in shown.attrs and shown.attrs["value"] == raw
    assert page(response).find("label", for_="new-token").text() == "Token"


def count_tokens(query) -> int:
    return len(query(lambda s: s.scalars(select(ApiToken)).all()))


def test_reloading_after_make_token_makes_no_second_token(login_as, query):
    buyer = login_as("buyer")
    form = make_token_form(buyer, "Intranet sync")
    first = buyer.client.post(URL, data=form)
    raw = shown_token(first)
    assert raw is not None and count_tokens(query) == 1

    reloaded = buyer.client.post(URL, data=form)  # the browser's "resend the form?" after a reload
    assert reloaded.status_code == 303 and reloaded.location == URL
    listed = buyer.get(URL)
    assert notices(page(listed)) == ["This token was made already; it is shown only once."]
    assert shown_token(listed) is None and raw not in listed.get_data(as_text=True)
    assert ["Intranet sync" in row for row in list_rows(listed)] == [True]
    assert count_tokens(query) == 1


def test_one_form_sent_twice_at_once_makes_one_token(app, login_as, query):
    """A double click without JavaScript: both posts carry the same form and the same session cookie,
    so only the database can tell; the form's one-time value is unique among tokens."""
    buyer = login_as("buyer")
    form = make_token_form(buyer, "Intranet sync")
    cookie = buyer.client.get_cookie("session")
    twin = app.test_client()
    twin.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    answers = race([lambda: buyer.client.post(URL, data=form), lambda: twin.post(URL, data=form)])
    assert sorted(r.status_code for r in answers) == [200, 303]
    assert count_tokens(query) == 1


def test_the_page_after_a_new_token_makes_the_next_one(login_as, query):
    buyer = login_as("buyer")
    made, _ = make_token(buyer, "First")
    form = page(made).find("form", action=URL)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input") if "name" in i.attrs}
    second = buyer.client.post(URL, data={**fields, "name": "Second"})
    assert shown_token(second) is not None
    assert [("First" in r, "Second" in r) for r in list_rows(second)] == [(False, True), (True, False)]


def test_two_tabs_each_make_their_token(login_as, query):
    buyer = login_as("buyer")
    tab_one, tab_two = make_token_form(buyer, "One"), make_token_form(buyer, "Two")
    assert shown_token(buyer.client.post(URL, data=tab_two)) is not None
    assert shown_token(buyer.client.post(URL, data=tab_one)) is not None
    assert count_tokens(query) == 2


def test_a_refused_name_leaves_the_form_usable(login_as, query):
    buyer = login_as("buyer")
    form = make_token_form(buyer, "")
    refused = buyer.client.post(URL, data=form)
    assert refused.status_code == 422
    again = page(refused).find("form", action=URL)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in again.find_all("input") if "name" in i.attrs}
    corrected = buyer.client.post(URL, data={**fields, "name": "Corrected"})
    assert corrected.status_code == 200 and shown_token(corrected) is not None
    assert count_tokens(query) == 1


@pytest.mark.parametrize("once", [None, "", "not-one-of-ours", "x" * 200])
def test_a_post_without_the_pages_form_makes_nothing(login_as, query, once):
    buyer = login_as("buyer")
    form = make_token_form(buyer)
    if once is None:
        del form["once"]
    else:
        form["once"] = once
    assert buyer.client.post(URL, data=form).status_code == 400
    assert count_tokens(query) == 0


def test_the_token_is_stored_hashed_and_nowhere_else(app, login_as, query):
    buyer = login_as("buyer")
    _, raw = make_token(buyer)
    assert token_row(query, raw).token_hash == hashlib.sha256(raw.encode()).hexdigest()

    def every_value(s):
        return [repr(tuple(row)) for table in Base.metadata.sorted_tables for row in s.execute(select(table))]

    assert not [row for row in query(every_value) if raw in row]
    # Not in the session either (no redirect carries it to a next page).
    cookie = buyer.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert raw not in repr(session)


def test_the_list_shows_ones_own_tokens_and_the_owner_sees_everyones(login_as):
    make_token(login_as("buyer"), "Buyer's script")
    owner = login_as("owner")
    make_token(owner, "Owner's report")
    rows = list_rows(owner.get(URL))
    assert [("Owner's report" in r, "by Björn Sandberg" in r) for r in rows] == [(True, False), (False, True)]
    assert ["Buyer's script" in r for r in list_rows(login_as("buyer").get(URL))] == [True]
    assert list_rows(login_as("fjord").get(URL)) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the token"),
        ("   ", "Enter a name for the token"),
        ("x" * 101, "Enter at most 100 characters"),
        ("Intranet\tsync", "Remove the control character (such as a tab or a line break) from what you typed"),
    ],
)
def test_the_name_is_checked(login_as, query, name, message):
    response, raw = make_token(login_as("buyer"), name)
    assert response.status_code == 422
    assert error_messages(response) == [message]
    assert page(response).find("title").text().startswith("Error:")
    assert raw is None
    assert query(lambda s: s.scalars(select(ApiToken)).all()) == []


def test_a_name_of_100_characters_is_kept_without_surrounding_spaces(login_as, query):
    _, raw = make_token(login_as("buyer"), "  " + "x" * 96 + "  ")
    assert token_row(query, raw).name == "x" * 96


def test_making_a_token_without_the_csrf_token_is_refused(login_as, query):
    response = login_as("buyer").client.post(URL, data={"name": "Forged"})
    assert response.status_code == 400
    assert query(lambda s: s.scalars(select(ApiToken)).all()) == []


def test_staff_without_permissions_get_403_and_no_link(login_as):
    staff = login_as("staff")
    assert staff.get(URL).status_code == 403
    assert staff.submit("/settings/account/subs", {"name": "Mine"}, action=URL).status_code == 403
    assert "API tokens" not in links(page(staff.get("/settings/account/subs")))
    assert links(page(login_as("buyer").get("/settings/account/subs")))["API tokens"] == URL


# --------------------------------------------------------------------------- authenticate


def test_authenticate_finds_the_token_and_its_creator(login_as, query):
    _, raw = make_token(login_as("buyer"))
    token_id = token_row(query, raw).id
    assert authenticate(query, raw) == (token_id, "buyer@nordlys.test")
    assert token_row(query, raw).last_used_at == T0


def test_last_used_is_written_at_most_once_a_minute(login_as, query):
    buyer = login_as("buyer")
    _, raw = make_token(buyer)
    authenticate(query, raw, T0)
    authenticate(query, raw, T0 + timedelta(seconds=59))
    assert token_row(query, raw).last_used_at == T0
    authenticate(query, raw, T0 + timedelta(seconds=61))
    assert token_row(query, raw).last_used_at == T0 + timedelta(seconds=61)
    assert "Never" not in list_rows(buyer.get(URL))[0]


@pytest.mark.parametrize(
    "raw",
    ["", "nbt_", "nbt_not-a-token", "Bearer nbt_x", "nbt_" + "x" * 200, "nbt_åäö", "nbt_\ud800"],
)
def test_authenticate_refuses_what_is_not_a_token(app, query, raw):
    assert authenticate(query, raw) is None


def test_revoking_asks_first_and_only_the_confirmation_revokes(login_as, query):
    buyer = login_as("buyer")
    _, raw = make_token(buyer, "Old script")
    token_id = token_row(query, raw).id
    listed = page(buyer.get(URL))
    assert links(listed)["Revoke token “Old script”"] == revoke_url(token_id)
    assert listed.find("form", action=revoke_url(token_id)) is None  # a link now, not a one-click form

    asked = buyer.get(revoke_url(token_id))
    assert asked.status_code == 200
    assert h1(page(asked)) == "Revoke token “Old script”?"
    assert "Scripts using it stop working at once." in page(asked).find("main").text()
    assert links(page(asked))["Cancel"] == URL
    confirm = page(asked).find("form", action=revoke_url(token_id))
    assert confirm.attrs["method"] == "post" and confirm.find("input", name="csrf_token") is not None
    assert [b.text() for b in confirm.find_all("button")] == ["Revoke"]
    assert token_row(query, raw).revoked_at is None  # opening the question revokes nothing
    assert authenticate(query, raw) is not None


def test_a_revoked_token_stops_working(login_as, query):
    buyer = login_as("buyer")
    _, raw = make_token(buyer, "Old script")
    token_id = token_row(query, raw).id
    response = revoke(buyer, token_id)
    assert response.status_code == 303
    listed = buyer.get(URL)
    assert notices(page(listed)) == ["Token “Old script” revoked. It no longer works."]
    [row] = list_rows(listed)
    assert "Revoked" in row and revoke_url(token_id) not in links(page(listed)).values()
    assert authenticate(query, raw) is None

    again = buyer.submit(URL, {}, action=revoke_url(token_id))  # a second click, or a second tab's question
    assert again.status_code == 303
    assert notices(page(buyer.get(URL))) == ["Token “Old script” was already revoked."]
    asked_again = buyer.get(revoke_url(token_id))  # nothing left to ask: the list says since when
    assert asked_again.status_code == 302 and asked_again.location == URL


def test_the_token_stops_working_when_its_creator_loses_the_account_permission(login_as, query):
    _, raw = make_token(login_as("buyer"))
    set_user(query, "buyer@nordlys.test", permissions="")
    assert authenticate(query, raw) is None
    set_user(query, "buyer@nordlys.test", permissions="users")
    assert authenticate(query, raw) is None


def test_the_token_stops_working_when_its_creator_is_switched_off(login_as, query):
    _, raw = make_token(login_as("buyer"))
    set_user(query, "buyer@nordlys.test", active=False)
    assert authenticate(query, raw) is None


def test_the_owners_token_works_with_the_owners_permissions(login_as, query):
    _, raw = make_token(login_as("owner"))
    assert authenticate(query, raw)[1] == "owner@nordlys.test"


# --------------------------------------------------------------------------- who may revoke


def test_another_organisation_cannot_see_or_revoke_a_token(login_as, query):
    _, raw = make_token(login_as("buyer"))
    token_id = token_row(query, raw).id
    fjord = login_as("fjord")
    assert fjord.get(revoke_url(token_id)).status_code == 404
    response = fjord.submit(URL, {}, action=revoke_url(token_id))
    assert response.status_code == 404
    assert token_row(query, raw).revoked_at is None
    assert authenticate(query, raw) is not None


def test_a_colleague_cannot_revoke_anothers_token_but_the_owner_can(app, login_as, query):
    _, raw = make_token(login_as("owner"), "Owner's")
    owners = token_row(query, raw).id
    buyer = login_as("buyer")
    assert buyer.get(revoke_url(owners)).status_code == 404
    assert buyer.submit(URL, {}, action=revoke_url(owners)).status_code == 404
    assert token_row(query, raw).revoked_at is None

    _, buyers_raw = make_token(buyer, "Buyer's")
    owner = login_as("owner")
    buyers = token_row(query, buyers_raw).id
    asked = page(owner.get(revoke_url(buyers)))
    assert h1(asked) == "Revoke token “Buyer's”?" and "by Björn Sandberg" in asked.find("main").text()
    assert revoke(owner, buyers).status_code == 303
    assert authenticate(query, buyers_raw) is None
    assert authenticate(query, raw) is not None


def test_revoking_an_unknown_token_is_404(login_as):
    owner = login_as("owner")
    assert owner.get(revoke_url(999_999)).status_code == 404
    assert owner.submit(URL, {}, action=revoke_url(999_999)).status_code == 404


def test_revoking_without_the_csrf_token_is_refused(login_as, query):
    buyer = login_as("buyer")
    _, raw = make_token(buyer)
    response = buyer.client.post(revoke_url(token_row(query, raw).id))
    assert response.status_code == 400
    assert token_row(query, raw).revoked_at is None


def test_the_page_has_its_heading(login_as):
    assert h1(page(login_as("owner").get(URL))) == "API tokens"
