"""(d) A bulk order in-process: a CSV of 100 lines uploaded, checked and bought in one Save.

    .venv/bin/python -m bench.batch                                  # SQLite, 5 repeats
    .venv/bin/python -m bench.batch --db sqlite,postgresql --json batch.json
    .venv/bin/python -m bench.batch --profile 30                     # and where the time goes

Each repeat runs on a fresh database (migrated, the demo data) and a fresh app, CSRF on, through
Flask's test client: owner@nordlys.test logs in, starts "Subs for several people" (mobile) from
the Subs page, and uploads a CSV of 100 lines (as tests/test_batch.py does: Erik Lund on every
line, each porting its own number 070-500 xx yy from Telia on the earliest porting date to a
physical SIM with its own valid ICC). Then, as a browser without JavaScript, it posts the whole
table back with the shared choices (unbound prices, fixed call rate, 5 GB, no PBX, no top-up):
the check ("Check and continue", answered by a 303 to Check your answers), then the Save ("Buy
100 subscriptions", answered by a 303 to the done page; 100 subscriptions must have been bought).
Targets: the check under 1 s, the Save under 2 s (issue 16). Each is timed alone
(wall-clock around the request, response and teardown) and its SQL counted (bench/sqlcount.py);
the GETs between them are measured too but count in neither. Before the timed batch, each repeat
buys an untimed one-line batch the same way, so that the fresh app has compiled its templates.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from stdnum import luhn

from bench import cpu
from bench.common import (
    OWNER,
    add_quiet_options,
    fresh_database,
    git_commit,
    make_inprocess_app,
    median,
    postgres_available,
    quiet_options,
    table,
    verdict,
    write_json,
)
from bench.inprocess import ClientTransport
from bench.sqlcount import SqlCounter
from bench.walk import SUBS, Reply, Walker, WalkError, fill, forms, path_of

LINES = 100
TARGET_MS = {"check": 1000.0, "save": 2000.0}
# What a browser posts for the shared choices (field names carry their step's prefix).
SHARED = {
    "price_basis-basis": "unbound",
    "call_rate-code": "rate-fixed",
    "data_package-code": "data-5",
    "pbx-mode": "independent",
    "top_up-top_up": "no",
}
PHASES = ("upload", "batch page", "check", "review page", "save", "done page")


def icc(n: int) -> str:
    """A valid ICC (89…, Luhn check digit), different for each n."""
    body = f"894607{n:013d}"
    return body + luhn.calc_check_digit(body)


def csv_text(count: int, first: int, porting_date: str) -> str:
    """A CSV of `count` lines, numbered from `first`: Erik Lund, a number ported from Telia, a
    physical SIM (the lines of tests/test_batch.py's 100-line test)."""
    from wizard import batch

    rows = [
        {
            "email": "erik@nordlys.test",
            "number_choice": "port",
            "number": f"070-500 {n // 100:02d} {n % 100:02d}",
            "port_operator": "Telia",
            "port_date": porting_date,
            "sim": "physical",
            "icc": icc(100 + n),
        }
        for n in range(first, first + count)
    ]
    return "\n".join([";".join(batch.COLUMNS)] + [";".join(r.get(c, "") for c in batch.COLUMNS) for r in rows])


class Buyer:
    """One logged-in buyer of one app, making bulk orders; every request timed and counted."""

    def __init__(self, transport: ClientTransport):
        self.t = transport
        self.walker = Walker(transport)
        self.walker.login(*OWNER)

    def expect(self, reply: Reply, statuses, what: str) -> Reply:
        return self.walker._expect(reply, statuses, what)

    def form_to(self, page: str, ending: str):
        found = next((f for f in forms(page) if path_of(f.action).endswith(ending)), None)
        if found is None:
            raise WalkError(f"no form posting to …{ending} on the page")
        return found

    def order(self, csv: str, lines: int, profilers: dict | None = None) -> dict[str, Reply]:
        """Start a batch, upload the CSV, check it, Save; the replies by phase (see PHASES)."""
        out = {}
        subs = self.expect(self.t.request("GET", SUBS), (200,), "subs page").text
        start = self.form_to(subs, "/batches")
        reply = self.t.request("POST", path_of(start.action), {**fill(start, {}), "kind": "mobile"})  # its button
        url = path_of(self.expect(reply, (303,), "start a batch").location)
        page = self.expect(self.t.request("GET", url), (200,), "batch page").text
        form = self.form_to(page, url)
        upload = {**fill(form, SHARED), "_upload": "1", "csv": (io.BytesIO(csv.encode()), "team.csv")}
        out["upload"] = self.expect(self.t.request("POST", url, upload), (303,), "upload")
        out["batch page"] = self.expect(self.t.request("GET", url), (200,), "batch page after the upload")
        form = self.form_to(out["batch page"].text, url)
        data = fill(form, SHARED)  # "Check and continue": every field as the page shows it, no button name
        posted = sum(1 for name in data if name.startswith("lines-") and name.endswith("-email"))
        if posted != lines:
            raise WalkError(f"the batch page shows {posted} lines, not {lines}")
        out["check"] = self.timed("POST", url, data, profilers, "check")
        if not path_of(out["check"].location).endswith("/review"):
            raise WalkError(f"the check went to {out['check'].location}")
        out["review page"] = self.expect(self.t.request("GET", url + "/review"), (200,), "review page")
        save = self.form_to(out["review page"].text, "/save")
        out["save"] = self.timed("POST", path_of(save.action), fill(save, {}), profilers, "save")
        if not path_of(out["save"].location).endswith("/done"):
            raise WalkError(f"Save went to {out['save'].location}")
        out["done page"] = self.expect(self.t.request("GET", path_of(out["save"].location)), (200,), "done page")
        return out

    def timed(self, method, path, data, profilers, what) -> Reply:
        profiler = (profilers or {}).get(what)
        if profiler is not None:
            profiler.enable()
        try:
            reply = self.t.request(method, path, data)
        finally:
            if profiler is not None:
                profiler.disable()
        return self.expect(reply, (303,), what)


def subscriptions(app) -> int:
    from wizard import db
    from wizard.models import Subscription

    with app.app_context():
        return db.session().scalar(select(func.count(Subscription.id)))


def one_repeat(kind: str, workdir: Path, lines: int, profilers: dict | None = None) -> dict:
    """A fresh database and app: the warm-up batch of one line, then the timed batch of `lines`."""
    from wizard import clock, porting

    with fresh_database(kind, workdir) as url:
        app = make_inprocess_app(url, workdir)
        engine = app.extensions["db_engine"]
        counter = SqlCounter(engine)
        try:
            buyer = Buyer(ClientTransport(app.test_client(), counter))
            day = porting.earliest_porting_date("mobile", clock.today()).isoformat()
            buyer.order(csv_text(1, lines, day), 1)  # warm-up: numbers and ICCs the timed batch does not use
            speed = cpu.reference_ms(rounds=1, fraction=0.2)
            replies = buyer.order(csv_text(lines, 0, day), lines, profilers)
            bought = subscriptions(app) - 1
            if bought != lines:
                raise WalkError(f"Save bought {bought} subscriptions, not {lines}")
        finally:
            counter.close()
            engine.dispose()
    return {
        "reference_ms": speed,
        **{
            phase: {"ms": r.ms, "statements": r.sql.n_statements, "tx": r.sql.n_tx, "sql": r.sql.statements}
            for phase, r in replies.items()
        },
    }


def run(kind: str, repeats: int, lines: int, quiet: dict, profile: int, with_sql: bool = False) -> dict:
    profilers = {phase: cProfile.Profile() for phase in TARGET_MS} if profile else None
    with tempfile.TemporaryDirectory(prefix="wizard-bench-") as tmp:

        def timed():
            out = []
            for i in range(repeats):
                workdir = Path(tmp) / f"repeat-{i}"
                workdir.mkdir()
                out.append(one_repeat(kind, workdir, lines))
            if profilers:  # one more repeat, under the profiler, not in the figures
                workdir = Path(tmp) / "profiled"
                workdir.mkdir()
                one_repeat(kind, workdir, lines, profilers)
            return out

        started = time.perf_counter()
        repeated, usage, attempt = cpu.measure_quietly(timed, label=f"(d) {kind}", **quiet)
    result = {
        "database": kind,
        "lines": lines,
        "repeats": len(repeated),
        "seconds": time.perf_counter() - started,
        "cpu_percent_of_one_core": usage,
        "attempt": attempt,
        "reference_ms": median(r["reference_ms"] for r in repeated),
        "phases": {},
    }
    for phase in PHASES:
        ms = [r[phase]["ms"] for r in repeated]
        statements = [r[phase]["statements"] for r in repeated]
        result["phases"][phase] = {
            "ms": median(ms),
            "ms_min": min(ms),
            "ms_max": max(ms),
            "ms_all": ms,
            "statements": median(statements),
            "statements_range": [min(statements), max(statements)],
            "tx": median(r[phase]["tx"] for r in repeated),
        }
        if phase in TARGET_MS:
            result["phases"][phase]["target_ms"] = TARGET_MS[phase]
            result["phases"][phase]["meets"] = median(ms) < TARGET_MS[phase]
    if with_sql:  # the SQL of the last repeat, each distinct statement with how often it was sent
        result["sql"] = {
            phase: sorted(Counter(repeated[-1][phase]["sql"]).items(), key=lambda kv: -kv[1]) for phase in PHASES
        }
    if profilers:
        result["profile"] = {phase: profile_text(p, profile) for phase, p in profilers.items()}
    return result


def profile_text(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def render(results: list[dict]) -> str:
    rows = []
    for r in results:
        for phase in PHASES:
            p = r["phases"][phase]
            low, high = p["statements_range"]
            target = f"< {p['target_ms']:,.0f} ms: {verdict(p['meets'])}" if "target_ms" in p else ""
            rows.append(
                [
                    r["database"],
                    f"**{phase}**" if target else phase,
                    f"{p['ms']:,.1f}",
                    f"{p['ms_min']:,.1f}",
                    f"{p['ms_max']:,.1f}",
                    f"{p['statements']:g}" + ("" if low == high else f" ({low}–{high})"),
                    f"{p['tx']:g}",
                    target,
                ]
            )
    out = [
        f"### (d) A CSV of {results[0]['lines']} lines checked and bought in one Save, in-process "
        f"({results[0]['repeats']} repeats, each on a fresh database)",
        "",
        table(
            ["database", "request", "median ms", "min ms", "max ms", "statements", "tx", "target"],
            rows,
            "llrrrrrl",
        ),
        "",
    ]
    for r in results:
        usage = r["cpu_percent_of_one_core"] or {}
        out.append(
            f"- {r['database']}: check {verdict(r['phases']['check']['meets'])} its target, Save "
            f"{verdict(r['phases']['save']['meets'])} its target; reference loop {r['reference_ms']:.0f} ms; "
            f"other processes used {usage.get('other', float('nan')):.0f}% of one core; {r['seconds']:.0f} s in all"
        )
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats, each on a fresh database (default 5)")
    parser.add_argument("--lines", type=int, default=LINES, help=f"lines in the CSV (default {LINES})")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="one more repeat per database under cProfile (not in the figures); print its top N entries",
    )
    add_quiet_options(parser, wait=0, max_other=25, attempts=1)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    parser.add_argument("--sql", action="store_true", help="include the SQL of the last repeat in the JSON")
    args = parser.parse_args(argv)
    results = {"benchmark": "batch", "commit": git_commit(), "runs": []}
    print(f"# (d) bulk order of {args.lines} lines, commit {results['commit']}\n", flush=True)
    for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
        if kind == "postgresql" and (why := postgres_available()):
            print(f"PostgreSQL skipped: not reachable ({why})\n")
            continue
        results["runs"].append(run(kind, args.repeats, args.lines, quiet_options(args), args.profile, args.sql))
    if results["runs"]:
        print(render(results["runs"]) + "\n")
    for r in results["runs"]:
        for phase, text in (r.get("profile") or {}).items():
            print(f"#### cProfile, {r['database']}, {phase} (one more repeat, not in the figures)\n")
            print(text)
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
