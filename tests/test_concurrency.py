"""Races a real deployment sees: Saves of one draft at once, and two tabs writing one step at once."""

import threading

from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.test_wizard_journeys import FIXED_ORDER, walk
from tests.wizard_client import hidden
from wizard.models import Draft, PhoneNumber, Subscription


def race(requests):
    """Run the callables at the same moment, each in its own thread; return their results in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_saves_of_one_draft_create_one_subscription(buyer_as, login_as, query):
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    tabs = [login_as("owner") for _ in range(4)]
    pages = [t.get(b.step_url("review")).get_data(as_text=True) for t in tabs]
    results = race(
        [
            lambda t=t, page=page: t.client.post(
                f"{b.draft_url}/save", data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0]}
            )
            for t, page in zip(tabs, pages, strict=True)
        ]
    )
    assert [r.status_code for r in results] == [303] * 4
    assert {r.headers["Location"] for r in results} == {f"{b.draft_url}/done"}
    assert query(lambda s: s.scalar(select(func.count()).select_from(Subscription))) == 1
    assert query(lambda s: s.scalar(select(Draft.status))) == "submitted"
    assigned = query(
        lambda s: s.scalar(
            select(func.count())
            .select_from(PhoneNumber)
            .where(PhoneNumber.status == "assigned", PhoneNumber.organisation_id.is_not(None), PhoneNumber.user_id == 5)
        )
    )
    assert assigned == 1


def test_two_tabs_saving_one_step_at_once_never_lose_an_update(buyer_as, login_as, query):
    b = buyer_as("owner")
    b.start("mobile")
    tabs = [login_as("owner") for _ in range(2)]
    pages = [t.get(b.step_url("price_basis")).get_data(as_text=True) for t in tabs]
    choices = ["bound", "unbound"]
    results = race(
        [
            lambda t=t, p=p, c=c: t.client.post(
                b.step_url("price_basis"),
                data={"csrf_token": csrf_token(p), "version": hidden(p, "version")[0], "basis": c},
            )
            for t, p, c in zip(tabs, pages, choices, strict=True)
        ]
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [303, 409]
    winner = choices[[r.status_code for r in results].index(303)]
    assert query(lambda s: s.scalar(select(Draft.answers)))["price_basis"] == {"basis": winner}
