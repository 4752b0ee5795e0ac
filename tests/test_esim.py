"""The eSIM page: activation code in SGP.22 form, a QR code that decodes to it, and only the buyer
and the assigned user may see it."""

import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser import chromium, console, live_server, log_in, new_context, page, shot  # noqa: F401
from tests.test_wizard_journeys import user_id, walk
from wizard import db
from wizard.models import Sim, Subscription, User
from wizard.passwords import hash_password
from wizard.sim import activation_code, parts

ESIM_ORDER = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-fixed"}),
    ("data_package", {"code": "data-5"}),
    ("number", {"choice": "new"}),
    ("sim", {"sim_kind": "esim"}),
    ("pbx", {"mode": "independent"}),
]


def test_activation_codes_have_the_sgp22_form_and_are_unique():
    codes = {activation_code("smdp.example.test") for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"LPA:1\$smdp\.example\.test\$[0-9A-F]{4}(-[0-9A-F]{4}){4}", code)
        assert parts(code)[0] == "smdp.example.test"


def buy_esim_for_erik(buyer_as, query, who="buyer"):
    b = buyer_as(who)
    b.start("mobile")
    walk(b, ESIM_ORDER + [("user", {"user_id": user_id(query, "erik@nordlys.test")}), ("top_up", {"top_up": "no"})])
    done = b.get(b.save().headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="([^"]+/esim)"', done).group(1)
    return b, link


def give_erik_a_password(app):
    with app.app_context():
        sess = db.session()
        erik = sess.scalar(select(User).where(User.email == "erik@nordlys.test"))
        erik.password_hash = hash_password("erik-pw")
        sess.commit()


def test_the_buyer_sees_the_code_qr_and_instructions(app, buyer_as, query):
    b, link = buy_esim_for_erik(buyer_as, query)
    html = b.get(link).get_data(as_text=True)
    code = query(lambda s: s.scalar(select(Sim.activation_code)))
    address, matching_id = parts(code)
    assert address == app.config["ESIM_SMDP_ADDRESS"]
    assert f'<code translate="no">{address}</code>' in html and f'<code translate="no">{matching_id}</code>' in html
    assert "<svg" in html and "iPhone" in html and "Android" in html


def test_the_assigned_user_may_reopen_it_without_the_account_permission(app, buyer_as, query):
    _, link = buy_esim_for_erik(buyer_as, query)
    give_erik_a_password(app)
    from tests.conftest import Browser

    erik = Browser(app.test_client())
    assert erik.login("erik@nordlys.test", "erik-pw").status_code == 302
    assert erik.get(link).status_code == 200


@pytest.mark.parametrize("who", ["owner", "staff", "fjord"])
def test_no_one_else_sees_the_code(buyer_as, login_as, query, who):
    _, link = buy_esim_for_erik(buyer_as, query)
    assert login_as(who).get(link).status_code == 404


def test_a_physical_sim_has_no_esim_page(buyer_as, query):
    b = buyer_as("owner")
    b.start("fixed")
    from tests.test_wizard_journeys import FIXED_ORDER

    walk(b, FIXED_ORDER)
    b.save()
    sub_id = query(lambda s: s.scalar(select(Subscription.id)))
    assert b.get(f"/settings/account/subs/subscriptions/{sub_id}/esim").status_code == 404


def buy_esim_in_browser(page):
    """From the Subs page, buy a mobile eSIM subscription for Erik Lund; ends on the confirmation."""
    page.get_by_role("button", name="Add Subs mobile").click()
    for label in ("Unbound: current price list", "Fixed call rate", "5 GB", "A new number", "eSIM", "Independent"):
        page.get_by_label(label, exact=True).check()
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Who will use the number?").select_option(label="Erik Lund (erik@nordlys.test)")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Subscription ordered")).to_be_visible()


@pytest.mark.browser
def test_the_qr_code_on_screen_decodes_to_the_activation_code(live_server, page):
    """Scan the QR code as a phone would: screenshot it and decode it with zxing-cpp."""
    import zxingcpp
    from PIL import Image

    log_in(page, live_server)
    buy_esim_in_browser(page)
    page.get_by_role("link", name="Show the eSIM QR code").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("eSIM for")
    matching_id = page.locator("code").nth(1).text_content()
    image = Image.open(io.BytesIO(page.locator("svg.qr").screenshot()))
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(decoded) == 1 and decoded[0].startswith("LPA:1$") and decoded[0].endswith("$" + matching_id)
    shot(page, "esim")
