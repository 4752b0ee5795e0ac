"""One way in for every parameter: ids, page numbers and versions within bounds, text without control
characters, requests within size limits, and forms only as forms. What a person sees when a value is
refused: a 404, a message beside the field, or a styled page; never a server error."""

import json

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.pages import h1, page, title
from tests.wizard_client import errors, form_html, hidden
from wizard.db import INTEGER_MAX, as_int
from wizard.models import Draft, PhoneNumber, User
from wizard.text import has_control, printable

SUBS = "/settings/account/subs"
ORDERS = f"{SUBS}/orders"


@pytest.mark.parametrize(
    "text, number",
    [
        ("0", 0),
        ("42", 42),
        (str(INTEGER_MAX), INTEGER_MAX),
        (str(INTEGER_MAX + 1), None),
        ("9" * 30, None),
        ("9" * 5000, None),  # int() refuses more than 4,300 digits: never asked
        ("00000000042", None),  # longer than any INTEGER is written
        ("-1", None),
        (" 5", None),
        ("1_000", None),
        ("\u0663", None),  # an Arabic-Indic three
        ("²", None),
        ("", None),
        (None, None),
    ],
)
def test_as_int_takes_only_plain_digits_that_fit_an_integer_column(text, number):
    assert as_int(text) == number


@pytest.mark.parametrize(
    "text, control",
    [
        ("Nora Lindqvist", False),
        ("070-123 45 67", False),
        ("Åsa Ödman 😀", False),
        ("a\x00b", True),
        ("a\tb", True),
        ("a\nb", True),
        ("\x1b[31m", True),
        ("\x7f", True),
        ("\x85", True),  # C1 next line
        ("\u202e", False),  # a direction mark is text, not a control character
    ],
)
def test_control_characters_are_c0_del_and_c1(text, control):
    assert has_control(text) is control


def test_printable_shows_each_control_character_as_the_replacement_character():
    assert printable("a\x00b\tc") == "a\ufffdb\ufffdc"


# --------------------------------------------------------------------------- ids in paths


@pytest.mark.parametrize(
    "address",
    [
        f"{ORDERS}/a%00b",
        f"{ORDERS}/a%00b/number",
        f"{ORDERS}/{'x' * 33}",
        f"{ORDERS}/%FF%FE/done",
        f"{ORDERS}/{'9' * 5000}/number",
        "/settings/users/99999999999999999999999999999",
        f"/settings/users/{'9' * 5000}",
        "/settings/users/a%00",
        f"{SUBS}/subscriptions/{'9' * 30}/esim",
    ],
)
def test_an_id_in_the_path_out_of_range_or_with_nul_is_a_404(login_as, address):
    response = login_as("owner").get(address)
    assert response.status_code == 404
    assert h1(page(response)) == "Page not found"


# --------------------------------------------------------------------------- searches and pagers


@pytest.mark.parametrize(
    "address, message",
    [
        (
            "/settings/users?q=anna%00",
            "Remove the control character (such as a tab or a line break) from what you typed",
        ),
        (f"/settings/users?q={'9' * 50_000}", "Search with at most 100 characters"),
        (f"{SUBS}?q=070%09123", "Remove the control character (such as a tab or a line break) from what you typed"),
        (f"{SUBS}?q={'a' * 101}", "Search with at most 100 characters"),
    ],
)
def test_a_search_that_cannot_be_run_says_why_where_the_results_go(login_as, address, message):
    doc = page(login_as("owner").get(address))
    error = doc.find("p", cls="error-message")
    assert error is not None and error.text() == f"Error: {message}"
    assert doc.find("input", type="search").attrs["aria-invalid"] == "true"


@pytest.mark.parametrize("number", ["9" * 30, "9" * 5000, "-1", "0", "x", "1e9", "\u0663"])
def test_a_page_number_out_of_range_shows_the_first_page(login_as, number):
    owner = login_as("owner")
    for address, pages in (("/settings/users", "page"), (SUBS, "page"), (SUBS, "drafts_page")):
        response = owner.get(f"{address}?{pages}={number}")
        assert response.status_code == 200
        assert page(response).text() == page(owner.get(address)).text()


# --------------------------------------------------------------------------- the Number step


def specific_search(buyer, **fields):
    """Post the Number step's search as its Search button does: the step shown again."""
    buyer.start("mobile")
    for key, data in (("price_basis", {"basis": "bound"}), ("call_rate", {"code": "rate-fixed"})):
        assert buyer.answer(key, data).status_code == 303
    assert buyer.answer("data_package", {"code": "data-5"}).status_code == 303
    html = buyer.get(buyer.step_url("number")).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "version": hidden(form_html(html), "version")[0], "choice": "specific"}
    return buyer.client.post(buyer.step_url("number"), data={**data, "_reveal": "search", **fields})


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"search": "0" * 50_000}, "Search with at most 20 digits"),
        ({"search": "07\x0012"}, "Remove the control character (such as a tab or a line break) from what you typed"),
    ],
)
def test_the_number_search_checks_its_text_before_searching(buyer_as, fields, message):
    response = specific_search(buyer_as("owner"), **fields)
    assert response.status_code == 422
    assert title(page(response)).startswith("Error: Number")
    assert errors(response) == [message]
    assert "No free numbers match" in page(response).text()


@pytest.mark.parametrize("results_page", ["9" * 30, "9" * 5000, "0", "-3", "x"])
def test_a_results_page_out_of_range_shows_the_first_page_of_numbers(buyer_as, results_page):
    response = specific_search(buyer_as("owner"), results_page=results_page)
    results = page(response).find("div", id="specific-results")
    assert response.status_code == 200
    assert "Page 1" in results.text()
    assert results.text().startswith("Free numbers 070-123 40 00 ")  # the first free mobile number of the pool


@pytest.mark.parametrize(
    "field, value, message",
    [
        (
            "icc",
            "8946\x00000000000000000",
            "Remove the control character (such as a tab or a line break) from what you typed",
        ),
        (
            "icc",
            "8946\t000000000000000",
            "Remove the control character (such as a tab or a line break) from what you typed",
        ),
    ],
)
def test_a_text_field_with_a_control_character_gets_a_message_beside_it(buyer_as, field, value, message):
    buyer = buyer_as("owner")
    buyer.start("mobile")
    for key, data in (
        ("price_basis", {"basis": "bound"}),
        ("call_rate", {"code": "rate-fixed"}),
        ("data_package", {"code": "data-5"}),
        ("number", {"choice": "new"}),
    ):
        assert buyer.answer(key, data).status_code == 303
    response = buyer.answer("sim", {"sim_kind": "physical", field: value})
    assert response.status_code == 422
    assert errors(response) == [message]


def test_the_mex_editor_says_a_number_with_a_control_character_needs_fixing(login_as, query):
    anna = query(lambda s: s.scalar(select(User.id).where(User.email == "anna@nordlys.test")))
    fixed = query(lambda s: s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == "+46812345670")))
    owner = login_as("owner")
    token = csrf_token(owner.get(f"/settings/users/{anna}").get_data(as_text=True))
    response = owner.client.post(
        f"/settings/users/{anna}/mex/preview",
        data={"csrf_token": token, "done": str(fixed), f"connected-{fixed}": "070\t999 00 01"},
    )
    assert response.status_code == 422
    assert "Remove the control character (such as a tab or a line break) from the number" in errors(response)


def test_a_deep_link_value_with_nul_is_dropped_with_a_reason(login_as, query):
    owner = login_as("owner")
    doc = page(owner.get(f"{ORDERS}/new?type=mobile&user=anna@nordlys.test%00"))
    assert "named the user “anna@nordlys.test\ufffd”" in doc.text()
    token = csrf_token(owner.get(SUBS).get_data(as_text=True))
    started = owner.client.post(
        f"{ORDERS}/new", data={"csrf_token": token, "type": "mobile", "user": "anna@nordlys.test\x00"}
    )
    assert started.status_code == 303
    stored = query(lambda s: s.scalar(select(Draft.prefill)))
    assert stored["user"]["dropped"] == [{"param": "user", "value": "anna@nordlys.test\ufffd"}]


# --------------------------------------------------------------------------- size and shape of requests


@pytest.mark.parametrize(
    "data, content_type",
    [
        ({"email": "owner@nordlys.test", "password": "x" * 70_000}, "application/x-www-form-urlencoded"),
        ({"email": "owner@nordlys.test", "password": "x" * 20_000}, "multipart/form-data"),
        ({**{f"field{i}": "1" for i in range(250)}, "email": "owner@nordlys.test"}, "multipart/form-data"),
    ],
    ids=["body", "multipart-field", "multipart-parts"],
)
def test_a_request_past_a_size_limit_gets_the_styled_413(client, data, content_type):
    """MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE and MAX_FORM_PARTS as configured by default."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, **data}, content_type=content_type)
    assert response.status_code == 413
    assert h1(page(response)) == "What you sent is too large"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", lambda token: json.dumps({"csrf_token": token, "kind": "mobile"})),
        ("text/plain", lambda token: f"csrf_token={token}&kind=mobile"),
        ("application/xml", lambda token: f"<form><csrf_token>{token}</csrf_token></form>"),
        ("multipart/form-data; boundary=x", lambda token: b"not multipart at all"),
        ("application/x-www-form-urlencoded", lambda token: f"csrf_token={token}&kind=\xff".encode("latin-1")),
    ],
    ids=["json", "text", "xml", "broken-multipart", "raw-invalid-utf8"],
)
def test_a_form_sent_in_another_shape_is_refused_with_the_styled_400(login_as, query, content_type, body):
    owner = login_as("owner")
    token = csrf_token(owner.get(SUBS).get_data(as_text=True))
    response = owner.client.post(ORDERS, data=body(token), content_type=content_type)
    assert response.status_code == 400
    assert h1(page(response)) == "The request could not be processed"
    assert query(lambda s: s.scalar(select(Draft.id))) is None  # no order was started


def test_a_multipart_form_is_read_like_any_other_form(login_as):
    owner = login_as("owner")
    token = csrf_token(owner.get(SUBS).get_data(as_text=True))
    response = owner.client.post(
        ORDERS, data={"csrf_token": token, "kind": "mobile"}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/price_basis")
