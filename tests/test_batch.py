"""Subs for several people without JavaScript (plain posts, CSRF on), on SQLite and PostgreSQL: three
people in one Save, a CSV of 100 lines, a CSV with mistakes refused line by line with nothing bought
or held, adding and removing lines, resuming and discarding a batch, and two Saves at once."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, update

from bench import batch as bench_batch
from bench.batch import SHARED, icc
from bench.sqlcount import SqlCounter
from tests import pages
from tests.conftest import csrf_token
from tests.test_concurrency import race
from tests.test_journey import porting_day
from tests.wizard_client import hidden
from wizard import batch, db
from wizard import clock as wizard_clock
from wizard.models import Contract, Draft, OutboxMessage, PhoneNumber, PriceItem, Sim, Subscription
from wizard.porting import earliest_porting_date
from wizard.sim import grouped

SUBS = "/settings/account/subs"


def csv_of(rows: list[dict], separator: str) -> str:
    return "\n".join(
        [separator.join(batch.COLUMNS)] + [separator.join(r.get(c, "") for c in batch.COLUMNS) for r in rows]
    )


def upload(b, url: str, text: str, fields: dict | None = None, name: str = "team.csv"):
    """Read a CSV file into the batch with the page's Read the file: its one form, multipart, as a
    browser sends it with `fields` (the choices and lines on screen)."""
    page = b.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "_upload": "1", **(fields or {})}
    return b.client.post(
        url, data={**data, "csv": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data"
    )


def start(b, kind="mobile") -> str:
    page = b.get(SUBS).get_data(as_text=True)
    response = b.client.post(f"{SUBS}/batches", data={"csrf_token": csrf_token(page), "kind": kind})
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


def table(lines: list[dict]) -> dict:
    return {f"lines-{i}-{column}": value for i, line in enumerate(lines) for column, value in line.items()}


def post(b, url, data, **kwargs):
    page = b.get(url).get_data(as_text=True)
    version = hidden(page, "version")[0]
    return b.client.post(url, data={"csrf_token": csrf_token(page), "version": version, **data}, **kwargs)


def line(email, choice="new", number="", sim="esim", icc_="", **port):
    return {"email": email, "number_choice": choice, "number": number, "sim": sim, "icc": icc_, **port}


THREE = [
    line("anna@nordlys.test", sim="esim"),
    line("erik@nordlys.test", sim="physical", icc_=icc(1)),
    line("buyer@nordlys.test", choice="reserved", number="073-123 45 00", sim="physical", icc_=icc(2)),
]


def save(b, url):
    review = url + "/review"
    page = b.get(review).get_data(as_text=True)
    return b.client.post(url + "/save", data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0]})


def test_three_people_in_one_save_without_javascript(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    checked = post(b, url, {**SHARED, **table(THREE)})
    assert checked.status_code == 303 and checked.headers["Location"].endswith("/review"), checked.status_code
    review = b.get(url + "/review").get_data(as_text=True)
    assert "Buy 3 subscriptions" in review
    saved = save(b, url)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/done")
    done = b.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Subscriptions ordered" in done and done.count("/esim") >= 1
    assert len(re.findall(r'class="number" href="[^"]+/subscriptions/\d+"', done)) == 3

    def check(s):
        subs = s.scalars(select(Subscription).order_by(Subscription.id)).all()
        assert [sub.user.email for sub in subs] == [x["email"] for x in THREE]
        assert len({sub.order_id for sub in subs}) == 1 and all(sub.number.status == "assigned" for sub in subs)
        assert subs[2].number.e164 == "+46731234500"
        assert sorted(s.scalars(select(Sim.kind))) == ["esim", "physical", "physical"]
        assert s.scalar(select(Draft.status).where(Draft.kind == "batch")) == "submitted"
        kinds = sorted(s.scalars(select(OutboxMessage.kind)))
        assert kinds[0] == "batch_confirmation" and kinds[1].startswith("esim_ready_")  # Anna's eSIM link

    query(check)
    assert f'href="{SUBS}/subscriptions/' in b.get(SUBS).get_data(as_text=True)  # Subs shows them


def test_a_csv_with_a_bad_icc_on_line_4_and_a_number_twice_on_line_7_is_refused_naming_both(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    rows = [line("anna@nordlys.test", sim="physical", icc_=icc(10 + n)) for n in range(8)]
    rows[3]["icc"] = icc(13)[:-1] + str((int(icc(13)[-1]) + 1) % 10)  # wrong check digit
    rows[2].update(number_choice="reserved", number="073-123 45 01")
    rows[6].update(number_choice="reserved", number="073-123 45 01")
    assert upload(b, url, csv_of(rows, ",")).status_code == 303
    refused = post(b, url, {**SHARED, **table(batch.stored_lines(query(lambda s: s.scalar(select(Draft)))))})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Line 4, SIM card number (ICC)" in html and "Line 7, Reserved number or number to move" in html
    assert "Also on line 3" in html
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0
    assert query(lambda s: s.scalar(select(func.count(PhoneNumber.id)).where(PhoneNumber.status == "held"))) == 0
    assert b.get(url + "/review").status_code == 302  # not checked: no way to Save


def test_a_csv_of_100_lines_is_checked_and_bought_in_one_save(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    # Erik Lund, 070-500 00 00 … 070-500 00 99 ported from Telia, each with a physical SIM (as bench/batch.py)
    assert upload(b, url, bench_batch.csv_text(100, 0, porting_day())).status_code == 303
    stored = batch.stored_lines(query(lambda s: s.scalar(select(Draft))))
    assert len(stored) == 100
    checked = post(b, url, {**SHARED, **table(stored)})
    assert checked.status_code == 303, re.findall(
        r'class="error-message"[^>]*>(.*?)</p>', checked.get_data(as_text=True)
    )[:5]
    assert save(b, url).status_code == 303
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 100


def test_lines_are_added_and_removed_and_what_was_typed_is_kept(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    added = post(b, url, {**SHARED, **table([line("anna@nordlys.test")]), "_add": "1"})
    assert added.status_code == 303
    page = b.get(url).get_data(as_text=True)
    assert 'name="lines-1-email"' in page and 'value="anna@nordlys.test" selected' in page
    removed = post(b, url, {**table([line("anna@nordlys.test"), line("erik@nordlys.test")]), "_remove": "0"})
    assert removed.status_code == 303
    lines = batch.stored_lines(query(lambda s: s.scalar(select(Draft))))
    assert [x["email"] for x in lines] == ["erik@nordlys.test"]


def test_a_batch_is_resumed_and_discarded_from_subs(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    post(b, url, {**SHARED, **table(THREE), "_go": "later"})
    subs = b.get(SUBS).get_data(as_text=True)
    assert "For several people: 3 lines" in subs
    draft_id = url.rsplit("/", 1)[-1]
    assert b.get(f"{SUBS}/orders/{draft_id}").headers["Location"].endswith(f"/batches/{draft_id}")
    discard = b.get(f"{SUBS}/orders/{draft_id}/discard")
    token = csrf_token(discard.get_data(as_text=True))
    gone = b.client.post(
        f"{SUBS}/orders/{draft_id}/discard",
        data={"csrf_token": token, "version": hidden(discard.get_data(as_text=True), "version")[0]},
    )
    assert gone.status_code == 303
    assert b.get(url).status_code == 404


def test_two_saves_of_one_batch_at_once_buy_it_once(buyer_as, login_as, query):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303
    tabs = [login_as("owner") for _ in range(2)]
    pages = [t.get(url + "/review").get_data(as_text=True) for t in tabs]
    results = race(
        [
            lambda t=t, page=page: (
                t.client.post(
                    url + "/save", data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0]}
                ).status_code
            )
            for t, page in zip(tabs, pages, strict=True)
        ]
    )
    assert results == [303, 303]
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 3


@pytest.mark.parametrize("who", ["staff", "fjord"])
def test_other_people_cannot_see_a_batch(buyer_as, login_as, who):
    b = buyer_as("owner")
    url = start(b)
    other = login_as(who)
    assert other.get(url).status_code == (403 if who == "staff" else 404)


def test_a_hundred_lines_post_as_a_browser_sends_them(buyer_as, query):
    """The batch form is multipart (the CSV file goes with it): 100 lines of 8 fields fit this page's
    limits, though not the app's (MAX_FORM_PARTS 200), which still hold everywhere else."""
    b = buyer_as("owner")
    url = start(b)
    rows = [line("erik@nordlys.test", sim="physical", icc_=icc(500 + n)) for n in range(100)]
    rows = [{**row, "port_operator": "Telia", "port_date": "", "port_owner_org_number": ""} for row in rows]
    fields = {**SHARED, **table(rows), "_go": "later"}
    assert len(fields) > 800
    kept = post(b, url, fields, content_type="multipart/form-data")
    assert kept.status_code == 303
    assert len(batch.stored_lines(query(lambda s: s.scalar(select(Draft))))) == 100
    step = b.start("mobile")
    elsewhere = post(b, step, {**fields, "basis": "unbound"}, content_type="multipart/form-data")
    assert elsewhere.status_code == 413


def test_a_batch_is_bought_only_as_it_was_checked(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    post(b, url, {**SHARED, **table(THREE), "_go": "later"})  # typed, never checked

    def buy_now():  # Save sent straight away (its address is no secret): with the edit page's token
        page = b.get(url).get_data(as_text=True)
        return b.client.post(
            url + "/save", data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0]}
        )

    refused = buy_now()
    assert refused.status_code == 303 and refused.headers["Location"].endswith(url.rsplit("/", 1)[-1])
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303  # checked: unbound
    post(b, url, {**SHARED, "price_basis-basis": "bound", **table(THREE), "_go": "later"})  # changed after it
    assert b.get(url + "/review").status_code == 302
    assert buy_now().status_code == 303
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0  # nothing bought unchecked


def test_odd_line_numbers_in_the_form_are_ignored_not_a_crash(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    for name in ("lines-²-email", "lines-" + "9" * 5000 + "-email", "lines--email", "lines-1-2-email"):
        assert post(b, url, {**SHARED, name: "x", "_go": "later"}).status_code == 303, name


def test_the_single_order_pages_do_not_take_a_batch(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    draft_id = url.rsplit("/", 1)[-1]
    assert b.get(f"{SUBS}/orders/{draft_id}/price_basis").status_code == 404
    page = b.get(url).get_data(as_text=True)
    posted = b.client.post(
        f"{SUBS}/orders/{draft_id}/number",
        data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "choice": "new"},
    )
    assert posted.status_code == 404
    assert b.get(f"{SUBS}/orders/{draft_id}").headers["Location"].endswith(f"/batches/{draft_id}")


def test_check_your_answers_reads_the_checked_lines_in_the_same_statements_for_3_or_100(app, buyer_as):
    counter = SqlCounter(app.extensions["db_engine"])
    counts = []
    try:
        for lines in (THREE, None):
            b = buyer_as("owner")
            url = start(b)
            if lines is None:  # 100 ported numbers, as bench/batch.py
                assert upload(b, url, bench_batch.csv_text(100, 0, porting_day())).status_code == 303
                lines = batch.stored_lines(app_draft(app, url))
            assert post(b, url, {**SHARED, **table(lines)}).status_code == 303
            with counter.request("GET", url) as stats:
                review = b.get(url + "/review")
            assert f"Buy {len(lines)} subscriptions" in review.get_data(as_text=True)
            assert not stats.get_in_transaction and not [q for q in stats.statements if not q.startswith("SELECT")]
            counts.append(stats.n_statements)
    finally:
        counter.close()
    assert counts[0] == counts[1] <= 6, counts


def test_what_changed_since_the_check_is_named_at_save_and_nothing_is_bought(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303
    # the reserved number of line 3 is given to someone else after the check
    taken = update(PhoneNumber).where(PhoneNumber.e164 == "+46731234500").values(status="assigned")
    query(lambda s: (s.execute(taken), s.commit()))
    assert "Buy 3 subscriptions" in b.get(url + "/review").get_data(as_text=True)  # the page reads the check
    refused = save(b, url)
    assert refused.status_code == 422
    assert "Line 3: Not one of your organisation&#39;s free reserved numbers" in refused.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0


def app_draft(app, url: str) -> Draft:
    with app.app_context():
        return db.session().get(Draft, url.rstrip("/").rsplit("/", 1)[-1])


def test_a_price_item_withdrawn_after_the_check_is_named_at_save_and_nothing_is_bought(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303
    withdrawn = update(PriceItem).where(PriceItem.code == "data-5").values(active=False)
    query(lambda s: (s.execute(withdrawn), s.commit()))
    review = b.get(url + "/review").get_data(as_text=True)  # said on Check your answers already
    assert re.search(r'<a href="[^"]+#data_package-code-0">Data package: ', review), review
    refused = save(b, url)
    assert refused.status_code == 422
    assert "Data package: " in refused.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0
    assert query(lambda s: s.scalar(select(Draft.status).where(Draft.kind == "batch"))) == "open"


def test_a_csv_with_old_mac_line_endings_is_read(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    text = csv_of(THREE, ",").replace("\n", "\r")
    assert upload(b, url, text).status_code == 303
    stored = batch.stored_lines(query(lambda s: s.scalar(select(Draft).where(Draft.kind == "batch"))))
    assert [line["email"] for line in stored] == [line["email"] for line in THREE]


def chosen(doc) -> dict[str, str]:
    """The shared choices a page shows ticked, by field name."""
    return {r.attrs["name"]: r.attrs["value"] for r in doc.find_all("input", type="radio", checked=True)}


def lines_shown(doc) -> list[str]:
    """The person chosen on each line of the batch page."""
    selects = [s for s in doc.find_all("select") if s.attrs.get("name", "").endswith("-email")]
    return [next((o.attrs["value"] for o in s.find_all("option", selected=True)), "") for s in selects]


def test_a_file_that_cannot_be_read_keeps_the_choices_and_lines_on_screen(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    refused = upload(b, url, "not,a,header\n1,2,3", {**SHARED, **table(THREE[:1])})  # neither saved before
    assert refused.status_code == 422
    doc = pages.page(refused)
    assert "The header row must name" in doc.find(cls="error-summary").text()
    assert pages.title(doc).startswith("Error: Mobile subscriptions for several people")
    assert chosen(doc) == SHARED and lines_shown(doc) == ["anna@nordlys.test"]


def test_reading_a_file_keeps_the_choices_on_screen_and_says_how_many_lines_it_read(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    read = upload(b, url, csv_of(THREE, ";"), {**SHARED, **table([line("erik@nordlys.test")])}, name="Team Ö.csv")
    assert read.status_code == 303  # the choices were never saved before: they came with the file
    doc = pages.page(b.get(read.headers["Location"]))
    assert "3 lines read from Team Ö.csv" in pages.notices(doc)
    assert chosen(doc) == SHARED
    assert lines_shown(doc) == [x["email"] for x in THREE]  # the file's lines replace the one typed
    one = upload(b, url, csv_of(THREE[:1], ","), SHARED)
    assert "1 line read from team.csv" in pages.notices(pages.page(b.get(one.headers["Location"])))


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ((b"", ""), "Choose a CSV file"),  # what a browser sends when no file is chosen
        ((b"", "team.csv"), "The file is empty. Start from the template."),
        ((",".join(batch.COLUMNS).encode(), "team.csv"), "The file is empty. Start from the template."),
        ((b"x" * (64 * 1024 + 1), "big.csv"), "The file is larger than 64 KB"),
    ],
)
def test_read_the_file_without_a_readable_file_says_why(buyer_as, file, message):
    b = buyer_as("owner")
    url = start(b)
    page = b.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "version": hidden(page, "version")[0], "_upload": "1", **SHARED}
    content, name = file
    refused = b.client.post(url, data={**data, "csv": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert refused.status_code == 422
    doc = pages.page(refused)
    assert doc.find(cls="error-summary").text().startswith(f"The file could not be read {message}")
    assert doc.find("input", id="csv").attrs["aria-invalid"] == "true"
    assert chosen(doc) == SHARED and lines_shown(doc) == [""]  # the line on screen, still blank


def test_back_to_subs_keeps_what_was_typed(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    doc = pages.page(b.get(url))
    back = next(button for button in doc.find_all("button") if button.text() == "Back to Subs")
    assert back.attrs == {"type": "submit", "form": "batch-form", "name": "_go", "value": "later", "class": "back-link"}
    left = post(b, url, {**SHARED, **table(THREE[:2]), back.attrs["name"]: back.attrs["value"]})
    assert left.status_code == 303 and left.headers["Location"].endswith(SUBS)
    again = pages.page(b.get(url))
    assert chosen(again) == SHARED and lines_shown(again) == ["anna@nordlys.test", "erik@nordlys.test"]


def test_without_javascript_add_and_remove_come_back_at_the_line(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    added = post(b, url, {**SHARED, **table(THREE[:2]), "_add": "1"})
    assert added.headers["Location"].endswith(f"{url}#lines-2-email")  # the new line 3
    removed = post(b, url, {**table(THREE), "_remove": "1"})
    assert removed.headers["Location"].endswith(f"{url}#lines-0-email")  # the line before line 2
    first = post(b, url, {**table(THREE[:2]), "_remove": "0"})
    assert first.headers["Location"].endswith(f"{url}#lines-title")


def test_the_option_prices_name_both_bases_and_bound_is_what_the_review_charges(buyer_as):
    b = buyer_as("owner")  # Nordlys has a contract: the fixed call rate is SEK 99.00, bound SEK 79.00
    url = start(b)
    bound = {**SHARED, "price_basis-basis": "bound"}
    post(b, url, {**bound, **table(THREE), "_go": "later"})
    doc = pages.page(b.get(url))
    assert doc.find(id="call_rate-code-0-hint").text() == (
        "Unbound SEK 99.00, bound SEK 79.00 per month · All calls within Sweden included"
    )
    assert doc.find(id="data_package-code-2-hint").text().startswith("Unbound SEK 99.00, bound SEK 79.00 per month")
    assert post(b, url, {**bound, **table(THREE)}).status_code == 303
    review = pages.page(b.get(url + "/review"))
    rows = {row.find("dt").text(): row.find("dd").text() for row in review.find_all(cls="summary-row")}
    assert rows["Call rate"] == "Fixed call rate, SEK 79.00 per month"
    assert rows["Data package"] == "5 GB, SEK 79.00 per month"
    monthly = review.find("tbody").find("td", data_label="Monthly").text()
    assert monthly == "SEK 197.00"  # bound: subscription 39, call rate 79, data 79


def test_without_a_contract_the_option_prices_are_the_price_lists(buyer_as):
    b = buyer_as("fjord")
    doc = pages.page(b.get(start(b)))
    assert doc.find(id="call_rate-code-0-hint").text() == "SEK 99.00 per month · All calls within Sweden included"


def test_check_your_answers_shows_the_shared_choices_and_each_lines_sim_and_porting(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    ported = line("anna@nordlys.test", "port", "070-111 22 33", "physical", icc(3), port_operator="Tele2")
    ported["port_date"] = porting_day()
    lines = [*THREE[1:], ported]
    assert post(b, url, {**SHARED, **table(lines)}).status_code == 303
    doc = pages.page(b.get(url + "/review"))
    rows = {row.find("dt").text(): row for row in doc.find_all(cls="summary-row")}
    assert {name: row.find("dd").text() for name, row in rows.items() if name != "Binding period"} == {
        "Price basis": "Unbound (current price list)",
        "Call rate": "Fixed call rate, SEK 99.00 per month",
        "Data package": "5 GB, SEK 99.00 per month",
        "PBX": "Independent (no PBX features)",
        "Top-up": "No",
    }
    change = rows["Call rate"].find("a")
    assert change.text() == "Change call rate" and change.attrs["href"] == f"{url}#call_rate-code"
    assert pages.page(b.get(url)).find(id="call_rate-code") is not None  # where the link lands
    cells = [[td.text() for td in tr.find_all("td")] for tr in doc.find("tbody").find_all("tr")]
    assert cells[0][1:3] == ["A new number", f"Physical SIM, ICC {grouped(icc(1))}"]
    assert cells[1][1:3] == ["073-123 45 00 (One of our reserved numbers)", f"Physical SIM, ICC {grouped(icc(2))}"]
    day = format_date(date.fromisoformat(porting_day()), "medium", locale="en")
    assert cells[2][1:3] == [f"070-111 22 33 · from Tele2 on {day}", f"Physical SIM, ICC {grouped(icc(3))}"]


def test_the_pages_say_error_in_their_title_when_there_is_a_problem(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    assert pages.title(pages.page(b.get(url))).startswith("Mobile subscriptions for several people – ")
    refused = post(b, url, {**SHARED, **table([line("nobody@nordlys.test")])})
    assert refused.status_code == 422
    assert pages.title(pages.page(refused)).startswith("Error: Mobile subscriptions for several people – ")
    assert post(b, url, {**SHARED, "price_basis-basis": "bound", **table(THREE)}).status_code == 303
    unaccepted = save(b, url)  # the binding period not accepted
    assert unaccepted.status_code == 422
    assert pages.title(pages.page(unaccepted)).startswith("Error: Check your answers – ")


def test_a_fixed_batch_is_named_as_one(buyer_as):
    b = buyer_as("owner")
    url = start(b, "fixed")
    doc = pages.page(b.get(url))
    assert pages.h1(doc) == "Fixed subscriptions for several people"
    assert [x.attrs["href"] for x in doc.find_all("a", download=True)] == [f"{SUBS}/batches/template.csv?kind=fixed"]
    fixed = [
        {"email": "anna@nordlys.test", "number_choice": "new"},
        {"email": "erik@nordlys.test", "number_choice": "new"},
    ]
    shared = {k: v for k, v in SHARED.items() if k.partition("-")[0] in ("price_basis", "call_rate", "pbx")}
    assert post(b, url, {**shared, **table(fixed)}).status_code == 303
    review = pages.page(b.get(url + "/review"))
    assert review.find(cls="lead").text() == "Fixed subscriptions for 2 people"


@pytest.mark.parametrize(("kind", "columns"), [("mobile", batch.COLUMNS), ("fixed", batch.COLUMNS[:-2])])
def test_the_csv_template_moves_a_number_on_the_earliest_porting_date(buyer_as, kind, columns):
    b = buyer_as("owner")
    got = b.get(f"{SUBS}/batches/template.csv?kind={kind}")
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(rows[0]) == columns
    assert rows[1]["number_choice"] == "port"
    assert rows[1]["port_date"] == earliest_porting_date(kind, wizard_clock.today()).isoformat()


def test_the_confirmation_shows_the_one_off_total_too(buyer_as):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303
    done = pages.page(b.get(save(b, url).headers["Location"]))
    total = [cell.text() for cell in done.find("tfoot").find_all("td")]
    # each line SEK 247.00 a month (subscription, fixed call rate, 5 GB), SEK 148.00 once (start fee, SIM card)
    assert total == ["SEK 741.00", "SEK 444.00"]


# Only PostgreSQL lets another order in between a Save's check and its purchase: on SQLite the Save's
# BEGIN IMMEDIATE holds the database's write lock from its first statement.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_number_another_order_takes_during_the_save_is_named_not_a_500(app, buyer_as, query, monkeypatch):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303
    checked_at_save = batch.check

    def check_then_another_order_takes_line_3s_number(*args, **kwargs):
        result = checked_at_save(*args, **kwargs)
        monkeypatch.setattr(batch, "check", checked_at_save)  # once: the check after the failure is the real one
        with app.extensions["db_engine"].begin() as other_order:
            other_order.execute(update(PhoneNumber).where(PhoneNumber.e164 == "+46731234500").values(status="assigned"))
        return result

    monkeypatch.setattr(batch, "check", check_then_another_order_takes_line_3s_number)
    refused = save(b, url)
    assert refused.status_code == 422
    assert "Line 3: Not one of your organisation&#39;s free reserved numbers" in refused.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0
    assert query(lambda s: s.scalar(select(func.count(Sim.id)))) == 0


def test_a_contract_ended_after_the_check_is_named_not_a_binding_box_that_is_not_there(buyer_as, query):
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, "price_basis-basis": "bound", **table(THREE)}).status_code == 303
    ended = update(Contract).values(ends_on=date(2000, 1, 1))
    query(lambda s: (s.execute(ended), s.commit()))
    review = b.get(url + "/review").get_data(as_text=True)
    assert re.search(r'<a href="[^"]+#price_basis-basis-0">Price basis: ', review)
    refused = save(b, url)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Price basis: " in html and "Accept the binding period" not in html
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0


def test_a_batch_checked_before_the_lines_were_kept_is_checked_again_not_a_500(app, buyer_as, query):
    """Checks used to store "checked": true; such a draft goes back to its page to be checked again."""
    b = buyer_as("owner")
    url = start(b)
    assert post(b, url, {**SHARED, **table(THREE)}).status_code == 303

    def as_before(s):
        draft = s.scalar(select(Draft).where(Draft.kind == "batch"))
        draft.answers = {**draft.answers, "checked": True}
        s.commit()

    query(as_before)
    review = b.get(url + "/review")
    assert review.status_code == 302 and review.headers["Location"].endswith(url.rsplit("/", 1)[-1])
    page = b.get(url).get_data(as_text=True)
    resent = b.client.post(url + "/save", data={"csrf_token": csrf_token(page), "version": hidden(page, "version")[0]})
    assert resent.status_code == 303 and resent.headers["Location"].endswith(url.rsplit("/", 1)[-1])  # check again
    assert query(lambda s: s.scalar(select(func.count(Subscription.id)))) == 0


def test_the_pages_larger_limits_are_for_people_logged_in_only(app, buyer_as):
    b = buyer_as("owner")
    url = start(b)

    def big():  # past the app's 16 KiB a multipart body; within the page's own limits
        csv_file = (io.BytesIO(b"x" * 40_000), "f.csv")
        return {"csrf_token": "x", "_go": "later", "lines-0-email": "a" * 100, "csv": csv_file}

    stranger = app.test_client().post(url, data=big(), content_type="multipart/form-data")
    assert stranger.status_code == 413  # the app's own limits, before any login or CSRF check
    assert b.client.post(url, data=big(), content_type="multipart/form-data").status_code == 400  # read; CSRF refused
