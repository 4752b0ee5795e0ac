"""The organisation's subscriptions as Subs and the API list them: newest first, searchable."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from . import numbers
from .models import Order, PhoneNumber, Sim, Subscription, User


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
