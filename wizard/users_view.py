"""Users & Teams → Users: find a user, see their subscriptions and numbers, connect numbers for MEX.

The user panel is one form and the server keeps no state between its requests: a change
made with *Done* travels as a hidden input (pending-<fixed number id> = E.164, or empty to
remove the pair) until *Save* re-validates all of them and writes them in one transaction.
The MEX rules themselves live in mex.py, shared with the purchase wizard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from phonenumbers import NumberParseException
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from . import db, mex, numbers, porting
from .clock import now
from .db import INTEGER_MAX, as_int
from .forms import BASIS, KIND, SearchForm
from .fragments import current_url, page_or_fragment
from .models import MexPair, Organisation, PhoneNumber, PriceItem, Subscription, User
from .paging import Page, paginate
from .permissions import requires, scoped_get
from .pricing import localised
from .templating import unbroken
from .text import has_control
from .visitor import current_user

bp = Blueprint("users", __name__)


PER_PAGE = 20
PENDING = "pending-"
CONNECTED = "connected-"

PROBLEMS = {
    "not_a_number": _l("Enter a real phone number, for example 070-123 40 00"),
    "kinds": _l("That is not a mobile number. Under Connected, enter the mobile number to pair with"),
    "unknown": _l("That number is not one of your organisation's numbers"),
    # The same words as "unknown": no hint that the number belongs to another tenant.
    "other_org": _l("That number is not one of your organisation's numbers"),
    "other_user": _l("That number does not belong to %(name)s. Both numbers must be the same user's"),
    "independent": _l("That number is independent (not connected to the PBX). MEX needs two PBX-integrated numbers"),
    "already_paired": _l("That number is already connected (MEX) to another number. Remove that connection first"),
    "missing": _l("Enter the mobile number to connect"),
    "conflict": _l("Someone changed these numbers meanwhile. Check the connection and save again"),
    "control": _l("Remove the control character (such as a tab or a line break) from the number"),
}
SUBSCRIPTION_STATUS = {"active": _l("Active"), "pending_port": _l("Waiting for porting"), "cancelled": _l("Cancelled")}


@dataclass
class PanelState:
    """What the panel form carries: pending changes, the open editor and messages."""

    pending: dict[int, str] = field(default_factory=dict)
    editing: int | None = None
    typed: str = ""
    errors: dict[int, str] = field(default_factory=dict)
    focus: str = "heading"


@dataclass
class Line:
    """A row of Phone Numbers: one number, or a MEX pair shown as one line."""

    number: PhoneNumber
    partner: PhoneNumber | None = None  # the paired mobile number of a fixed number


# --------------------------------------------------------------------------- the list


def user_search(organisation_id: int, text: str):
    """The organisation's users whose name, email or one of whose numbers contains `text`."""
    query = select(User).where(User.organisation_id == organisation_id)
    text = text.strip()
    if text:
        matches = [User.name.icontains(text, autoescape=True), User.email.icontains(text, autoescape=True)]
        digits = numbers.digits_to_find(text)
        if digits:
            matches.append(
                exists().where(
                    PhoneNumber.user_id == User.id,
                    PhoneNumber.organisation_id == organisation_id,
                    PhoneNumber.status == "assigned",
                    PhoneNumber.e164.contains(digits),
                )
            )
        query = query.where(or_(*matches))
    return query


def numbers_of(sess, organisation_id: int, user_ids) -> dict[int, list[PhoneNumber]]:
    """The numbers assigned to each of these users."""
    found: dict[int, list[PhoneNumber]] = {i: [] for i in user_ids}
    rows = sess.scalars(
        select(PhoneNumber)
        .where(
            PhoneNumber.organisation_id == organisation_id,
            PhoneNumber.user_id.in_(list(user_ids)),
            PhoneNumber.status == "assigned",
        )
        .order_by(PhoneNumber.kind, PhoneNumber.e164)
    )
    for number in rows:
        found[number.user_id].append(number)
    return found


def list_context(sess, text: str | None, page: int) -> dict:
    """One page of the search result, with what the pager needs (none when the text cannot be searched for)."""
    if text is None:
        listing = Page([], 1, 1, 0)
    else:
        query = user_search(current_user.organisation_id, text).order_by(User.name, User.id)
        listing = paginate(sess, query, page, PER_PAGE)
    users = [row.User for row in listing.rows]
    return dict(
        q=text,
        listing=listing,
        total=listing.total,
        users=users,
        user_numbers=numbers_of(sess, current_user.organisation_id, [u.id for u in users]),
    )


@bp.route("/settings/users")
@requires("users")
def users():
    """Users & Teams → Users: search (live with htmx, a GET form without), paged."""
    sess = db.session()
    search = SearchForm(request.args)
    search.validate()
    values = list_context(sess, search.text(), search.number(search.page))
    return page_or_fragment(
        "wizard/users.html",
        "user_list",
        replace_url=current_url(),
        expanded=None,
        search_error=search.error(),
        **{**values, "q": search.q.data or ""},
    )


# --------------------------------------------------------------------------- one user


def get_user(sess, user_id: int) -> User:
    """A user of the current organisation, or 404."""
    return scoped_get(sess, User, user_id)


def panel_context(sess, user: User, state: PanelState) -> dict:
    """Everything the panel shows: subscriptions, numbers as lines (a MEX pair is one line), pending changes."""
    org_id = current_user.organisation_id
    owned = numbers_of(sess, org_id, [user.id])[user.id]
    pairs = sess.scalars(select(MexPair).where(MexPair.organisation_id == org_id, MexPair.user_id == user.id)).all()
    partner = {p.fixed_number_id: p.mobile_number for p in pairs}
    in_pair = {p.mobile_number_id for p in pairs}
    lines = [Line(n, partner.get(n.id)) for n in owned if n.id not in in_pair]
    subscriptions = sess.scalars(
        select(Subscription)
        .where(Subscription.organisation_id == org_id, Subscription.user_id == user.id)
        .order_by(Subscription.created_at)
    ).all()
    package_ids = {s.data_package_id for s in subscriptions if s.data_package_id}
    packages = {
        p.id: localised(p, "name") for p in sess.scalars(select(PriceItem).where(PriceItem.id.in_(package_ids)))
    }
    fixed_by_id = {n.id: n for n in owned if n.kind == "fixed"}
    pending = [(fixed_by_id[i], value, shown(value), state.errors.get(i)) for i, value in sorted(state.pending.items())]
    candidates = mex.partner_candidates(sess, org_id, user.id, "fixed") if state.editing else []
    problems = {i: str(PROBLEMS[code]) % {"name": user.name} for i, code in state.errors.items()}
    return dict(
        user=user,
        state=state,
        lines=lines,
        subscriptions=subscriptions,
        packages=packages,
        pending=pending,
        partner=partner,
        candidates=candidates,
        problems=problems,
        kinds=KIND,
        bases=BASIS,
        statuses=SUBSCRIPTION_STATUS,
        porting_statuses=porting.PORTING_STATUS_NAMES,
    )


def shown(value: str) -> str:
    """A pending number in national form; as sent when it is not a number (Save then says why)."""
    try:
        return unbroken(numbers.national(value)) if value else ""
    except NumberParseException:
        return value


def render_panel(sess, user: User, state: PanelState, status: int = 200, push: bool = False):
    """The user's panel for htmx, or the page with that user expanded."""
    listing: dict[str, Any] = dict(
        q="",
        listing=Page([user], 1, 1, 1),
        total=1,
        users=[user],
        user_numbers=numbers_of(sess, current_user.organisation_id, [user.id]),
    )
    return page_or_fragment(
        "wizard/users_panel.html",
        "panel",
        status,
        push_url=url_for("wizard.users.user_detail", user_id=user.id) if push else None,
        page_template="wizard/users.html",
        expanded=user,
        **listing,
        **panel_context(sess, user, state),
    )


@bp.route(f"/settings/users/<int(max={INTEGER_MAX}):user_id>")
@requires("users")
def user_detail(user_id):
    """Expand a user: Subscriptions & Numbers (a page of its own without JavaScript)."""
    sess = db.session()
    return render_panel(sess, get_user(sess, user_id), PanelState(), push=True)


def fixed_number_of(sess, user: User, value: str) -> PhoneNumber:
    """A fixed number of this user named by the form, or 404 (never another organisation's)."""
    number = sess.get(PhoneNumber, as_int(value)) if as_int(value) is not None else None
    if (
        number is None
        or number.organisation_id != current_user.organisation_id
        or number.user_id != user.id
        or number.kind != "fixed"
    ):
        abort(404)
    return number


def read_pending(sess, user: User) -> dict[int, str]:
    """The pending changes the form carries, keyed by fixed number id."""
    pending = {}
    for name, value in request.form.items():
        if name.startswith(PENDING):
            pending[fixed_number_of(sess, user, name[len(PENDING) :]).id] = value.strip()
    return pending


def typed_for(sess, fixed_id: int, pending: dict[int, str]) -> str:
    """What the Connected field shows when it opens: the pending number, else the current partner."""
    if fixed_id in pending:
        value = pending[fixed_id]
    else:
        pair = mex.pair_for(sess, fixed_id)
        value = pair.mobile_number.e164 if pair is not None else ""
    return numbers.national(value) if value else ""


def region() -> str:
    return db.session().get_one(Organisation, current_user.organisation_id).country


@bp.route(f"/settings/users/<int(max={INTEGER_MAX}):user_id>/mex/preview", methods=["POST"])
@requires("users")
def user_mex_preview(user_id):
    """Edit, Done, Cancel and Undo: re-render the panel with the pending changes; writes nothing."""
    sess = db.session()
    user = get_user(sess, user_id)
    state = PanelState(pending=read_pending(sess, user))
    form = request.form
    if "edit" in form:
        fixed = fixed_number_of(sess, user, form["edit"])
        state.editing, state.typed, state.focus = fixed.id, typed_for(sess, fixed.id, state.pending), "editor"
    elif "done" in form:
        fixed = fixed_number_of(sess, user, form["done"])
        typed = form.get(f"{CONNECTED}{fixed.id}", "").strip()
        wanted = {**state.pending, fixed.id: typed}
        changes, problems = (
            ([], {fixed.id: "control"})
            if has_control(typed)
            else mex.plan_changes(sess, user.organisation_id, user.id, wanted, region())
        )
        if fixed.id in problems:
            state.editing, state.typed, state.focus = fixed.id, typed, "editor"
            state.errors = {fixed.id: problems[fixed.id]}
            return render_panel(sess, user, state, 422)
        change = next((c for c in changes if c.fixed.id == fixed.id), None)
        if change is None:
            state.pending.pop(fixed.id, None)  # as it is already: nothing to save
        else:
            state.pending[fixed.id] = change.new_mobile.e164 if change.new_mobile else ""
        state.focus = "pending"
    elif "undo" in form:
        state.pending.pop(fixed_number_of(sess, user, form["undo"]).id, None)
    return render_panel(sess, user, state)


@bp.route(f"/settings/users/<int(max={INTEGER_MAX}):user_id>/mex", methods=["POST"])
@requires("users")
def user_mex_save(user_id):
    """Save: re-validate every pending change against current data, then write them all in one transaction."""
    sess = db.session()
    user = get_user(sess, user_id)
    pending = read_pending(sess, user)
    db.lock_for_write(sess)  # plan and apply on the same data
    changes, problems = mex.plan_changes(sess, user.organisation_id, user.id, pending, region())
    if problems:
        return render_panel(sess, user, PanelState(pending=pending, errors=problems, focus="summary"), 422)
    try:
        mex.apply_changes(sess, user.organisation_id, user.id, changes, current_user.id, now())
        sess.commit()
    except IntegrityError:  # another Save paired one of these numbers after we checked
        sess.rollback()
        return render_panel(
            sess, user, PanelState(pending=pending, errors={i: "conflict" for i in pending}, focus="summary"), 422
        )
    if changes:
        flash(_("Saved. The MEX connections of %(name)s are updated.", name=user.name), "success")
    else:
        flash(_("Nothing to save: no changes."), "success")
    return redirect(url_for("wizard.users.user_detail", user_id=user.id), 303)
