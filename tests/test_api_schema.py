"""The JSON API against its own OpenAPI description, by Schemathesis over HTTP on a live server, as the
demo owner with a personal token (issue 17): every operation with valid and invalid inputs generated
from the description, then a real draft's steps with values for their forms' own fields, and a real
order and its subscription. No answer may be a server error, have a status code or a content type the
description does not list, lack a header it promises, or have a body that breaks its schema.

Each operation gets a bounded number of examples (EXAMPLES), derived without randomness, so every run
sends the same requests. The schema is loaded in the test, from the live server: Schemathesis'
`pytest.from_fixture` cannot run on pytest 9.2 (it reads `Node._nodeid`, which is gone), so each
operation is a Hypothesis test over `APIOperation.as_strategy`, reported as a subtest."""

from __future__ import annotations

import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import TEST_CONFIG
from tests.test_esim import ESIM_ORDER
from wizard import clock, create_app, db, migrate, tokens
from wizard.models import User
from wizard.seed import seed_demo
from wizard.steps import BY_KEY

API = "/api/v1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
# A mobile order with an eSIM and a new number, step by step (tests/test_api.py answers it too).
ANSWERS = [*ESIM_ORDER, ("user", {"user_id": "5"}), ("top_up", {"top_up": "no"})]
# Values a form may meet: every valid answer above and some of other routes, and text, numbers and
# booleans of any kind (the description allows these three for each field).
KNOWN = sorted({v for _key, values in ANSWERS for v in values.values()}) + [
    "bound",
    "physical",
    "pbx",
    "port",
    "reserved",
    "specific",
    "yes",
    "89460712345678901230",
    "070-111 22 33",
]
FIELD_VALUES = st.one_of(
    st.sampled_from(KNOWN),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors and tracebacks are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


class LiveApi:
    """The address of the live server, the owner's token and a client session that sends it."""

    def __init__(self, app, base: str, token: str):
        self.app, self.base = app, base
        self.auth = {"Authorization": f"Bearer {token}"}
        self.session = requests.Session()
        self.session.headers.update(self.auth)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, f"{self.base}{API}{path}", timeout=10, **kwargs)

    def schema(self):
        """The description as a client reads it: from the live server."""
        return schemathesis.openapi.from_url(f"{self.base}{API}/openapi.json")

    def complete_draft(self) -> dict:
        """A mobile draft with every step answered, through the API."""
        draft = self.call("POST", "/drafts", json={"kind": "mobile"}).json()
        for key, values in ANSWERS:
            answered = self.call(
                "PUT",
                f"/drafts/{draft['id']}/steps/{key}",
                json={"values": values},
                headers={"If-Match": f'"{draft["version"]}"'},
            )
            assert answered.status_code == 200, (key, answered.text)
            draft = answered.json()
        assert draft["next_step"] == "review"
        return draft


@pytest.fixture
def live_api(tmp_path):
    """The app on a fresh, migrated and seeded SQLite file, served over HTTP in a daemon thread, with a
    personal token of the demo owner. Its rate limit is raised: a run sends hundreds of requests."""
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}",
            "API_RATE_LIMIT": "100000 per minute",
            "API_FAILED_AUTH_LIMIT": "100000 per minute",
        },
        instance_path=str(tmp_path),
    )
    with app.app_context():
        migrate.upgrade(db.engine())
        sess = db.session()
        seed_demo(sess)
        owner = sess.scalar(select(User).where(User.email == "owner@nordlys.test"))
        _token, raw = tokens.create(sess, owner, "schemathesis", clock.now())
        sess.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-api", daemon=True)
    thread.start()
    live = LiveApi(app, f"http://127.0.0.1:{server.server_port}", raw)
    yield live
    live.session.close()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


def check(live: LiveApi, strategy, prepare=None) -> None:
    """EXAMPLES cases of a strategy, each sent to the live server and its answer checked."""

    @EXAMPLES
    @given(case=strategy, data=st.data())
    def run(case, data):
        if prepare is not None:
            prepare(case, data)
        case.call_and_validate(base_url=live.base, session=live.session, checks=CHECKS)

    run()


def test_every_operation_keeps_to_its_description_with_valid_and_invalid_inputs(live_api, subtests):
    operations = [result.ok() for result in live_api.schema().get_all_operations()]
    assert len(operations) == 8
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with subtests.test(operation=operation.label, mode=mode.value):
                check(live_api, operation.as_strategy(mode, headers=live_api.auth))


def test_a_real_draft_answered_with_odd_values_for_its_forms_fields_keeps_to_the_description(live_api, subtests):
    draft = live_api.complete_draft()
    operation = live_api.schema()[f"{API}/drafts/{{draft_id}}/steps/{{step_key}}"]["PUT"]
    for key in [step["key"] for step in draft["route"] if step["key"] in dict(ANSWERS)]:
        with live_api.app.test_request_context():
            fields = [name for name in BY_KEY[key].form(meta={"csrf": False})._fields if name != "csrf_token"]
        valid = dict(ANSWERS)[key]
        # The valid answer with any of its values swapped for another, and any other field of the form.
        values = st.fixed_dictionaries(
            {name: st.one_of(st.just(value), FIELD_VALUES) for name, value in valid.items()},
            optional={name: FIELD_VALUES for name in fields if name not in valid},
        )

        def answer(case, data, values=values):
            # the version it was read at (a random one would only ever be refused with 412)
            case.headers["If-Match"] = live_api.call("GET", f"/drafts/{draft['id']}").headers["ETag"]
            case.body = {"values": data.draw(values)}

        strategy = operation.as_strategy(
            path_parameters={"draft_id": draft["id"], "step_key": key}, headers=live_api.auth
        )
        with subtests.test(step=key):
            check(live_api, strategy, answer)
    assert live_api.call("GET", f"/drafts/{draft['id']}").status_code == 200


def test_a_real_order_and_its_subscription_keep_to_the_description(live_api, subtests):
    draft = live_api.complete_draft()
    schema = live_api.schema()

    def order(case, data):
        case.body = {
            "draft_id": draft["id"],
            "version": data.draw(st.sampled_from([draft["version"] - 1, draft["version"], draft["version"] + 1])),
            "accept_binding": data.draw(st.booleans()),
        }

    with subtests.test(operation="POST /orders"):
        check(live_api, schema[f"{API}/orders"]["POST"].as_strategy(headers=live_api.auth), order)
    listed = live_api.call("GET", "/subscriptions").json()
    assert listed["total"] == 1
    subscription = listed["subscriptions"][0]["id"]
    for method, path, parameters in [
        ("GET", "/subscriptions/{subscription_id}", {"subscription_id": subscription}),
        ("GET", "/subscriptions", {}),
        ("GET", "/drafts/{draft_id}", {"draft_id": draft["id"]}),
        ("DELETE", "/drafts/{draft_id}", {"draft_id": draft["id"]}),  # ordered: 409
    ]:
        operation = schema[f"{API}{path}"][method]
        with subtests.test(operation=operation.label):
            check(live_api, operation.as_strategy(path_parameters=parameters or None, headers=live_api.auth))


def test_unknown_addresses_and_methods_of_the_api_answer_with_problem_details(live_api):
    for method, path, status in [
        ("GET", "/no-such-thing", 404),
        ("GET", "/drafts/not*an*id", 404),
        ("PUT", "/drafts/abc/steps/no-such-step", 404),
        ("PATCH", "/drafts", 405),
        ("GET", "/orders", 405),
    ]:
        response = live_api.call(method, path, json={})
        assert (response.status_code, response.headers["Content-Type"]) == (status, "application/problem+json")
        assert response.json()["status"] == status


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b'{"kind": ' + b"9" * 5000 + b"}", 400),  # past Python's 4,300 digits
        ("application/json", b"[" * 30_000 + b"]" * 30_000, 400),  # deeper than Python's recursion limit
        ("application/json", b'{"kind": "mobile\xff"}', 400),  # not UTF-8
        ("application/json", b'{"kind": ', 400),
        ("text/plain", b"kind=mobile", 415),
        ("application/json", b"[" * 70_000, 413),  # past MAX_CONTENT_LENGTH
    ],
)
def test_a_body_that_is_not_readable_json_is_a_problem_never_a_server_error(live_api, content_type, body, status):
    response = live_api.call("POST", "/drafts", data=body, headers={"Content-Type": content_type})
    assert (response.status_code, response.headers["Content-Type"]) == (status, "application/problem+json")
