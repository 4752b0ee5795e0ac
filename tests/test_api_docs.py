"""The API's readable description (/api/v1/docs): every operation and schema has an id to link to,
responses in order of status, types in words, links back to the app and to openapi.json, and the
English of the description marked as English on a Swedish page."""

from __future__ import annotations

import pytest

from tests.pages import Element, h1, links, page

DOCS = "/api/v1/docs"


@pytest.fixture
def docs(client) -> Element:
    return page(client.get(DOCS))


def operations(docs: Element) -> list[Element]:
    return docs.find_all("section", cls="api-operation")


def operation(docs: Element, heading: str) -> Element:
    [found] = [s for s in operations(docs) if s.find("h2").text() == heading]
    return found


def schema_field(docs: Element, schema: str, field: str) -> str:
    """The line of a schema's field, as read: "porting_status: string or null (required)"."""
    section = docs.find("h3", id=f"schema-{schema}").parent
    [line] = [li.text() for li in section.find_all("li") if li.find("code").text() == field]
    return line


def test_every_operation_has_its_own_id_from_its_method_and_path(client, docs):
    spec = client.get("/api/v1/openapi.json").get_json()
    described = [f"{m.upper()} {path}" for path, ops in spec["paths"].items() for m in ops if m != "parameters"]
    assert [s.find("h2").text() for s in operations(docs)] == described
    ids = [s.find("h2").attrs["id"] for s in operations(docs)]
    assert all(i.startswith("op-") and len(i) > len("op-") for i in ids)
    every_id = [e.attrs["id"] for e in docs.elements() if "id" in e.attrs]
    assert len(every_id) == len(set(every_id))
    assert operation(docs, "POST /api/v1/orders").find("h2").attrs["id"] == "op-post-api-v1-orders"
    put = operation(docs, "PUT /api/v1/drafts/{draft_id}/steps/{step_key}")
    assert put.attrs["aria-labelledby"] == put.find("h2").attrs["id"] == "op-put-api-v1-drafts-draft_id-steps-step_key"


def test_every_link_within_the_page_has_its_target(docs):
    ids = {e.attrs["id"] for e in docs.elements() if "id" in e.attrs}
    targets = [a.attrs["href"] for a in docs.find_all("a") if a.attrs.get("href", "").startswith("#")]
    assert "#op-post-api-v1-orders" in targets and "#schema-NewDraft" in targets
    assert [t for t in targets if t[1:] not in ids] == []


def test_responses_are_in_order_of_status(docs):
    for section in operations(docs):
        responses = section.find_all("ul")[-1]
        codes = [li.find("code").text() for li in responses.find_all("li")]
        assert codes == sorted(codes), section.find("h2").text()
    created = operation(docs, "POST /api/v1/drafts").find_all("ul")[-1]
    assert [li.find("code").text() for li in created.find_all("li")][:2] == ["201", "400"]


def test_the_body_links_to_its_schema(docs):
    body = [p for p in operation(docs, "POST /api/v1/drafts").find_all("p") if p.text().startswith("Body:")]
    assert [p.text() for p in body] == ["Body: application/json , NewDraft"]
    assert body[0].find("a").attrs["href"] == "#schema-NewDraft"
    assert docs.find("h3", id="schema-NewDraft").text() == "NewDraft"


def test_types_read_as_words(docs):
    assert schema_field(docs, "Subscription", "porting_status") == "porting_status : string or null (required)"
    assert schema_field(docs, "SubscriptionPage", "subscriptions").startswith("subscriptions : array of Subscription")
    assert schema_field(docs, "Order", "subscription") == "subscription : Subscription (required)"
    assert "[" not in "".join(s.text() for s in docs.find_all("section", cls="api-schema"))


def test_it_links_back_to_the_app_and_to_the_machine_readable_description(docs):
    found = links(docs)
    assert found["Back to Subs"] == "/settings/account/subs"
    assert found["openapi.json"] == "/api/v1/openapi.json"


def test_on_a_swedish_page_the_english_of_the_description_says_so(client):
    swedish = page(client.get(f"{DOCS}?lang=sv"))
    assert swedish.find("html").attrs["lang"] == "sv"
    assert h1(swedish) == "Subs wizard API v1" and swedish.find("h1").attrs["lang"] == "en"
    orders = operation(swedish, "POST /api/v1/orders")
    summary = orders.find("p")
    assert summary.text().startswith("Place (buy) a draft") and summary.attrs["lang"] == "en"
    descriptions = [li.find("span") for li in orders.find_all("ul")[-1].find_all("li")]
    assert descriptions and all(span.attrs.get("lang") == "en" for span in descriptions)
