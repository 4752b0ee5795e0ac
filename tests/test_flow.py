"""The route through the steps as a pure function of the answers (tables of answers, no Flask)."""

import pytest

from wizard import flow
from wizard.steps import STEPS

MOBILE = {"type": {"kind": "mobile"}}
FIXED = {"type": {"kind": "fixed"}}


def keys(steps):
    return [s.key for s in steps]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, ["type", "price_basis", "call_rate", "number", "pbx", "user", "review"]),
        (
            MOBILE,
            ["type", "price_basis", "call_rate", "data_package", "number", "sim", "pbx", "user", "top_up", "review"],
        ),
        (FIXED, ["type", "price_basis", "call_rate", "number", "pbx", "user", "review"]),
    ],
)
def test_path_depends_on_the_subscription_type(answers, expected):
    assert keys(flow.path(STEPS, answers)) == expected


@pytest.mark.parametrize(
    ("answers", "resume"),
    [
        (MOBILE, "price_basis"),
        (
            {**MOBILE, "price_basis": {"basis": "bound"}, "call_rate": {"code": "x"}, "data_package": {"code": "y"}},
            "number",
        ),
        ({**FIXED, "price_basis": {}, "call_rate": {}, "number": {}, "pbx": {}, "user": {}}, "review"),
        ({**MOBILE, "price_basis": {}, "call_rate": {}}, "data_package"),
    ],
)
def test_first_incomplete_is_the_resume_point(answers, resume):
    assert flow.first_incomplete(STEPS, answers).key == resume


@pytest.mark.parametrize(
    ("answers", "key", "allowed"),
    [
        (MOBILE, "price_basis", True),
        (MOBILE, "call_rate", False),
        (MOBILE, "type", True),
        (FIXED, "sim", False),
        ({**FIXED, "price_basis": {}, "call_rate": {}, "number": {}, "pbx": {}, "user": {}}, "review", True),
        ({**MOBILE, "price_basis": {}}, "review", False),
    ],
)
def test_only_answered_steps_and_the_next_may_be_visited(answers, key, allowed):
    assert flow.can_visit(STEPS, answers, key) is allowed


def test_switching_to_fixed_prunes_mobile_only_steps_and_the_number():
    answers = {
        **MOBILE,
        "price_basis": {"basis": "bound"},
        "call_rate": {"code": "c"},
        "data_package": {"code": "d"},
        "number": {"choice": "new"},
        "sim": {"sim_kind": "esim"},
        "top_up": {"top_up": "yes"},
    }
    result, dropped = flow.answer(STEPS, answers, "type", {"kind": "fixed"})
    assert set(result) == {"type", "price_basis", "call_rate"}
    assert sorted(keys(dropped)) == ["data_package", "number", "sim", "top_up"]


def test_answering_the_same_value_again_drops_nothing():
    answers = {**MOBILE, "number": {"choice": "new"}}
    result, dropped = flow.answer(STEPS, answers, "type", {"kind": "mobile"})
    assert result == answers and dropped == []


@pytest.mark.parametrize(
    ("pbx", "kept"),
    [
        ({"mode": "pbx", "mex": True}, True),
        ({"mode": "pbx", "mex": False}, False),
        ({"mode": "independent"}, False),
    ],
)
def test_mex_pairing_is_a_step_only_while_mex_is_on(pbx, kept):
    answers = {**FIXED, "pbx": pbx, "user": {"user_id": "1"}, "mex": {"mex_partner": "9"}}
    result, _ = flow.prune(STEPS, answers)
    assert ("mex" in keys(flow.path(STEPS, answers))) is kept
    assert ("mex" in result) is kept
    assert result["user"] == {"user_id": "1"}


def test_choosing_another_user_asks_for_the_mex_pairing_again():
    answers = {**FIXED, "pbx": {"mode": "pbx", "mex": True}, "user": {"user_id": "1"}, "mex": {"mex_partner": "9"}}
    result, dropped = flow.answer(STEPS, answers, "user", {"user_id": "2"})
    assert "mex" not in result and keys(dropped) == ["mex"]
    answered = {**{s.key: {} for s in flow.path(STEPS, result) if s.key not in result}, **result}
    del answered["mex"]
    assert flow.first_incomplete(STEPS, answered).key == "mex"


def test_porting_details_are_a_step_only_when_moving_a_number():
    ported = {**MOBILE, "number": {"choice": "port"}, "porting": {"port_number": "+46701112233"}}
    assert keys(flow.path(STEPS, ported))[4:7] == ["number", "porting", "sim"]
    result, dropped = flow.answer(STEPS, ported, "number", {"choice": "new"})
    assert "porting" not in result and keys(dropped) == ["porting"]
    assert "porting" not in keys(flow.path(STEPS, result))


def test_previous_step_follows_the_route():
    assert flow.previous_step(STEPS, MOBILE, "type") is None
    assert flow.previous_step(STEPS, MOBILE, "number").key == "data_package"
    assert flow.previous_step(STEPS, FIXED, "number").key == "call_rate"
    ported = {**MOBILE, "number": {"choice": "port"}}
    assert flow.previous_step(STEPS, ported, "sim").key == "porting"


def test_turning_pbx_off_clears_mex():
    result, _ = flow.answer(
        STEPS, {**FIXED, "pbx": {"mode": "pbx", "mex": True}}, "pbx", {"mode": "independent", "mex": True}
    )
    assert result["pbx"] == {"mode": "independent"}


@pytest.mark.parametrize(
    ("choice", "shown"),
    [
        ("new", set()),
        ("reserved", {"reserved_number"}),
        ("specific", {"search", "match", "specific_number"}),
        ("port", set()),
    ],
)
def test_number_choice_reveals_its_fields(choice, shown):
    step = next(s for s in STEPS if s.key == "number")
    assert flow.visible_fields(step, {"number": {"choice": choice}}) == shown


def test_next_step_follows_the_route():
    assert flow.next_step(STEPS, FIXED, "call_rate").key == "number"
    assert flow.next_step(STEPS, MOBILE, "call_rate").key == "data_package"
    assert flow.next_step(STEPS, MOBILE, "review").key == "review"


def test_flow_does_not_import_flask():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(flow))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not any(m and m.startswith(("flask", "sqlalchemy")) for m in imported)
