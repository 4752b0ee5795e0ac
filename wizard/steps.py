"""The purchase flow as data: one row per step (key, title, form, when it applies, what it reveals).

Adding a step is one row here, one form in forms.py and one template in templates/steps/.
"""

from flask_babel import lazy_gettext as _l

from . import forms, mex
from .flow import Step


def _value(step, name):
    return lambda answers: answers.get(step, {}).get(name)


def is_mobile(answers) -> bool:
    return _value("type", "kind")(answers) == "mobile"


def number_choice_is(choice):
    return lambda answers: _value("number", "choice")(answers) == choice


STEPS = [
    Step("type", _l("Subscription type"), forms.TypeForm),
    Step("price_basis", _l("Price basis"), forms.PriceBasisForm),
    Step("call_rate", _l("Call rate"), forms.CallRateForm),
    Step("data_package", _l("Data package"), forms.DataPackageForm, applies=is_mobile),
    Step(
        "number",
        _l("Number"),
        forms.NumberForm,
        depends_on=("type",),
        reveals={
            "reserved_number": number_choice_is("reserved"),
            "search": number_choice_is("specific"),
            "match": number_choice_is("specific"),
            "specific_number": number_choice_is("specific"),
        },
    ),
    # Moving a number here asks four more questions: a page of its own, only on that route.
    Step(
        "porting",
        _l("Porting details"),
        forms.PortingForm,
        applies=number_choice_is("port"),
        depends_on=("type",),
        reveals={"port_owner_org_number": lambda a: _value("porting", "port_owner")(a) == "other"},
    ),
    Step(
        "sim",
        _l("SIM"),
        forms.SimForm,
        applies=is_mobile,
        reveals={"icc": lambda a: _value("sim", "sim_kind")(a) == "physical"},
    ),
    Step("pbx", _l("PBX"), forms.PbxForm, reveals={"mex": lambda a: _value("pbx", "mode")(a) == "pbx"}),
    # MEX switched on or off changes what the user step must check (that there is a number to pair with).
    Step("user", _l("User"), forms.UserForm, depends_on=("type", "pbx")),
    # Which of the chosen user's numbers to pair with: computed from the user, so a step after it.
    Step("mex", _l("MEX pairing"), forms.MexForm, applies=mex.wanted, depends_on=("type", "pbx", "user")),
    Step("top_up", _l("Top-up"), forms.TopUpForm, applies=is_mobile),
    Step("review", _l("Check your answers"), final=True),
]

BY_KEY = {step.key: step for step in STEPS}
