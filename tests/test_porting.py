"""Porting: importing the porting register from CSV, and the porting status after Save, as the
operator (the CLI) and the buyer (the wizard, the Subs page) see them."""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.test_wizard_journeys import FIXED_ORDER, number_id, user_id, walk
from tests.wizard_client import errors
from wizard import clock  # business dates are Stockholm dates, as the app's
from wizard.models import AuditEvent, MexPair, PhoneNumber, PortingRegisterEntry, Subscription, User
from wizard.porting import PORTING_STATUSES, can_move, earliest_porting_date, read_register_csv

HEADER = "number,current_operator,binding_ends_on\n"
# The seed's register: +46701112233 may port, +46704445566 is bound for about four more months.
SEEDED = {"+46701112233", "+46704445566"}


def later(days):
    return (clock.today() + timedelta(days=days)).isoformat()


def shown_date(day):
    """A date as the English pages show it (Babel's medium format)."""
    return f"{day:%b} {day.day}, {day.year}"


# --------------------------------------------------------------------------- reading a register file


def test_numbers_in_any_common_format_are_read_as_e164():
    rows, problems = read_register_csv(
        io.StringIO(
            HEADER
            + "070-555 66 77,Telia,2027-01-31\n"
            + "+46 70 888 99 00,Tele2,\n"
            + "0046 8 123 456 71,Telenor,2020-05-01\n"
            + '"+46 (0)70-999 88 77", Comviq ,  \n'
        )
    )
    assert problems == []
    assert [(r.line, r.e164, r.current_operator, r.binding_ends_on) for r in rows] == [
        (2, "+46705556677", "Telia", date(2027, 1, 31)),
        (3, "+46708889900", "Tele2", None),
        (4, "+46812345671", "Telenor", date(2020, 5, 1)),
        (5, "+46709998877", "Comviq", None),
    ]


def test_excel_style_files_are_read_too():
    """A byte-order mark, semicolons, a capitalised header in another order, an extra column, blank lines."""
    text = "\ufeffCurrent_Operator;Number;Note;Binding_Ends_On\r\n\r\nTelia;070-555 66 77;vip;2027-01-31\r\n"
    rows, problems = read_register_csv(io.StringIO(text))
    assert problems == []
    assert [(r.line, r.e164, r.current_operator, r.binding_ends_on) for r in rows] == [
        (3, "+46705556677", "Telia", date(2027, 1, 31))
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12345,Telia,", 'line 3, number "12345": not a valid phone number'),
        (",Telia,", 'line 3, number "": the number is missing'),
        ("070-555 66 78,,", 'line 3, current_operator "": the current operator is missing'),
        ("070-555 66 78,Telia,31/01/2027", 'line 3, binding_ends_on "31/01/2027": not a date in the form YYYY-MM-DD'),
        ("070-555 66 78,Telia,2027-02-30", 'line 3, binding_ends_on "2027-02-30": not a date in the form YYYY-MM-DD'),
        (
            "+46 70 555 66 77,Tele2,",
            'line 3, number "+46 70 555 66 77": duplicate number +46705556677, already on line 2',
        ),
        ("070-555 66 78,Telia", 'line 3, row "070-555 66 78,Telia": has 2 columns, the header has 3'),
        (
            "070-555 66 78,Tel\x00ia,",
            'line 3, current_operator "Tel\ufffdia": the operator name has control characters',
        ),
    ],
)
def test_a_bad_row_is_reported_with_its_line_value_and_reason(line, expected):
    rows, problems = read_register_csv(io.StringIO(HEADER + "070-555 66 77,Telia,2027-01-31\n" + line + "\n"))
    assert [r.line for r in rows] == [2], "the good row is read, the bad one is not"
    assert [str(p) for p in problems][0].startswith(expected)


def test_every_problem_of_a_row_is_reported():
    _rows, problems = read_register_csv(io.StringIO(HEADER + "12345,,tomorrow\n"))
    assert [(p.line, p.column) for p in problems] == [(2, "number"), (2, "current_operator"), (2, "binding_ends_on")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("number,binding_ends_on\n070-555 66 77,\n", "the header lacks the column current_operator"),
        (
            "070-555 66 77,Telia,2027-01-31\n",
            "the header lacks the columns number, current_operator, binding_ends_on",
        ),
        ("", "the file is empty"),
    ],
)
def test_a_file_without_the_right_header_is_refused(text, expected):
    rows, problems = read_register_csv(io.StringIO(text))
    assert rows == []
    assert len(problems) == 1 and problems[0].line == 1 and expected in problems[0].reason


# --------------------------------------------------------------------------- import-porting-register


@pytest.fixture
def csv_file(tmp_path):
    def _write(body, name="register.csv", header=HEADER):
        path = tmp_path / name
        path.write_text(header + body, encoding="utf-8")
        return str(path)

    return _write


def register(query):
    return query(
        lambda s: {e.e164: (e.current_operator, e.binding_ends_on) for e in s.scalars(select(PortingRegisterEntry))}
    )


def test_import_inserts_new_numbers_and_updates_known_ones(runner, csv_file, query):
    before = register(query)
    path = csv_file(
        "070-555 66 77,Telia,2027-01-31\n"
        "+46 70 888 99 00,Tele2,\n"
        "070-111 22 33,Tre,2026-12-31\n"  # a seeded number: updated
    )
    result = runner.invoke(args=["import-porting-register", path])
    assert result.exit_code == 0, result.output
    assert "Imported 3 numbers" in result.output and "2 inserted, 1 updated, 0 unchanged" in result.output
    assert register(query) == {
        **before,
        "+46705556677": ("Telia", date(2027, 1, 31)),
        "+46708889900": ("Tele2", None),
        "+46701112233": ("Tre", date(2026, 12, 31)),
    }


def test_importing_again_updates_in_place(runner, csv_file, query):
    assert runner.invoke(args=["import-porting-register", csv_file("070-555 66 77,Telia,2027-01-31\n")]).exit_code == 0
    again = csv_file("070-555 66 77,Tele2,\n0705556677,Tele2,\n", name="again.csv")
    result = runner.invoke(args=["import-porting-register", again])
    assert result.exit_code == 1 and "duplicate number +46705556677, already on line 2" in result.output
    result = runner.invoke(
        args=["import-porting-register", csv_file("070-555 66 77,Tele2,\n070-111 22 33,Telia,\n", name="fixed.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "0 inserted, 2 updated, 0 unchanged" in result.output
    entries = register(query)
    assert entries["+46705556677"] == ("Tele2", None)
    assert len(entries) == 3, "one row per number, never two"
    result = runner.invoke(args=["import-porting-register", csv_file("070-555 66 77,Tele2,\n", name="same.csv")])
    assert "0 inserted, 0 updated, 1 unchanged" in result.output


def test_a_file_with_bad_rows_imports_nothing_and_says_why(runner, csv_file, query):
    before = register(query)
    path = csv_file(
        "070-555 66 77,Telia,2027-01-31\n"  # good: must not be imported either
        "070-111 22 33,Tre,\n"  # good update of a seeded number: not applied
        "12345,Telia,\n"
        "070-888 99 00,Tele2,2027-13-01\n"
        "0705556677,Tele2,\n"
    )
    result = runner.invoke(args=["import-porting-register", path])
    assert result.exit_code == 1
    assert "Nothing imported" in result.output and "3 lines rejected (2 lines were fine)" in result.output
    assert 'line 4, number "12345": not a valid phone number' in result.output
    assert 'line 5, binding_ends_on "2027-13-01": not a date in the form YYYY-MM-DD' in result.output
    assert 'line 6, number "0705556677": duplicate number +46705556677, already on line 2' in result.output
    assert register(query) == before


def test_a_file_without_a_column_imports_nothing(runner, csv_file, query):
    before = register(query)
    result = runner.invoke(
        args=["import-porting-register", csv_file("070-555 66 77,Telia\n", header="number,current_operator\n")]
    )
    assert result.exit_code == 1
    assert "the header lacks the column binding_ends_on" in result.output
    assert register(query) == before


def test_a_missing_or_unreadable_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["import-porting-register", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "070-555 66 77,Telia Företag,\n").encode("latin-1"))
    result = runner.invoke(args=["import-porting-register", str(latin1)])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.output


# --------------------------------------------------------------------------- the wizard uses the imported register


def port_answer(number):
    """The Porting step's answer (the Number step's is {"choice": "port"})."""
    return {
        "port_number": number,
        "port_operator": "Telia",
        "port_owner": "ours",
        "port_date": earliest_porting_date("mobile", clock.today()).isoformat(),
    }


BEFORE_NUMBER = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-variable"}),
    ("data_package", {"code": "data-5"}),
]


@pytest.fixture
def at_porting(buyer_as):
    """at_porting() walks a new mobile order up to the Porting step (the Number step chose "port")."""

    def _at():
        b = buyer_as("buyer")
        b.start("mobile")
        walk(b, BEFORE_NUMBER + [("number", {"choice": "port"})])
        return b

    return _at


def test_an_imported_binding_refuses_the_number_in_the_wizard(runner, csv_file, at_porting):
    ends = clock.today() + timedelta(days=90)
    path = csv_file(f"070-555 66 77,Telia,{ends.isoformat()}\n070-444 55 66,Tele2,\n")
    assert runner.invoke(args=["import-porting-register", path]).exit_code == 0
    response = at_porting().answer("porting", port_answer("+46 70 555 66 77"))
    assert response.status_code == 422
    assert errors(response) == [
        f"This number is bound to its current operator until {shown_date(ends)}. You can port it after that date."
    ]
    # The seed's bound number has no binding any more after the import: it may port now.
    assert at_porting().answer("porting", port_answer("070-444 55 66")).status_code == 303


# --------------------------------------------------------------------------- port-status

ALLOWED = {
    ("submitted", "scheduled"),
    ("submitted", "rejected"),
    ("submitted", "cancelled"),
    ("scheduled", "completed"),
    ("scheduled", "rejected"),
    ("scheduled", "cancelled"),
}


@pytest.mark.parametrize("old", PORTING_STATUSES)
@pytest.mark.parametrize("new", PORTING_STATUSES)
def test_transition_table(old, new):
    assert can_move(old, new) == ((old, new) in ALLOWED)


@pytest.fixture
def ported(buyer_as, query):
    """ported() buys a mobile subscription porting 070-111 22 33 in; returns the buyer."""

    def _buy(user="erik@nordlys.test", pbx=("pbx", {"mode": "independent"}), mex_partner=None):
        b = buyer_as("buyer")
        b.start("mobile")
        mex = [("mex", {"mex_partner": number_id(query, mex_partner)})] if mex_partner else []
        walk(
            b,
            BEFORE_NUMBER
            + [
                ("number", {"choice": "port"}),
                ("porting", port_answer("070-111 22 33")),
                ("sim", {"sim_kind": "esim"}),
                pbx,
                ("user", {"user_id": user_id(query, user)}),
                *mex,
                ("top_up", {"top_up": "no"}),
            ],
        )
        assert b.save().status_code == 303
        return b

    return _buy


def subscription_state(query):
    def _state(s):
        sub = s.scalar(select(Subscription))
        events = s.execute(
            select(AuditEvent.action, AuditEvent.subject)
            .where(AuditEvent.action.like("porting.%"))
            .order_by(AuditEvent.id)
        ).all()
        return sub.id, sub.porting_status, sub.status, [tuple(e) for e in events]

    return query(_state)


@pytest.mark.parametrize(
    ("steps", "porting_status", "status"),
    [
        (["scheduled"], "scheduled", "pending_port"),
        (["scheduled", "completed"], "completed", "active"),
        (["rejected"], "rejected", "cancelled"),
        (["cancelled"], "cancelled", "cancelled"),
        (["scheduled", "rejected"], "rejected", "cancelled"),
        (["scheduled", "cancelled"], "cancelled", "cancelled"),
    ],
)
def test_allowed_transitions_move_the_subscription_and_are_audited(
    ported, runner, query, steps, porting_status, status
):
    ported()
    for step in steps:
        result = runner.invoke(args=["port-status", "070-111 22 33", step])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("+46701112233: porting ") and f"-> {step}" in result.output
    sub_id, got_porting, got_status, events = subscription_state(query)
    assert (got_porting, got_status) == (porting_status, status)
    assert events == [(f"porting.{step}", f"subscription:{sub_id}") for step in steps]


@pytest.mark.parametrize(
    ("steps", "attempt", "reason"),
    [
        ([], "completed", "from submitted it can only become scheduled, rejected or cancelled"),
        ([], "submitted", "cannot go from submitted to submitted"),
        (["scheduled"], "scheduled", "from scheduled it can only become completed, rejected or cancelled"),
        (["scheduled"], "submitted", "cannot go from scheduled to submitted"),
        (["scheduled", "completed"], "cancelled", "completed is final"),
        (["scheduled", "completed"], "rejected", "completed is final"),
        (["rejected"], "scheduled", "rejected is final"),
        (["cancelled"], "completed", "cancelled is final"),
    ],
)
def test_refused_transitions_change_nothing(ported, runner, query, steps, attempt, reason):
    ported()
    for step in steps:
        assert runner.invoke(args=["port-status", "+46701112233", step]).exit_code == 0
    before = subscription_state(query)
    result = runner.invoke(args=["port-status", "+46701112233", attempt])
    assert result.exit_code == 1
    assert f"Error: The porting of +46701112233 cannot go from {before[1]} to {attempt}" in result.output
    assert reason in result.output
    assert subscription_state(query) == before


def test_port_status_refuses_numbers_without_a_porting_subscription(buyer_as, runner, query):
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    assert b.save().status_code == 303
    bought = query(
        lambda s: s.scalar(select(PhoneNumber.e164).join(Subscription, Subscription.number_id == PhoneNumber.id))
    )
    cases = [
        (["12345", "scheduled"], 1, "Error: '12345' is not a valid phone number."),
        (["070-999 88 77", "scheduled"], 1, "Error: No subscription has the number +46709998877."),
        (
            ["08-123 456 70", "scheduled"],
            1,
            "Error: No subscription has the number +46812345670.",  # Anna's, no subscription
        ),
        ([bought, "scheduled"], 1, f"Error: The subscription of {bought} (subscription "),
        ([bought, "done"], 2, "Invalid value for 'STATUS'"),
    ]
    for args, code, message in cases:
        result = runner.invoke(args=["port-status", *args])
        assert (result.exit_code, message in result.output) == (code, True), result.output
    assert (
        query(
            lambda s: s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("porting.%")))
        )
        == 0
    )


def test_scheduled_may_carry_the_confirmed_date(ported, runner, query):
    ported()
    day = earliest_porting_date("mobile", clock.today()) + timedelta(days=7)
    result = runner.invoke(args=["port-status", "0701112233", "scheduled", "--date", day.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"porting date {day.isoformat()}" in result.output
    assert query(lambda s: s.scalar(select(Subscription.porting_date))) == day
    result = runner.invoke(args=["port-status", "0701112233", "completed", "--date", day.isoformat()])
    assert result.exit_code == 1 and "A date can only be given when the porting is scheduled." in result.output
    assert query(lambda s: s.scalar(select(Subscription.porting_status))) == "scheduled"


def test_a_rejected_port_removes_its_mex_pair_and_keeps_the_number_row(ported, runner, query):
    ported(user="anna@nordlys.test", pbx=("pbx", {"mode": "pbx", "mex": "y"}), mex_partner="+46812345670")
    assert query(lambda s: s.scalar(select(func.count()).select_from(MexPair))) == 1
    result = runner.invoke(args=["port-status", "070-111 22 33", "rejected"])
    assert result.exit_code == 0, result.output
    assert "its MEX pair with +46812345670 is removed" in result.output

    def check(s):
        assert s.scalar(select(func.count()).select_from(MexPair)) == 0
        sub = s.scalar(select(Subscription))
        assert (sub.status, sub.porting_status, sub.number.e164) == ("cancelled", "rejected", "+46701112233")
        mex_event = s.scalar(select(AuditEvent).where(AuditEvent.action == "mex.disconnected"))
        assert mex_event.data == {"fixed": "+46812345670", "mobile": "+46701112233", "reason": "porting.rejected"}
        anna_fixed = s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+46812345670"))
        assert anna_fixed.status == "assigned" and anna_fixed.pbx, "Anna keeps her fixed number"

    query(check)


# --------------------------------------------------------------------------- the Subs page


def status_cell(b):
    html = b.get("/settings/account/subs").get_data(as_text=True).replace("\u00a0", " ")
    return [cell.strip() for cell in re.findall(r'<td data-label="Status">(.*?)</td>', html, re.S)]


@pytest.mark.parametrize(
    ("steps", "shown"),
    [
        (["scheduled"], "Porting scheduled for {wanted}"),
        (["scheduled", "completed"], "Ported"),
        (["rejected"], "Porting rejected"),
        (["scheduled", "cancelled"], "Porting cancelled"),
    ],
)
def test_the_subs_page_shows_the_porting_status(ported, runner, steps, shown):
    b = ported()
    wanted = shown_date(earliest_porting_date("mobile", clock.today()))
    assert status_cell(b) == [f"Porting submitted, wanted date {wanted}"]
    for step in steps:
        assert runner.invoke(args=["port-status", "070-111 22 33", step]).exit_code == 0
    assert status_cell(b) == [shown.format(wanted=wanted)]


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_a_number_that_never_arrived_is_no_longer_the_users(ported, runner, query, status):
    ported(user="anna@nordlys.test", pbx=("pbx", {"mode": "pbx", "mex": "y"}), mex_partner="+46812345670")
    assert runner.invoke(args=["port-status", "070-111 22 33", status]).exit_code == 0
    number = query(lambda s: s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+46701112233")))
    assert number.user_id is None and number.pbx is False

    def offered_to_anna(s):
        from wizard import mex

        anna = s.scalar(select(User).where(User.email == "anna@nordlys.test"))
        return [n.e164 for n in mex.partner_candidates(s, anna.organisation_id, anna.id, "fixed")]

    assert "+46701112233" not in query(offered_to_anna)
