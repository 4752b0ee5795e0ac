"""The JSON API (/api/v1/) as a script uses it, on SQLite and PostgreSQL: an order from a new draft
to a subscription on Subs, idempotent orders, ETags, problem details, tokens and tenants."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.test_api_schema import ANSWERS
from tests.test_concurrency import race
from wizard import clock, db, tokens
from wizard.extensions import limiter
from wizard.models import Subscription, User

API = "/api/v1"


@pytest.fixture
def token_for(app):
    """token_for('owner@nordlys.test') -> a raw personal token of that person."""

    def _make(email: str) -> str:
        with app.app_context():
            sess = db.session()
            user = sess.scalar(select(User).where(User.email == email))
            _token, raw = tokens.create(sess, user, "test", clock.now())
            sess.commit()
            return raw

    return _make


@pytest.fixture
def api(app, token_for):
    """api(method, path, **kwargs) as the demo owner, with their token."""
    client = app.test_client()
    raw = token_for("owner@nordlys.test")

    def call(method, path, token=raw, headers=None, **kwargs):
        return client.open(
            API + path, method=method, headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kwargs
        )

    call.token = raw
    return call


def answer(api, draft, key, values):
    response = api(
        "PUT",
        f"/drafts/{draft['id']}/steps/{key}",
        json={"values": values},
        headers={"If-Match": f'"{draft["version"]}"'},
    )
    assert response.status_code == 200, (key, response.get_json())
    return response.get_json()


def mobile_esim_draft(api) -> dict:
    created = api("POST", "/drafts", json={"kind": "mobile"})
    assert created.status_code == 201 and created.headers["ETag"] == f'"{created.get_json()["version"]}"'
    draft = created.get_json()
    assert draft["next_step"] == "price_basis" and [s["key"] for s in draft["route"]][0] == "type"
    for key, values in ANSWERS:
        draft = answer(api, draft, key, values)
    assert draft["next_step"] == "review" and draft["summary"]["monthly_ore"] > 0
    return draft


def test_an_order_placed_through_the_api_appears_on_subs(app, api, login_as):
    draft = mobile_esim_draft(api)
    placed = api(
        "POST",
        "/orders",
        json={"draft_id": draft["id"], "version": draft["version"]},
        headers={"Idempotency-Key": "k-1"},
    )
    assert placed.status_code == 201, placed.get_json()
    body = placed.get_json()
    assert body["reference"].startswith("NB-") and body["subscription"]["kind"] == "mobile"
    subs = login_as("owner").get("/settings/account/subs").get_data(as_text=True)
    assert body["reference"] in subs or body["subscription"]["number"][-2:] in subs
    listed = api("GET", "/subscriptions").get_json()
    assert listed["total"] == 1 and listed["subscriptions"][0]["id"] == body["subscription"]["id"]
    assert api("GET", f"/subscriptions/{body['subscription']['id']}").status_code == 200


def test_ten_concurrent_replays_of_one_idempotency_key_make_one_subscription(app, api, query):
    draft = mobile_esim_draft(api)
    request = {"draft_id": draft["id"], "version": draft["version"]}
    results = race(
        [
            lambda: api("POST", "/orders", json=request, headers={"Idempotency-Key": "same"}).status_code
            for _ in range(10)
        ]
    )
    assert results == [201] * 10
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 1
    other = api("POST", "/orders", json={**request, "accept_binding": True}, headers={"Idempotency-Key": "same"})
    assert other.status_code == 422 and other.mimetype == "application/problem+json"


def test_a_refused_order_request_leaves_its_idempotency_key_free_for_the_retry(api):
    draft = mobile_esim_draft(api)
    key = {"Idempotency-Key": "order-42"}
    stale = api("POST", "/orders", json={"draft_id": draft["id"], "version": draft["version"] - 1}, headers=key)
    assert stale.status_code == 412
    retried = api("POST", "/orders", json={"draft_id": draft["id"], "version": draft["version"]}, headers=key)
    assert retried.status_code == 201, retried.get_json()
    again = api("POST", "/orders", json={"draft_id": draft["id"], "version": draft["version"] - 1}, headers=key)
    assert again.status_code == 422  # now the key is the placed order's


def test_a_missing_or_stale_if_match_is_refused_and_a_bad_answer_has_pointers(api):
    created = api("POST", "/drafts", json={"kind": "mobile"}).get_json()
    draft = answer(api, created, "price_basis", {"basis": "unbound"})
    stale = api(
        "PUT",
        f"/drafts/{draft['id']}/steps/call_rate",
        json={"values": {"code": "rate-fixed"}},
        headers={"If-Match": '"1"'},
    )
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    unnamed = api("PUT", f"/drafts/{draft['id']}/steps/call_rate", json={"values": {"code": "rate-fixed"}})
    assert unnamed.status_code == 428 and unnamed.mimetype == "application/problem+json"  # no If-Match: refused
    anything = api(
        "PUT",
        f"/drafts/{draft['id']}/steps/call_rate",
        json={"values": {"code": "rate-fixed"}},
        headers={"If-Match": "*"},
    )
    assert anything.status_code == 428  # "*" names no version
    for refused in (stale, unnamed, anything):
        assert f'"{draft["version"]}"' not in refused.get_data(as_text=True)  # read the draft to learn it
    for key, values in [
        ("call_rate", {"code": "rate-fixed"}),
        ("data_package", {"code": "data-5"}),
        ("number", {"choice": "new"}),
    ]:
        draft = answer(api, draft, key, values)
    bad = api(
        "PUT",
        f"/drafts/{draft['id']}/steps/sim",
        json={"values": {"sim_kind": "physical", "icc": "1234"}},
        headers={"If-Match": f'"{draft["version"]}"'},
    )
    problem = bad.get_json()
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert problem["errors"] == [
        {"pointer": "/values/icc", "detail": "The SIM card number must be 20 digits (you entered 4)"}
    ]


def test_another_organisation_gets_404_and_a_revoked_token_401(app, api, token_for, query):
    draft = mobile_esim_draft(api)
    placed = api(
        "POST", "/orders", json={"draft_id": draft["id"], "version": draft["version"]}, headers={"Idempotency-Key": "x"}
    )
    subscription_id = placed.get_json()["subscription"]["id"]
    fjord = token_for("owner@fjord.test")
    assert api("GET", f"/drafts/{draft['id']}", token=fjord).status_code == 404
    assert api("GET", f"/subscriptions/{subscription_id}", token=fjord).status_code == 404
    assert api("DELETE", f"/drafts/{draft['id']}", token=fjord).status_code == 404
    assert api("GET", "/subscriptions", token=fjord).get_json()["total"] == 0

    def revoke(s):
        from wizard.models import ApiToken

        for token in s.scalars(select(ApiToken)):
            token.revoked_at = clock.now()
        s.commit()

    query(revoke)
    refused = api("GET", "/subscriptions")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_description_is_openapi_3_1_and_readable(app, api):
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0" and "/api/v1/orders" in spec["paths"]
    page = app.test_client().get(f"{API}/docs")
    assert page.status_code == 200 and "POST /api/v1/orders" in page.get_data(as_text=True)
    assert api("GET", "/no-such-thing").mimetype == "application/problem+json"


def test_made_up_tokens_are_limited_per_client_address_and_leave_valid_tokens_alone(app, api):
    app.config.update(API_RATE_LIMIT="100 per minute", API_FAILED_AUTH_LIMIT="3 per minute")
    paths = ["/subscriptions", "/numbers?kind=mobile", "/drafts/AAAAAAAAAAAAAAAA"]  # one count for them all
    made_up = [api("GET", paths[i % 3], token=f"nbt_{i}-not-a-token").status_code for i in range(4)]
    assert made_up == [401, 401, 401, 429]
    assert api("GET", "/subscriptions").status_code == 200  # a valid token from the same address
    kept = [str(key) for key in limiter.storage.storage]  # MemoryStorage: one key per counter
    assert not [key for key in kept if "not-a-token" in key or key.count("api-token:") > 1]
    assert len([key for key in kept if "api-unauthenticated" in key]) == 1


def test_a_valid_token_does_not_count_against_the_address(app, api):
    app.config.update(API_RATE_LIMIT="100 per minute", API_FAILED_AUTH_LIMIT="2 per minute")
    assert [api("GET", "/subscriptions").status_code for _ in range(5)] == [200] * 5
    assert api("GET", "/subscriptions", token="nbt_made-up").status_code == 401


def test_each_token_has_its_own_rate_limit(app, api, token_for):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    other = token_for("buyer@nordlys.test")
    assert [api("GET", "/subscriptions").status_code for _ in range(3)] == [200] * 3
    limited = api("GET", "/subscriptions")
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert "Retry-After" in limited.headers
    assert api("GET", "/subscriptions", token=other).status_code == 200  # another token: its own count
    assert api("GET", "/numbers?kind=mobile").status_code == 429  # one allowance for all the operations


def test_problems_are_in_the_readers_language_with_pointers_into_the_body(api):
    swedish = {"Accept-Language": "sv"}
    unknown = api("GET", "/no-such-thing", headers=swedish).get_json()
    assert unknown["title"] == "Hittades inte" and "openapi.json" in unknown["detail"]
    wrong_method = api("DELETE", "/subscriptions", headers=swedish).get_json()
    assert wrong_method["title"] == "Metoden är inte tillåten"
    bad = api("POST", "/drafts", json={"kind": "landline", "colour": "red"}, headers=swedish).get_json()
    assert sorted((e["pointer"], e["detail"]) for e in bad["errors"]) == [
        ("/colour", "Inget fält i det här anropet"),
        ("/kind", "Måste vara en av: mobile, fixed"),
    ]
    assert bad["title"] == "Anropet har värden som inte är giltiga"
    not_an_object = api("POST", "/drafts", json=["mobile"]).get_json()
    assert not_an_object["errors"] == [{"pointer": "/", "detail": "Must be a JSON object"}]
    paged = api("GET", "/subscriptions?page=0&per_page=x").get_json()
    assert sorted((e["pointer"], e["detail"]) for e in paged["errors"]) == [
        ("#/query/page", "Must be from 1 to 10000"),
        ("#/query/per_page", "Must be a whole number"),
    ]
