"""The rules for a new password and an e-mail address (ASVS 5.0 chapter 6), as create-user and the
login form apply them."""

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.pages import page, title
from wizard.emails import EmailAddressError, normalise_email
from wizard.models import User
from wizard.passwords import password_problem
from wizard.seed import USERS

TOO_SHORT = "Choose a password of at least 12 characters."
TOO_LONG = "Choose a password of at most 128 characters."
TOO_EASY = "This password is too easy to guess: a common one, or a short pattern repeated. Choose another."
LONGEST = "".join(chr(ord("a") + i % 26) + str(i % 10) for i in range(64))  # 128 characters, no repeated piece


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", TOO_SHORT),
        ("a", TOO_SHORT),
        ("password", TOO_SHORT),
        ("12345678", TOO_SHORT),
        ("abcdefghijk", TOO_SHORT),  # 11
        ("abcdefghijkl", None),  # 12
        ("demo-owner-pw", None),
        ("correct horse battery staple", None),
        ("lösenord för mig", None),  # any character counts, none is required
        ("ALLCAPSNODIGITS", None),  # no composition rules
        ("  spaces kept  ", None),  # taken as typed, not trimmed
        (LONGEST, None),
        (LONGEST + "x", TOO_LONG),
        ("leavemealone", TOO_EASY),  # in the common list
        ("QAZWSXEDCRFV", TOO_EASY),  # in it, whatever the case
        ("1qaz2wsx3edc", TOO_EASY),  # a keyboard walk in it
        ("passwordpassword", TOO_EASY),  # a common one repeated
        ("123456123456", TOO_EASY),
        ("aaaaaaaaaaaa", TOO_EASY),  # up to three characters repeated
        ("abcabcabcabc", TOO_EASY),
        (" " * 12, TOO_EASY),
        ("long-enough-\udcff", "The password holds bytes that are not text. Type it again."),  # argv not UTF-8
    ],
)
def test_a_new_password_is_refused_only_for_length_or_commonness(password, problem):
    assert password_problem(password) == problem


def test_the_demo_passwords_meet_the_rules():
    demo = [password for *_, password, _owner, _perms in USERS if password]
    assert demo
    assert [password_problem(p) for p in demo] == [None] * len(demo)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("owner@nordlys.test", "owner@nordlys.test"),
        ("Owner@Nordlys.TEST", "owner@nordlys.test"),
        ("  a.b+c@example.se \t", "a.b+c@example.se"),
        ("Åsa@Exempel.SE", "åsa@exempel.se"),
        ("asa@xn--exmpel-cua.se", "asa@exämpel.se"),  # the Punycode spelling of the same domain
    ],
)
def test_an_address_is_stored_checked_and_in_lower_case(typed, stored):
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "owner",
        "owner@",
        "@nordlys.test",
        "owner@nordlys",  # no dot in the domain
        "owner@@nordlys.test",
        "own er@nordlys.test",
        "owner@nordlys.test\x00",
        "own\x01er@nordlys.test",
        "owner..x@nordlys.test",
        "Owner <owner@nordlys.test>",
        "owner@localhost",
        "owner@nordlys.invalid",  # a reserved name
        "x" * 250 + "@b.se",
        "x@" + "y" * 100_000 + ".se",
    ],
)
def test_what_is_not_an_address_is_refused(typed):
    with pytest.raises(EmailAddressError):
        normalise_email(typed)


def _create_user(runner, email="new@nordlys.test", password="a-long-password", input=None):
    """Run create-user as `flask` does: its options are read inside the app context."""
    args = ["create-user", "--email", email, "--name", "New Person", "--org-number", "556677-8899"]
    if password is not None:
        args += ["--password", password]
    with runner.app.app_context():
        return runner.invoke(args=args, input=input)


def _user(query, email):
    return query(lambda sess: sess.scalar(select(User).where(User.email == email)))


def test_create_user_stores_the_address_in_lower_case_and_login_finds_it_however_typed(app, runner, query):
    result = _create_user(runner, email="  New.Person@Nordlys.TEST ")
    assert result.exit_code == 0, result.output
    assert "Created new.person@nordlys.test in Nordlys AB." in result.output
    assert _user(query, "new.person@nordlys.test") is not None
    browser = Browser(app.test_client())
    assert browser.login("NEW.PERSON@nordlys.test", "a-long-password").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [("", TOO_SHORT), ("a", TOO_SHORT), ("password", TOO_SHORT), ("12345678", TOO_SHORT), ("leavemealone", TOO_EASY)],
)
def test_create_user_refuses_a_short_or_common_password(runner, query, password, message):
    result = _create_user(runner, password=password)
    assert result.exit_code == 2
    assert f"Invalid value for '--password': {message}" in result.output
    assert _user(query, "new@nordlys.test") is None


@pytest.mark.parametrize("email", ["new", "new@nordlys", "new@@nordlys.test", "new person@nordlys.test"])
def test_create_user_refuses_a_malformed_address(runner, query, email):
    result = _create_user(runner, email=email)
    assert result.exit_code == 2
    assert "Invalid value for '--email': " in result.output
    assert query(lambda sess: sess.scalars(select(User.email).where(User.email.startswith("new"))).all()) == []


def test_create_user_asks_again_at_the_prompt_after_a_refused_password(app, runner, query):
    result = _create_user(runner, password=None, input="short\nleavemealone\nmy-own-phrase-1\nmy-own-phrase-1\n")
    assert result.exit_code == 0, result.output
    assert f"Error: {TOO_SHORT}" in result.output
    assert f"Error: {TOO_EASY}" in result.output
    assert "leavemealone" not in result.output  # the refused password is not echoed
    assert Browser(app.test_client()).login("new@nordlys.test", "my-own-phrase-1").status_code == 302


@pytest.mark.parametrize("email", ["owner", "owner@nordlys", "owner@nordlys.test\x00", "x@" + "y" * 5000 + ".se"])
def test_the_login_form_answers_a_malformed_address_with_a_message(browser, email):
    response = browser.login(email, "demo-owner-pw")
    assert response.status_code == 422
    doc = page(response)
    assert title(doc).startswith("Error:")
    summary = doc.find(cls="error-summary")
    assert summary is not None
    assert "Enter an email address in the correct format, like name@example.com." in summary.text()
    assert browser.get("/settings/account/subs").status_code == 302


def test_the_login_finds_the_account_however_the_address_is_cased(browser):
    response = browser.login("  Owner@NORDLYS.test ", "demo-owner-pw")
    assert response.status_code == 302
    assert browser.get("/settings/account/subs").status_code == 200
