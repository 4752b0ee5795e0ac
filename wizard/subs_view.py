"""Account → Subs: start a purchase, resume an unfinished one, find a bought subscription.

Both lists are paged (PER_PAGE rows) and the subscriptions searchable by number or user, so the
page costs the same few statements at 10 subscriptions or 5,000."""

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload

from . import db, drafts, numbers, review
from .forms import KIND, SubsSearchForm
from .fragments import current_url, page_or_fragment
from .models import Draft, Order, PhoneNumber, Sim, Subscription, User
from .paging import Page, paginate
from .permissions import requires
from .visitor import current_user

bp = Blueprint("subs", __name__)
PER_PAGE = 25


@bp.route("/")
@requires(None)
def index():
    """The settings home sends buyers to Subs."""
    return redirect(url_for("wizard.subs.subs"))


def subscription_search(organisation_id: int, text: str):
    """The organisation's subscriptions, newest first, with number, user, SIM and order; those whose
    number contains the typed digits, or whose user's name or email or order reference contains the text."""
    query = (
        select(Subscription, Sim)
        .join(Subscription.number)
        .join(Subscription.user)
        .outerjoin(Sim, Sim.subscription_id == Subscription.id)
        .outerjoin(Subscription.order)
        .options(
            contains_eager(Subscription.number), contains_eager(Subscription.user), contains_eager(Subscription.order)
        )
        .where(Subscription.organisation_id == organisation_id)
    )
    text = text.strip()
    if text:
        matches = [
            User.name.icontains(text, autoescape=True),
            User.email.icontains(text, autoescape=True),
            Order.reference.icontains(text, autoescape=True),
        ]
        digits = numbers.digits_to_find(text)
        if digits:
            matches.append(PhoneNumber.e164.contains(digits))
        query = query.where(or_(*matches))
    return query.order_by(Subscription.created_at.desc(), Subscription.id.desc())


@bp.route("/settings/account/subs")
@requires("account")
def subs():
    """The unfinished orders and the subscriptions, a page of each."""
    sess = db.session()
    search = SubsSearchForm(request.args)
    search.validate()
    open_drafts = paginate(
        sess,
        drafts.open_query(current_user).options(joinedload(Draft.created_by)),
        search.number(search.drafts_page),
        PER_PAGE,
    )
    q = search.text()
    subscriptions = (
        paginate(sess, subscription_search(current_user.organisation_id, q), search.number(search.page), PER_PAGE)
        if q is not None
        else Page([], 1, 1, 0)
    )
    return page_or_fragment(
        "wizard/subs.html",
        "subscription_list",
        replace_url=current_url(),
        q=search.q.data or "",
        search_error=search.error(),
        drafts=[(row.Draft, review.progress(row.Draft)) for row in open_drafts.rows],
        drafts_page=open_drafts,
        subscriptions=subscriptions,
        kinds=KIND,
    )
