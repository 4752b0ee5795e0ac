"""Numbers as an operator's customers expect: holds that expire and never double-book, search by
digits, and the race of many buyers for few numbers, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.test_concurrency import race
from tests.test_wizard_journeys import number_id, walk
from tests.wizard_client import errors, hidden
from wizard.clock import today as stockholm_today  # business dates are Stockholm dates, as the app's
from wizard.models import Draft, PhoneNumber

SPACES = {0x00A0: " ", 0x202F: " "}  # Babel and our number format use no-break spaces
MOBILE_TO_NUMBER = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-fixed"}),
    ("data_package", {"code": "data-5"}),
]


class Clock:
    """An injected clock (app.config["CLOCK"]): tests move time instead of sleeping."""

    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app):
    app.config["CLOCK"] = Clock()
    app.config["LOGIN_IDLE_MINUTES"] = 24 * 60  # these buyers wait for holds to run out, still logged in
    return app.config["CLOCK"]


@pytest.fixture
def at_number(buyer_as):
    def _at(who="owner"):
        b = buyer_as(who)
        b.start("mobile")
        walk(b, MOBILE_TO_NUMBER)
        return b

    return _at


def status_of(query, e164):
    return query(
        lambda s: s.execute(
            select(PhoneNumber.status, PhoneNumber.held_by_draft_id, PhoneNumber.hold_expires_at).where(
                PhoneNumber.e164 == e164
            )
        ).one()
    )


def test_a_new_number_is_held_and_the_buyer_sees_until_when(at_number, clock, query):
    b = at_number()
    assert b.answer("number", {"choice": "new"}).status_code == 303
    page = b.get(b.step_url("number")).get_data(as_text=True).translate(SPACES)
    assert "Your new number is 070-123 40 00." in page
    assert "held for you until 10:30 AM" in page  # 09:00 UTC is 10:00 in Stockholm, plus 30 minutes
    status, draft, expires = status_of(query, "+46701234000")
    assert status == "held" and expires == clock.now + timedelta(minutes=30)


def test_picking_another_number_releases_the_first(at_number, query):
    b = at_number()
    b.answer("number", {"choice": "new"})
    b.answer("number", {"choice": "specific", "search": "4007", "specific_number": number_id(query, "+46701234007")})
    assert status_of(query, "+46701234000")[0] == "free"
    assert status_of(query, "+46701234007")[0] == "held"


def test_an_expired_hold_is_taken_again_on_resume_when_still_free(at_number, clock, query):
    b = at_number()
    b.answer("number", {"choice": "specific", "search": "", "specific_number": number_id(query, "+46701234003")})
    clock.advance(minutes=45)
    resumed = b.get(b.draft_url)
    assert resumed.headers["Location"].endswith("/sim")
    page = b.get(resumed.headers["Location"]).get_data(as_text=True).translate(SPACES)
    assert (
        "Your hold on 070-123 40 03 had run out. It is still free, and it is held for you again when you continue."
        in page
    )
    assert status_of(query, "+46701234003")[2] == clock.now - timedelta(minutes=15)  # reading the page wrote nothing
    assert b.answer("sim", {"sim_kind": "esim"}).status_code == 303
    assert status_of(query, "+46701234003")[2] == clock.now + timedelta(minutes=30)


def test_an_expired_hold_taken_by_someone_else_sends_the_buyer_back_to_the_number_step(at_number, clock, query):
    first = at_number()
    first.answer("number", {"choice": "specific", "search": "", "specific_number": number_id(query, "+46701234003")})
    first.answer("sim", {"sim_kind": "esim"})
    clock.advance(minutes=31)
    second = at_number("buyer")
    assert (
        second.answer(
            "number", {"choice": "specific", "search": "", "specific_number": number_id(query, "+46701234003")}
        ).status_code
        == 303
    )
    resumed = first.get(first.draft_url)
    assert resumed.headers["Location"].endswith("/number")
    page = first.get(resumed.headers["Location"]).get_data(as_text=True).translate(SPACES)
    assert "070-123 40 03 was taken while your order waited. Choose another number." in page
    assert first.get(first.step_url("pbx")).headers["Location"].endswith("/number")  # no way round the number step
    assert first.answer("number", {"choice": "new"}).status_code == 303
    drafts = query(lambda s: s.scalars(select(Draft).order_by(Draft.created_at)).all())
    assert drafts[0].answers["number"]["e164"] == "+46701234000" and "sim" in drafts[0].answers


def test_expired_holds_go_back_to_the_pool(at_number, clock, query):
    first = at_number()
    first.answer("number", {"choice": "new"})
    clock.advance(minutes=30, seconds=1)
    second = at_number("buyer")
    second.answer("number", {"choice": "new"})
    held = query(
        lambda s: s.execute(
            select(PhoneNumber.e164, Draft.created_by_id)
            .join(Draft, Draft.id == PhoneNumber.held_by_draft_id)
            .where(PhoneNumber.e164 == "+46701234000")
        ).one()
    )
    assert held.created_by_id != query(lambda s: s.scalar(select(Draft.created_by_id).order_by(Draft.created_at)))


@pytest.mark.parametrize(
    ("digits", "match", "expected", "not_expected"),
    [
        ("4005", "anywhere", ["070-123 40 05"], ["070-123 40 06"]),
        ("070123401", "start", ["070-123 40 10", "070-123 40 19"], ["070-123 40 09"]),
        ("+4670123400", "start", ["070-123 40 00", "070-123 40 09"], ["070-123 40 10"]),
        ("15", "end", ["070-123 40 15"], ["070-123 40 05"]),
        ("", "anywhere", ["070-123 40 00"], ["08-"]),
    ],
)
def test_specific_search_by_digits(at_number, digits, match, expected, not_expected):
    b = at_number()
    page = b.get(b.step_url("number")).get_data(as_text=True)
    html = (
        b.client.post(
            b.step_url("number"),
            data={
                "csrf_token": csrf_token(page),
                "version": hidden(page, "version")[0],
                "choice": "specific",
                "search": digits,
                "match": match,
                "_reveal": "1",
            },
        )
        .get_data(as_text=True)
        .translate(SPACES)
    )
    results = html.split('id="specific-results"')[1]
    for number in expected:
        assert number in results
    for number in not_expected:
        assert number not in results


def test_search_results_are_paged(at_number):
    b = at_number()
    page = b.get(b.step_url("number")).get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "version": hidden(page, "version")[0],
        "choice": "specific",
        "search": "",
        "match": "anywhere",
    }
    first = b.client.post(b.step_url("number"), data={**data, "_reveal": "1"}).get_data(as_text=True).translate(SPACES)
    assert "070-123 40 09" in first and "070-123 40 10" not in first and "More numbers" in first
    second = b.client.post(b.step_url("number"), data={**data, "results_page": "2"})
    assert second.status_code == 200
    html = second.get_data(as_text=True).translate(SPACES)
    assert "070-123 40 10" in html and "070-123 40 00" not in html and "Previous numbers" in html


def test_fifty_buyers_race_for_five_numbers(app, buyer_as, query):
    """Exactly five win; the others are told the number was just taken; nothing is held twice."""
    app.config["LOGIN_IP_RATE_LIMIT"] = "1000 per minute"  # fifty buyers log in from one address here
    app.config["MAX_OPEN_DRAFTS_PER_USER"] = 50  # and are played by two demo accounts
    targets = [number_id(query, f"+467012340{n:02d}") for n in range(5)]
    buyers = []
    for i in range(50):
        b = buyer_as("owner" if i % 2 else "buyer")
        b.start("mobile")
        walk(b, MOBILE_TO_NUMBER)
        page = b.get(b.step_url("number")).get_data(as_text=True)
        buyers.append((b, csrf_token(page), hidden(page, "version")[0], targets[i % 5]))
    results = race(
        [
            lambda b=b, token=token, version=version, target=target: b.client.post(
                b.step_url("number"),
                data={
                    "csrf_token": token,
                    "version": version,
                    "choice": "specific",
                    "search": "",
                    "specific_number": target,
                },
            )
            for b, token, version, target in buyers
        ]
    )
    statuses = [r.status_code for r in results]
    assert statuses.count(303) == 5 and statuses.count(422) == 45
    for r in results:
        if r.status_code == 422:
            assert errors(r) == ["That number was just taken. Pick another."]
    held = query(
        lambda s: s.execute(
            select(PhoneNumber.e164, PhoneNumber.held_by_draft_id).where(PhoneNumber.status == "held")
        ).all()
    )
    assert sorted(e for e, _ in held) == [f"+467012340{n:02d}" for n in range(5)]
    assert len({d for _, d in held}) == 5
    answered = query(
        lambda s: s.scalar(select(func.count()).select_from(Draft).where(Draft.answers["number"].is_not(None)))
    )
    assert answered >= 5


@pytest.mark.parametrize(
    ("org_number", "ok"),
    [
        ("556677-8899", True),
        ("5566778899", True),
        ("923609016", True),
        ("13585628", True),
        ("556677-8890", False),
        ("12345", False),
    ],
)
def test_porting_from_another_organisation_needs_a_valid_nordic_organisation_number(at_number, org_number, ok):

    from wizard.porting import earliest_porting_date

    b = at_number()
    assert b.answer("number", {"choice": "port"}).status_code == 303
    response = b.answer(
        "porting",
        {
            "port_number": "070-111 22 33",
            "port_operator": "Telia",
            "port_date": earliest_porting_date("mobile", stockholm_today()).isoformat(),
            "port_owner": "other",
            "port_owner_org_number": org_number,
        },
    )
    if ok:
        assert response.status_code == 303
    else:
        assert response.status_code == 422
        assert errors(response) == ["Enter a valid Swedish, Norwegian or Danish organisation number, like 556677-8899"]
