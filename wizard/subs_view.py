"""Account → Subs: start a purchase, resume an unfinished one, find a bought subscription.

Both lists are paged (PER_PAGE rows) and the subscriptions searchable by number or user, so the
page costs the same few statements at 10 subscriptions or 5,000."""

from flask import Blueprint, redirect, request, url_for
from sqlalchemy.orm import joinedload

from . import db, drafts, review
from .forms import KIND, SubsSearchForm
from .fragments import current_url, page_or_fragment
from .listing import subscription_search
from .models import Draft
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
