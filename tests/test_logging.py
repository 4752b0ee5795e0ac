"""The `wizard` log an operator reads: one line per order placed, per conflict and per refused Save,
each with the request id that the response also carries (or the one a proxy sent)."""

import logging

from sqlalchemy import update

from tests.conftest import csrf_token
from tests.test_wizard_journeys import FIXED_ORDER, walk
from wizard.models import PriceItem


def lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "wizard"]


def test_an_order_placed_is_one_line_with_the_request_id(buyer_as, caplog):
    caplog.set_level(logging.INFO, logger="wizard")
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    saved = b.save()
    assert saved.status_code == 303
    [line] = lines(caplog)
    assert line.startswith("order.placed draft=") and " subscription=" in line
    assert line.endswith(f"request_id={saved.headers['X-Request-ID']}")


def test_a_conflict_and_a_refused_save_are_logged(buyer_as, query, caplog):
    caplog.set_level(logging.INFO, logger="wizard")
    b = buyer_as("owner")
    b.start("fixed")
    walk(b, FIXED_ORDER)
    page = b.get(b.step_url("pbx")).get_data(as_text=True)
    stale = {"csrf_token": csrf_token(page), "version": "1", "mode": "independent"}
    conflict = b.client.post(b.step_url("pbx"), data=stale, headers={"X-Request-ID": "proxy-42"})
    assert conflict.status_code == 409
    assert lines(caplog) == [
        f"draft.conflict draft={b.draft_url.rsplit('/', 1)[1]} step=pbx sent=1 request_id=proxy-42"
    ]

    query(
        lambda s: (s.execute(update(PriceItem).where(PriceItem.code == "rate-fixed").values(active=False)), s.commit())
    )
    refused = b.save()
    assert refused.status_code == 303 and "recheck=1" in refused.headers["Location"]
    assert lines(caplog)[1].startswith("order.refused draft=") and " step=call_rate " in lines(caplog)[1]


def test_a_request_id_that_is_not_safe_to_log_is_replaced(client):
    response = client.get("/login", headers={"X-Request-ID": "bad id; forged=1"})
    assert " " not in response.headers["X-Request-ID"] and len(response.headers["X-Request-ID"]) == 16
