"""One WTForms form per step. `prepare(ctx)` fills the choices validation needs (only for the
fields the step shows), `decorate(ctx)` adds what only the page shows, and `values(ctx)` turns
valid input into what the draft stores. Forms only read: the side effects of an answer (number
holds) happen in effects.py, in the transaction that saves the draft."""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from stdnum.dk import cvr as dk_cvr
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from wtforms import BooleanField, DateField, Form, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from . import mex, numbers, porting, pricing
from .context import StepContext
from .db import as_int
from .i18n import day, money
from .inputs import MAX_PAGE, AtMost, NoControlCharacters, WholeNumberField
from .models import PhoneNumber, Sim, Subscription, User
from .pricing import localised
from .sim import IccError, clean_icc, grouped
from .templating import unbroken


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def _required(message):
    return [InputRequired(message=message)]


class StepForm(FlaskForm):
    """Base of every step form: prepare choices, then store plain values."""

    hints: dict[str, dict[str, Any]] = {}
    # Buttons that only show the step again (e.g. paging search results), never save it.
    redisplay_fields: tuple[str, ...] = ("_reveal",)

    def only_shows_again(self, formdata) -> bool:
        """Whether this post asks to see the step again (Search, a pager) rather than to save it."""
        return any(name in formdata for name in self.redisplay_fields)

    # Follow-up fields whose option is not chosen (set by orders.bind_form): every field is in the
    # page, so the buyer sees them all without JavaScript, but these are neither validated nor stored.
    ignored: frozenset[str] = frozenset()

    def applies(self, name: str) -> bool:
        """Whether this field is asked now (it exists and its option is chosen)."""
        return name in self and name not in self.ignored

    def validate(self, extra_validators=None) -> bool:
        """Validate the fields that apply; those that do not keep no errors and are not read."""
        every: dict[str, Any] = getattr(self, "_fields")  # noqa: B009 (WTForms leaves it untyped)
        setattr(self, "_fields", type(every)((n, f) for n, f in every.items() if n not in self.ignored))  # noqa: B010
        try:
            return super().validate(extra_validators)
        finally:
            setattr(self, "_fields", every)  # noqa: B010

    def prepare(self, ctx: StepContext) -> None:
        """Fill the choices validation needs (nothing by default)."""

    def decorate(self, ctx: StepContext) -> None:
        """Add what only the page shows, before it is rendered (nothing by default)."""

    def values(self, ctx: StepContext) -> dict | None:
        """The values to store; None when a field error was added."""
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token" and self.applies(name)}

    @classmethod
    def describe(cls, ctx: StepContext, stored: dict) -> str:
        """The stored answer in words for Check your answers: the labels of the chosen options."""
        form = cls(formdata=None, meta={"csrf": False})
        words = []
        for name, value in stored.items():
            choices = getattr(form._fields.get(name), "choices", None) or []
            words.append(next((str(c.label) for c in choices if c.value == value), str(value)))
        return ", ".join(words)


class SearchForm(Form):
    """A list's search box and pager, read from the query string (a GET form: no CSRF token)."""

    q = StringField(
        validators=[NoControlCharacters(), Length(max=100, message=_l("Search with at most 100 characters"))]
    )
    page = WholeNumberField(default=1, validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])

    def text(self) -> str | None:
        """The text to search for ('' for everything), or None when it cannot be searched for."""
        return None if self.q.errors else (self.q.data or "")

    def error(self) -> str | None:
        """What is wrong with the search text, to show beside the box."""
        return str(self.q.errors[0]) if self.q.errors else None

    @staticmethod
    def number(field) -> int:
        """A page number from the query, 1 when it is missing or out of range (paging clamps the rest)."""
        return field.data if not field.errors and field.data else 1


class SubsSearchForm(SearchForm):
    """Subs: the subscriptions' search and pager, and the unfinished orders' pager."""

    drafts_page = WholeNumberField(default=1, validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])


KIND = {"mobile": _l("Mobile"), "fixed": _l("Fixed")}
BASIS = {"bound": _l("Bound (contract prices)"), "unbound": _l("Unbound (current price list)")}


class TypeForm(StepForm):
    kind = RadioField(
        _l("What kind of subscription?"),
        choices=options([("mobile", _l("Mobile")), ("fixed", _l("Fixed"))]),
        validators=_required(_l("Choose mobile or fixed")),
    )


class PriceBasisForm(StepForm):
    basis = RadioField(_l("Which prices?"), validators=_required(_l("Choose bound or unbound prices")))

    def prepare(self, ctx):
        contract = ctx.contract
        bound = (_l("Bound: prices from your contract"),)
        if contract:
            self.hints = {
                "basis": {
                    "bound": _l(
                        "Contract %(ref)s, binding period %(months)s months",
                        ref=contract.reference,
                        months=contract.binding_months,
                    ),
                    "unbound": _l("Current price list, no binding period"),
                }
            }
            self.basis.choices = [
                SelectChoice("bound", *bound),
                SelectChoice("unbound", _l("Unbound: current price list")),
            ]
        else:
            self.hints = {
                "basis": {
                    "bound": _l("Not available: %(org)s has no active contract", org=ctx.org.name),
                    "unbound": _l("Current price list, no binding period"),
                }
            }
            self.basis.choices = [
                SelectChoice("bound", *bound, {"disabled": True}),
                SelectChoice("unbound", _l("Unbound: current price list")),
            ]
        self._contract = contract

    @classmethod
    def describe(cls, ctx, stored):
        return str(BASIS.get(stored.get("basis"), ""))

    def validate_basis(self, field):
        if field.data == "bound" and not self._contract:
            raise ValidationError(_l("Bound prices need an active contract. Choose unbound."))


class _PriceChoiceForm(StepForm):
    category = ""
    code = RadioField(validators=_required(_l("Choose an option")))

    @classmethod
    def describe(cls, ctx, stored):
        item = pricing.find(ctx.prices(), cls.category, stored.get("code"))
        if item is None:
            return ""
        return f"{localised(item, 'name')}, " + gettext("%(price)s per month", price=money(item.monthly_ore))

    def prepare(self, ctx):
        found = pricing.of(ctx.prices(), self.category)
        self.code.choices = options([(i.code, localised(i, "name")) for i in found])
        self.hints = {
            "code": {
                i.code: gettext("%(price)s per month", price=money(i.monthly_ore)) + f" · {localised(i, 'description')}"
                for i in found
            }
        }


class CallRateForm(_PriceChoiceForm):
    category = "call_rate"
    code = RadioField(_l("Which call rate?"), validators=_required(_l("Choose a call rate")))


class DataPackageForm(_PriceChoiceForm):
    category = "data_package"
    code = RadioField(_l("Which data package?"), validators=_required(_l("Choose a data package")))


NUMBER_CHOICES = [
    ("new", _l("A new number")),
    ("reserved", _l("One of our reserved numbers")),
    ("specific", _l("A specific number")),
    ("port", _l("Move (port) an existing number")),
]


def operator_label(operator: str):
    """An operator as shown: its name, or "Another operator" in the visitor's language (lazily: the
    Number form's choices are made once, when the module loads)."""
    return _l("Another operator") if operator == porting.OTHER_OPERATOR else operator


class NumberForm(StepForm):
    """Which number: a new one (held at once), a reserved one, one found by searching, or one to move
    here (whose details are the Porting step's)."""

    choice = RadioField(
        _l("Which number?"), choices=options(NUMBER_CHOICES), validators=_required(_l("Choose how to get a number"))
    )
    reserved_number = RadioField(
        _l("Reserved number"), validate_choice=True, validators=_required(_l("Choose one of your reserved numbers"))
    )
    search = StringField(
        _l("Search free numbers by digits"),
        validators=[NoControlCharacters(), Length(max=20, message=_l("Search with at most 20 digits"))],
    )
    match = SelectField(
        _l("Where the digits are"),
        default="anywhere",
        choices=options(
            [("anywhere", _l("Anywhere in the number")), ("start", _l("At the start")), ("end", _l("At the end"))]
        ),
    )
    # Sent by the Previous/Next buttons (which only show the step again): a page out of range shows the first.
    results_page = WholeNumberField(default=1, validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    specific_number = RadioField(_l("Free numbers"), validate_choice=False)
    redisplay_fields = ("_reveal", "results_page")

    def only_shows_again(self, formdata) -> bool:
        """Also Enter in the search box (which posts with the form's default button, Save and continue)
        before a number is picked: the buyer asked for numbers, so the step shows them."""
        typed_a_search = formdata.get("choice") == "specific" and (formdata.get("search") or "").strip()
        return super().only_shows_again(formdata) or bool(typed_a_search and not formdata.get("specific_number"))

    held = None
    more_results = False
    searched = False
    reserved: list[PhoneNumber] | None = None

    def prepare(self, ctx):
        self.ctx = ctx
        if self.applies("reserved_number"):
            self.fill_reserved(ctx)

    def fill_reserved(self, ctx):
        self.reserved = ctx.cached(("reserved", ctx.kind), lambda: numbers.reserved_for(ctx.sess, ctx.org.id, ctx.kind))
        self.reserved_number.choices = options([(str(n.id), numbers.national(n.e164)) for n in self.reserved])

    def decorate(self, ctx):
        chosen = ctx.answers.get("number", {})
        if ctx.holding(as_int(chosen.get("number_id"))):
            self.held = ctx.held
        if self.reserved is None:
            self.fill_reserved(ctx)
        if not self.reserved:
            self.hints = {"choice": {"reserved": _l("You have no reserved numbers of this kind")}}
        if not self.applies("specific_number"):
            return  # searched when "A specific number" is chosen: by htmx as it opens, else by Search
        self.searched = True
        # The search runs before the form is validated (Search and the pager only show the step
        # again): its text and page are checked first, and a search that fails says so beside its field.
        # Without a search text it lists the first free numbers.
        searchable = self.search.validate(self)
        page = self.results_page.data
        if self.results_page.process_errors or not (isinstance(page, int) and 1 <= page <= MAX_PAGE):
            page = 1
        found, self.more_results = (
            numbers.search_free(
                ctx.sess, ctx.kind, self.search.data or "", ctx.now, self.match.data or "anywhere", page
            )
            if searchable
            else ([], False)
        )
        self.results_page.data = page
        if self.held and chosen.get("choice") == "specific" and all(n.id != self.held.id for n in found):
            found.insert(0, self.held)  # the buyer's own held number stays on offer
        self.specific_number.choices = options([(str(n.id), numbers.national(n.e164)) for n in found])

    @classmethod
    def describe(cls, ctx, a):
        label = dict(NUMBER_CHOICES).get(a.get("choice"), "")
        return f"{unbroken(numbers.national(a['e164']))} ({label})" if a.get("e164") else str(label)

    def validate_specific_number(self, field):
        # Whether it is still free is settled when it is held (effects.settle), in the saving transaction.
        if as_int(field.data) is None:
            raise ValidationError(_l("Choose a number from the search results"))

    def values(self, ctx):
        choice = self.choice.data
        if choice == "port":
            return {"choice": choice}  # the number to move is the Porting step's answer
        if choice == "reserved":
            number = next(n for n in self.reserved or [] if str(n.id) == self.reserved_number.data)
            return {"choice": choice, "number_id": str(number.id), "e164": number.e164}
        if choice == "new":
            previous = ctx.answers.get("number", {})
            if previous.get("choice") == "new" and previous.get("number_id"):
                return {"choice": "new", "number_id": previous["number_id"], "e164": previous.get("e164")}
            return {"choice": "new"}  # effects.settle holds the next free number
        return {
            "choice": choice,
            "number_id": str(as_int(self.specific_number.data)),
            "search": self.search.data or "",
            "match": self.match.data or "anywhere",
        }


class PortingForm(StepForm):
    """The number to move here, from which operator, when, and who owns it today."""

    port_number = StringField(
        _l("Number to move"),
        validators=[DataRequired(_l("Enter the number to move")), NoControlCharacters(), AtMost(30)],
    )
    port_operator = SelectField(
        _l("Current operator"),
        choices=options([("", _l("Choose operator"))] + [(o, operator_label(o)) for o in porting.OPERATORS]),
        validators=[DataRequired(_l("Choose the current operator"))],
    )
    port_date = DateField(_l("Wanted porting date"), validators=[InputRequired(_l("Enter the wanted porting date"))])
    port_owner = RadioField(
        _l("Who owns the number today?"),
        choices=options([("ours", _l("Our organisation")), ("other", _l("Another organisation"))]),
        validators=_required(_l("Choose who owns the number")),
    )
    port_owner_org_number = StringField(
        _l("The other organisation's organisation number"),
        validators=[DataRequired(_l("Enter the organisation number")), NoControlCharacters(), AtMost(20)],
    )

    def prepare(self, ctx):
        self.ctx = ctx
        self.earliest_port_date = porting.earliest_porting_date(ctx.kind or "mobile", ctx.today)

    @classmethod
    def describe(cls, ctx, a):
        text = f"{unbroken(numbers.national(a['e164']))} · " + str(
            _l(
                "from %(operator)s on %(date)s",
                operator=operator_label(a["port_operator"]),
                date=day(date.fromisoformat(a["port_date"])),
            )
        )
        if a.get("port_owner") == "other":
            text += " · " + str(_l("owned by organisation %(number)s", number=a["port_owner_org_number"]))
        return text

    def validate_port_owner_org_number(self, field):
        field.data = organisation_number(field.data)

    def validate_port_number(self, field):
        try:
            parsed = numbers.parse(field.data)
        except numbers.NumberError:
            raise ValidationError(_l("Enter a real phone number, like 070-123 45 67")) from None
        if numbers.kind_of(parsed) != self.ctx.kind:
            raise ValidationError(
                _l(
                    "This is not a %(wanted)s number. A %(wanted)s subscription needs a %(wanted)s number.",
                    wanted=_kind_label(self.ctx.kind),
                )
            )
        e164 = numbers.e164(parsed)
        entry = porting.DatabaseRegister(self.ctx.sess).lookup(e164)
        bound_until = porting.still_bound(entry, self.ctx.today)
        if bound_until:
            raise ValidationError(
                _l(
                    "This number is bound to its current operator until %(date)s. You can port it after that date.",
                    date=day(bound_until),
                )
            )
        if phonenumbers.region_code_for_number(parsed) != "SE":
            raise ValidationError(_l("Only Swedish numbers can be moved here"))
        ours = self.ctx.sess.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
        if ours is not None and ours.status == "gone":
            ours = None  # its earlier port was rejected or cancelled: it may be ordered for porting again
        if ours is not None and ours.status == "assigned":
            raise ValidationError(_l("This number already has a subscription with us."))
        if ours is not None:
            raise ValidationError(
                _l("This number is already ours, so there is nothing to move: choose it as a specific number instead.")
            )
        self.port_e164 = e164

    def validate_port_date(self, field):
        if field.data is None:
            return  # not a date: DateField has said so already
        if field.data < self.ctx.today:
            raise ValidationError(_l("The porting date cannot be in the past"))
        if field.data < self.earliest_port_date or not porting.is_working_day(field.data):
            raise ValidationError(
                _l(
                    "Choose a working day on or after %(date)s (porting takes %(n)s working days)",
                    date=day(self.earliest_port_date),
                    n=porting.LEAD_WORKING_DAYS[self.ctx.kind],
                )
            )

    def values(self, ctx):
        owner = {"port_owner": self.port_owner.data}
        if self.port_owner.data == "other":
            owner["port_owner_org_number"] = self.port_owner_org_number.data
        return {
            "e164": self.port_e164,
            "port_number": self.port_e164,
            "port_operator": self.port_operator.data,
            "port_date": self.port_date.data.isoformat(),
            **owner,
        }


ORG_NUMBER_FORMATS = (se_orgnr, no_orgnr, dk_cvr)


def organisation_number(text: str) -> str:
    """A Swedish, Norwegian or Danish organisation number, validated and formatted by python-stdnum."""
    for scheme in ORG_NUMBER_FORMATS:
        if scheme.is_valid(text):
            return scheme.format(text) if hasattr(scheme, "format") else scheme.compact(text)
    raise ValidationError(_l("Enter a valid Swedish, Norwegian or Danish organisation number, like 556677-8899"))


def _kind_label(kind):
    return {"mobile": _l("mobile"), "fixed": _l("fixed")}.get(kind, _l("mobile or fixed"))


class SimForm(StepForm):
    sim_kind = RadioField(
        _l("Which SIM?"),
        choices=options([("physical", _l("Physical SIM card")), ("esim", _l("eSIM"))]),
        validators=_required(_l("Choose physical SIM or eSIM")),
    )
    icc = StringField(
        _l("SIM card number (ICC)"),
        validators=[DataRequired(_l("Enter the SIM card number")), NoControlCharacters(), AtMost(40)],
    )
    hints = {
        "sim_kind": {
            "physical": _l("You have the SIM card in hand"),
            "esim": _l("You get a QR code to scan with the phone after saving"),
        }
    }

    ICC_MESSAGES = {
        "digits": _l("The SIM card number can only contain the digits 0 to 9"),
        "length": _l("The SIM card number must be 20 digits (you entered %(n)s)"),
        "prefix": _l("The SIM card number must start with 89"),
        "checksum": _l("The SIM card number is not valid: check the digits on the back of the card"),
    }

    def prepare(self, ctx):
        self.ctx = ctx

    @classmethod
    def describe(cls, ctx, a):
        if a.get("sim_kind") == "physical":
            return str(_l("Physical SIM, ICC %(icc)s", icc=unbroken(grouped(a["icc"]))))
        return str(_l("eSIM (QR code after saving)"))

    def validate_icc(self, field):
        try:
            icc = clean_icc(field.data)
        except IccError as exc:
            digits = len("".join(field.data.split()).replace("-", ""))
            raise ValidationError(
                self.ICC_MESSAGES[str(exc)] % {"n": digits} if str(exc) == "length" else self.ICC_MESSAGES[str(exc)]
            ) from None
        owner = self.ctx.sess.scalar(
            select(Subscription).join(Sim, Sim.subscription_id == Subscription.id).where(Sim.icc == icc)
        )
        if owner is not None and owner.organisation_id == self.ctx.org.id:
            raise ValidationError(
                _l(
                    "This SIM card is already in use for %(number)s (%(user)s)",
                    number=numbers.national(owner.number.e164),
                    user=owner.user.name,
                )
            )
        if owner is not None:
            raise ValidationError(_l("This SIM card is already in use"))
        field.data = icc

    def values(self, ctx):
        if self.sim_kind.data == "esim":
            return {"sim_kind": "esim"}
        return {"sim_kind": "physical", "icc": self.icc.data}


class PbxForm(StepForm):
    mode = RadioField(
        _l("Connect the number to your PBX?"),
        choices=options([("pbx", _l("PBX-integrated")), ("independent", _l("Independent"))]),
        validators=_required(_l("Choose PBX-integrated or independent")),
    )
    mex = BooleanField(_l("Turn on MEX: pair this number with the user's number of the other kind"))

    @classmethod
    def describe(cls, ctx, a):
        if a.get("mode") == "pbx":
            return str(_l("PBX-integrated, MEX on") if a.get("mex") else _l("PBX-integrated, MEX off"))
        return str(_l("Independent (no PBX features)"))

    hints = {
        "mode": {
            "pbx": _l("Calls go through the PBX: line state and call transfer work"),
            "independent": _l("Not part of the PBX: no line state or transfer; the operator handles all settings"),
        }
    }


def organisation_users(ctx: StepContext) -> dict[str, User]:
    """The organisation's active people who can be given a number, by id (as text), by name."""
    return {
        str(u.id): u
        for u in ctx.sess.scalars(
            select(User).where(User.organisation_id == ctx.org.id, User.active.is_(True)).order_by(User.name)
        )
    }


class UserForm(StepForm):
    user_id = SelectField(_l("Who will use the number?"), validators=[DataRequired(_l("Choose a user"))])

    def prepare(self, ctx):
        self.ctx = ctx
        self.users = ctx.cached(("users",), lambda: organisation_users(ctx))
        self.user_id.choices = options(
            [("", _l("Choose a user"))] + [(i, f"{u.name} ({u.email})") for i, u in self.users.items()]
        )

    @classmethod
    def describe(cls, ctx, a):
        user = ctx.sess.get(User, int(a["user_id"]))
        return user.name if user else ""

    def validate_user_id(self, field):
        user = self.users.get(field.data or "")  # the organisation's active users
        if user is None:
            raise ValidationError(_l("Choose a user of your organisation"))
        # With MEX on, the next step pairs this number with one of the user's: say now when there is none.
        if mex.wanted(self.ctx.answers) and not mex.partner_candidates(
            self.ctx.sess, self.ctx.org.id, user.id, self.ctx.kind
        ):
            raise ValidationError(
                _l(
                    "%(name)s has no PBX-integrated %(kind)s number to pair with. Choose another user, or go back and turn MEX off.",
                    name=user.name,
                    kind=_kind_label(mex.OTHER_KIND.get(self.ctx.kind)),
                )
            )


class MexForm(StepForm):
    """Which of the chosen user's numbers of the other kind this one is paired with (MEX)."""

    mex_partner = RadioField(
        _l("Pair with which number (MEX)?"), validators=_required(_l("Choose the number to pair with"))
    )

    def prepare(self, ctx):
        user_id = as_int(ctx.answers.get("user", {}).get("user_id"))
        partners = mex.partner_candidates(ctx.sess, ctx.org.id, user_id, ctx.kind) if ctx.kind and user_id else []
        self.mex_partner.choices = options([(str(n.id), numbers.national(n.e164)) for n in partners])

    @classmethod
    def describe(cls, ctx, a):
        partner = ctx.sess.get(PhoneNumber, int(a["mex_partner"]))
        return str(_l("MEX with %(number)s", number=unbroken(numbers.national(partner.e164)))) if partner else ""


class TopUpForm(StepForm):
    top_up = RadioField(
        _l("May the user buy extra data (top-up)?"),
        choices=options([("yes", _l("Yes")), ("no", _l("No"))]),
        validators=_required(_l("Choose yes or no")),
    )


class SaveForm(FlaskForm):
    """Check your answers' Save: a bound order is bought only with its binding period accepted (the
    label, set by the page, names the end date). CSRFProtect has checked the token of the POST already."""

    accept_binding = BooleanField(
        validators=[DataRequired(_l("Accept the binding period to save this order"))], render_kw={"required": True}
    )
