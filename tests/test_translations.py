"""A complete Swedish catalogue that cannot fall behind the code.

- Every message in the code and templates has a Swedish entry, neither empty nor fuzzy, and the
  compiled catalogue the app loads is the one its .po gives (`make translations` rebuilds both).
- The pseudo-locale: with a catalogue that turns every message into ⟦message⟧, every page and step
  is rendered, and any visible word outside ⟦ ⟧ that is not data (a name, a number, a date's month)
  is text that never passed through gettext.
- Swedish pages show no English: every visible word is Swedish (from the catalogue), data, or Babel's.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo
from flask import abort
from sqlalchemy import select

from tests import catalogue
from tests.conftest import csrf_token
from tests.test_wizard_journeys import number_id, user_id, walk
from tests.wizard_client import Buyer, hidden
from wizard.models import PriceItem

SUBS = "/settings/account/subs"
# What the tour types that pages show back (unknown deep-link parameters, search words): the visitor's.
TYPED = {"colour", "blue", "nobody", "zzzz", "x", "se", "zzz"}  # typed by the visitor and shown back


def test_every_message_of_the_code_has_a_swedish_translation():
    sv = catalogue.swedish()
    problems = []
    for message, places in catalogue.code_messages().items():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = sv.get(msgid)
        strings = entry.string if entry is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({', '.join(sorted(set(places)))})")
        elif entry.fuzzy or not all(strings):
            problems.append(f"{'fuzzy' if entry.fuzzy else 'empty'}: {msgid!r}")
    assert problems == [], "Run `make translations` and translate these in sv/messages.po:\n" + "\n".join(problems)


def test_the_compiled_swedish_catalogue_is_the_one_its_po_gives():
    compiled = catalogue.SWEDISH_PO.with_suffix(".mo")
    assert compiled.exists(), "wizard/translations/sv/LC_MESSAGES/messages.mo is missing: run `make translations`"
    with compiled.open("rb") as f:
        loaded = {as_tuple(m.id): as_tuple(m.string) for m in read_mo(f) if m.id}
    wanted = {as_tuple(m.id): as_tuple(m.string) for m in catalogue.swedish() if m.id and not m.fuzzy}
    assert loaded == wanted, "messages.mo is older than messages.po: run `make translations`"


def as_tuple(value):
    """A plural entry's ids and strings come as lists from a .mo and as tuples from a .po."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_every_price_item_has_a_swedish_name_and_description(app, query):
    items = query(lambda s: s.scalars(select(PriceItem)).all())
    assert items
    for item in items:
        sv = (item.translations or {}).get("sv", {})
        assert sv.get("name") and sv.get("description"), item.code


# --- every page and step, as a visitor with a Swedish browser sees it -----------------------------


def tour(app, query) -> list[tuple[str, str]]:
    """(what, html) of every page and step: logged out, as a buyer through a mobile and a fixed order
    (each step empty-posted for its errors, each way to a number revealed), Subs, Users, the eSIM page,
    and the error pages."""
    pages: list[tuple[str, str]] = []

    def client():
        c = app.test_client()
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv-SE,sv;q=0.9"
        return c

    def seen(what, response):
        assert response.status_code < 500 or what.startswith("error"), (what, response.status_code)
        pages.append((what, response.get_data(as_text=True)))
        return response

    visitor = client()
    seen("login", visitor.get("/login"))
    seen("login needed", visitor.get(SUBS, follow_redirects=True))
    login = visitor.get("/login").get_data(as_text=True)
    seen("wrong password", visitor.post("/login", data={"csrf_token": csrf_token(login), "email": "x@y.se"}))
    seen("embed refused", visitor.get("/embed?parent=https://elsewhere.test"))

    b = Buyer(client())
    assert b.login("owner@nordlys.test", "demo-owner-pw").status_code == 302
    seen("subs empty", b.get(SUBS))
    seen("new order", b.get(f"{SUBS}/orders/new"))
    seen("deep link", b.get(f"{SUBS}/orders/new?type=mobile&user=nobody&colour=blue"))
    b.start("mobile")
    anna = user_id(query, "anna@nordlys.test")
    mobile = [
        ("price_basis", {"basis": "bound"}),
        ("call_rate", {"code": "rate-variable"}),
        ("data_package", {"code": "data-unlimited"}),
        ("number", {"choice": "new"}),
        ("sim", {"sim_kind": "esim"}),
        ("pbx", {"mode": "pbx", "mex": "y"}),
        ("user", {"user_id": anna}),
        ("mex", {"mex_partner": number_id(query, "+46812345670")}),
        ("top_up", {"top_up": "yes"}),
    ]
    for key, data in mobile:
        seen(f"mobile {key}", b.get(b.step_url(key)))
        seen(f"mobile {key} errors", b.answer(key, {"_nothing": ""}))
        if key == "number":
            for choice in ("reserved", "specific"):
                seen(f"number {choice}", b.answer(key, {"choice": choice}))
            seen("number search", b.answer(key, {"choice": "specific", "search": "4001", "_reveal": "search"}))
            seen("number search nothing", b.answer(key, {"choice": "specific", "search": "99999", "_reveal": "search"}))
            walk(b, [(key, {"choice": "port"})])
            seen("porting", b.get(b.step_url("porting")))
            port = {"port_number": "070-444 55 66", "port_operator": "Other", "port_owner": "other"}
            seen(
                "porting errors", b.answer("porting", {**port, "port_date": "2020-01-01", "port_owner_org_number": "1"})
            )
            assert b.leave("porting", {"port_number": "070"}, "back").status_code == 303
            seen("porting with what was typed", b.get(b.step_url("porting")))
        if key == "sim":
            seen("sim physical errors", b.answer(key, {"sim_kind": "physical", "icc": "1234"}))
        if key == "user":
            other = user_id(query, "erik@nordlys.test")
            seen("user without mex partner", b.answer(key, {"user_id": other}))
        walk(b, [(key, data)])
        if key == "number":
            seen("held number after the number step", b.get(b.step_url("sim")))
    assert b.leave("top_up", {}, "later").status_code == 303
    seen("subs after later", b.get(SUBS))
    seen("mobile review", b.get(b.step_url("review")))
    saved = b.save()
    done = seen("done", b.get(saved.headers["Location"]))
    esim = [line for line in done.get_data(as_text=True).split('"') if line.endswith("/esim")]
    seen("esim", b.get(esim[0]))
    subscription_page = re.search(
        r'href="(/settings/account/subs/subscriptions/\d+)"', b.get(SUBS).get_data(as_text=True)
    )
    seen("subscription page", b.get(subscription_page.group(1)))
    seen("audit log", b.get("/settings/account/audit"))
    seen("audit log errors", b.get("/settings/account/audit?start=not-a-date"))
    seen("audit log nothing", b.get("/settings/account/audit?kind=porting.completed"))
    subs_page = b.get(SUBS).get_data(as_text=True)
    batch_url = b.client.post(f"{SUBS}/batches", data={"csrf_token": csrf_token(subs_page), "kind": "mobile"}).headers[
        "Location"
    ]
    batch_page = seen("batch", b.get(batch_url)).get_data(as_text=True)
    wrong = {
        "lines-0-email": "nobody@x.se",
        "lines-0-number_choice": "zzz",
        "lines-0-sim": "physical",
        "lines-0-icc": "1",
    }
    token = {"csrf_token": csrf_token(batch_page), "version": hidden(batch_page, "version")[0]}
    seen("batch errors", b.client.post(batch_url, data={**token, **wrong}))

    b.start("fixed")
    for key, data in [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"})]:
        walk(b, [(key, data)])
    seen("fixed number", b.get(b.step_url("number")))
    walk(b, [("number", {"choice": "new"})])
    seen("fixed pbx", b.get(b.step_url("pbx")))
    walk(b, [("pbx", {"mode": "independent"}), ("user", {"user_id": anna})])
    seen("fixed review", b.get(b.step_url("review")))
    seen("discard", b.get(f"{b.draft_url}/discard"))
    seen("subs with orders", b.get(SUBS))
    seen("subs search", b.get(f"{SUBS}?q=070"))
    seen("subs search nothing", b.get(f"{SUBS}?q=zzzz"))
    seen("users", b.get("/settings/users"))
    seen("users search", b.get("/settings/users?q=anna"))
    seen("user page", b.get(f"/settings/users/{anna}"))
    anna_fixed = number_id(query, "+46812345670")
    user_page = b.get(f"/settings/users/{anna}").get_data(as_text=True)
    preview = f"/settings/users/{anna}/mex/preview"
    token = csrf_token(user_page)
    seen("mex editor", b.client.post(preview, data={"csrf_token": token, "edit": anna_fixed}))
    seen("mex error", b.client.post(preview, data={"csrf_token": token, f"pending-{anna_fixed}": "08-123 457 00"}))
    seen("mex pending", b.client.post(preview, data={"csrf_token": token, f"pending-{anna_fixed}": ""}))
    seen("error 404", b.get("/settings/no-such-page"))
    seen("error 405", b.get(f"{b.draft_url}/save"))
    for code in (400, 401, 409, 410, 413, 414, 415, 418, 429, 500, 503):
        seen(f"error {code}", b.get(f"/__abort/{code}"))
    staff = Buyer(client())
    staff.login("staff@nordlys.test", "demo-staff-pw")
    seen("error 403", staff.get(SUBS))
    seen("logged out", b.client.post("/logout", data={"csrf_token": token}, follow_redirects=True))
    return pages


def with_abort_route(app):
    @app.route("/__abort/<int:code>")
    def aborting(code):
        abort(code)

    return app


@pytest.fixture
def pseudo_locale(app, tmp_path, monkeypatch):
    """The app's Swedish replaced by the pseudo-locale: every message of the code as ⟦message⟧.
    Flask-Babel caches catalogues per process, not per app: emptied before and after."""
    catalogue.pseudo_catalogue(tmp_path / "pseudo")
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(tmp_path / "pseudo")])
    with app.app_context():
        cache = app.extensions["babel"].instance.domain_instance.cache
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_visible_word_of_every_page_passed_through_gettext(app, query, pseudo_locale):
    """With the pseudo-locale, what is left outside ⟦ ⟧ on any page is data only."""
    with_abort_route(app)
    allowed = catalogue.data_words() | catalogue.babel_words("sv") | TYPED
    leaks = {}
    for what, html in tour(app, query):
        for text in catalogue.visible_texts(html):
            stray = catalogue.words(catalogue.outside_gettext(text)) - allowed
            if stray:
                leaks.setdefault(what, set()).add(text)
    assert leaks == {}, "\n".join(f"{what}: {sorted(texts)}" for what, texts in leaks.items())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_swedish_browser_sees_no_english_on_any_page(app, query):
    """Every visible word is in a Swedish translation, data, or Babel's Swedish dates and money."""
    with_abort_route(app)
    english = {}
    for what, html in tour(app, query):
        assert 'lang="sv"' in html.split(">", 2)[1] or what.startswith("error 5"), what
        for text in catalogue.visible_texts(html):
            stray = catalogue.foreign_words(text) - TYPED
            if stray:
                english.setdefault(what, set()).update(stray)
    assert english == {}, "\n".join(f"{what}: {sorted(w)}" for what, w in english.items())
