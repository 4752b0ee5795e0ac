"""(a) In-process: one buyer makes whole mobile purchases through Flask's test client, CSRF on.

    .venv/bin/python -m bench.inprocess                    # SQLite, 30 purchases (after 3 warm-up ones)
    .venv/bin/python -m bench.inprocess --db sqlite,postgresql --repeats 30 --json out.json

Each purchase: POST the Subs page's "Add Subs mobile" form, then every step (GET the page, POST
its form with the CSRF token and version, follow the 303), Save on Check your
answers, GET the done page. A step is its POST plus the GET of the page it redirects to (the
row "start" is the POST that creates the order plus the first step's page; "save" is Save plus
the done page). Per step: the median time over the repeats and the SQL statements of the POST
and of the GET (transaction control apart; see bench/sqlcount.py). The Subs page itself is
benchmark (c), bench/subs_page.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import cpu
from bench.common import (
    BUYER,
    add_free_numbers,
    add_quiet_options,
    fresh_database,
    git_commit,
    make_inprocess_app,
    median,
    postgres_available,
    quiet_options,
    table,
    user_id,
    verdict,
    write_json,
)
from bench.sqlcount import SqlCounter
from bench.walk import Reply, Walker

MAX_PURCHASE_STATEMENTS = 50
MAX_STEP_STATEMENTS = 5


class ClientTransport:
    """Flask's test client, each request timed and its SQL counted."""

    def __init__(self, client, counter: SqlCounter):
        self.client, self.counter = client, counter

    def request(self, method: str, path: str, data=None) -> Reply:
        with self.counter.request(method, path) as stats:
            started = time.perf_counter()
            response = self.client.open(path, method=method, data=data)
            body = response.get_data()
            ms = (time.perf_counter() - started) * 1000
        return Reply(
            response.status_code,
            response.headers.get("Location"),
            body.decode("utf-8", "replace"),
            ms,
            stats,
            len(body),
        )


def run(kind: str, repeats: int, warmup: int, verbose_sql: bool = False, quiet: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="wizard-bench-") as tmp, fresh_database(kind, Path(tmp)) as url:
        app = make_inprocess_app(url, Path(tmp))
        from wizard import db

        with app.app_context():
            add_free_numbers(db.session(), repeats * max(1, (quiet or {}).get("attempts", 1)) + warmup + 50)
            erik = user_id(db.session(), "erik@nordlys.test")
        engine = app.extensions["db_engine"]
        counter = SqlCounter(engine)
        warnings = set()
        walker = Walker(ClientTransport(app.test_client(), counter), answers={"user_id": erik}, warn=warnings.add)
        walker.login(*BUYER)
        for _ in range(warmup):
            walker.purchase("mobile")
        quiet = quiet or {"quiet_wait": 0, "max_other": 1e9, "attempts": 1}

        def timed():
            """The purchases, each after a short reference loop (the machine's speed just then)."""
            out = []
            for _ in range(repeats):
                speed = cpu.reference_ms(rounds=1, fraction=0.2)
                out.append((speed, walker.purchase("mobile")))
            return out

        measured, usage, attempts = cpu.measure_quietly(timed, label=f"(a) {kind}", **quiet)
        counter.close()
        engine.dispose()
        purchases = [records for _speed, records in measured]
        result = summarise(kind, purchases, warnings, verbose_sql)
        result["cpu_percent_of_one_core"], result["attempts"] = usage, attempts
        # The purchase in reference loops: time of a purchase / time of the reference loop just before it.
        result["reference_ms_during"] = median(speed for speed, _ in measured)
        result["purchase"]["in_reference_loops"] = median(
            sum(rec.ms for rec in records) / speed for speed, records in measured
        )
        return result


def _step_numbers(rec) -> dict:
    posts = [r.sql for r in rec.posts]
    get = rec.get.sql
    return {
        "ms": rec.ms,
        "post_ms": sum(r.ms for r in rec.posts),
        "get_ms": rec.get.ms,
        "posts": len(rec.posts),
        "post_statements": sum(s.n_statements for s in posts),
        "post_tx": sum(s.n_tx for s in posts),
        "get_statements": get.n_statements,
        "get_tx": get.n_tx,
        "get_begins": len(get.begins),
        "get_in_transaction": get.get_in_transaction,
        "get_signs": get.transaction_signs(),
        "get_kb": rec.get.size / 1024,
    }


def summarise(kind: str, purchases: list, warnings: set, verbose_sql: bool) -> dict:
    order = [rec.step for rec in purchases[0]]
    per_step = {key: [] for key in order}
    for records in purchases:
        if [r.step for r in records] != order:
            raise AssertionError(f"purchases took different routes: {order} vs {[r.step for r in records]}")
        for rec in records:
            per_step[rec.step].append(_step_numbers(rec))
    steps = []
    for key in order:
        runs = per_step[key]

        def med(name, runs=runs):
            return median(r[name] for r in runs)

        def spread(name, runs=runs):
            values = {r[name] for r in runs}
            return [min(values), max(values)]

        steps.append(
            {
                "step": key,
                "ms": med("ms"),
                "post_ms": med("post_ms"),
                "get_ms": med("get_ms"),
                "posts": med("posts"),
                "post_statements": med("post_statements"),
                "post_tx": med("post_tx"),
                "get_statements": med("get_statements"),
                "get_tx": med("get_tx"),
                "get_kb": med("get_kb"),
                "statements": med("post_statements") + med("get_statements"),
                "get_begins": max(r["get_begins"] for r in runs),
                "get_in_transaction": any(r["get_in_transaction"] for r in runs),
                "get_transaction_signs": sorted({sign for r in runs for sign in r["get_signs"]}),
                "statements_range": [
                    a + b for a, b in zip(spread("post_statements"), spread("get_statements"), strict=True)
                ],
            }
        )
    wizard_steps = [s for s in steps if s["step"] not in ("start", "save")] or steps
    totals = [sum(_step_numbers(rec)["ms"] for rec in records) for records in purchases]
    total_statements = [
        sum(r.sql.n_statements for rec in records for r in rec.posts + [rec.get]) for records in purchases
    ]
    total_tx = [sum(r.sql.n_tx for rec in records for r in rec.posts + [rec.get]) for records in purchases]
    requests = [len(rec.posts) + 1 for rec in purchases[0]]
    gets_noop_begin = sorted(
        {rec.step for records in purchases for rec in records if "BEGIN (implicit)" in rec.get.sql.noop_tx}
    )
    gets_in_tx = sorted({rec.step for records in purchases for rec in records if rec.get.sql.get_in_transaction})
    result = {
        "database": kind,
        "repeats": len(purchases),
        "route": order,
        "requests_per_purchase": sum(requests),
        "steps": steps,
        "purchase": {
            "ms": median(totals),
            "ms_min": min(totals),
            "ms_max": max(totals),
            "statements": median(total_statements),
            "statements_range": [min(total_statements), max(total_statements)],
            "tx": median(total_tx),
        },
        "acceptance": {
            "purchase_statements": {"value": median(total_statements), "limit": MAX_PURCHASE_STATEMENTS},
            "max_step_statements": {
                "value": max(s["statements"] for s in wizard_steps),
                "step": max(wizard_steps, key=lambda s: s["statements"])["step"],
                "limit": MAX_STEP_STATEMENTS,
                "start": next(s["statements"] for s in steps if s["step"] == "start"),
                "save": next(s["statements"] for s in steps if s["step"] == "save"),
            },
            "gets_in_transaction": {"value": len(gets_in_tx), "steps": gets_in_tx, "limit": 0},
            "gets_with_unsent_implicit_begin": {"value": len(gets_noop_begin), "steps": gets_noop_begin},
        },
        "warnings": sorted(warnings),
    }
    if verbose_sql:
        sample = purchases[-1]
        result["sql"] = {
            rec.step: {"posts": [r.sql.as_dict(True) for r in rec.posts], "get": rec.get.sql.as_dict(True)}
            for rec in sample
        }
    return result


def render(result: dict) -> str:
    rows = []
    for s in result["steps"]:
        flag = ", ".join(s["get_transaction_signs"]) or "no"
        spread = (
            ""
            if s["statements_range"][0] == s["statements_range"][1]
            else f" ({s['statements_range'][0]}–{s['statements_range'][1]})"
        )
        rows.append(
            [
                s["step"],
                f"{s['ms']:.1f}",
                f"{s['post_statements']:g}",
                f"{s['post_tx']:g}",
                f"{s['get_statements']:g}",
                f"{s['get_tx']:g}",
                f"{s['statements']:g}{spread}",
                flag,
            ]
        )
    p = result["purchase"]
    rows.append(["**whole purchase**", f"{p['ms']:.1f}", "", "", "", "", f"{p['statements']:g}", ""])
    out = [
        f"### (a) In-process mobile purchase, {result['database']}: median of {result['repeats']} purchases, "
        f"{result['requests_per_purchase']} requests each",
        "",
        table(
            [
                "step (POST + redirected GET)",
                "ms",
                "POST stmts",
                "POST tx",
                "GET stmts",
                "GET tx",
                "stmts POST+GET",
                "GET in transaction",
            ],
            rows,
            "lrrrrrrl",
        ),
        "",
        f"Whole purchase: median {p['ms']:.1f} ms (min {p['ms_min']:.1f}, max {p['ms_max']:.1f}), "
        f"{p['statements']:g} statements + {p['tx']:g} transaction-control statements.",
    ]
    a = result["acceptance"]
    out += [
        "",
        f"- statements per purchase incl. Save: {a['purchase_statements']['value']:g} "
        f"(target ≤ {MAX_PURCHASE_STATEMENTS}: {verdict(a['purchase_statements']['value'] <= MAX_PURCHASE_STATEMENTS)})",
        f"- most statements in one wizard step (its POST and the GET it redirects to): "
        f"{a['max_step_statements']['value']:g} in {a['max_step_statements']['step']} "
        f"(target ≤ {MAX_STEP_STATEMENTS}: {verdict(a['max_step_statements']['value'] <= MAX_STEP_STATEMENTS)}); "
        f"not steps, only in the total: start {a['max_step_statements']['start']:g} (POST /orders + first step), "
        f"save {a['max_step_statements']['save']:g} (Save + done page)",
        f"- GETs that sent a BEGIN or ran in a transaction: {a['gets_in_transaction']['value']} of "
        f"{len(result['steps'])} ({', '.join(a['gets_in_transaction']['steps']) or 'none'}) "
        f"(target 0: {verdict(a['gets_in_transaction']['value'] == 0)})",
    ]
    if a["gets_with_unsent_implicit_begin"]["value"]:
        out.append(
            f"- GETs on an autocommit connection, where SQLAlchemy logs a BEGIN (implicit) that sends nothing: "
            f"{a['gets_with_unsent_implicit_begin']['value']} (not counted as a BEGIN)"
        )
    usage = result.get("cpu_percent_of_one_core") or {}
    if "other" in usage:
        out.append(
            f"- CPU meanwhile, % of one core: this process {usage['benchmark']:.0f}%, PostgreSQL {usage['postgres']:.0f}%, "
            f"other processes {usage['other']:.0f}% (attempt {result['attempts']})"
        )
    if result.get("reference_ms_during"):
        out.append(
            f"- machine speed: the reference Python loop took {result['reference_ms_during']:.0f} ms during the run "
            f"(lower is faster); a whole purchase took {p['in_reference_loops']:.2f} reference loops"
        )
    if result["warnings"]:
        out += ["", "Walker warnings: " + "; ".join(result["warnings"])]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL (same as --db sqlite,postgresql)")
    parser.add_argument("--repeats", type=int, default=30, help="timed purchases (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed purchases first (default 3)")
    add_quiet_options(parser)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    parser.add_argument("--sql", action="store_true", help="include the SQL of the last purchase in the JSON")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if args.postgres and "postgresql" not in kinds:
        kinds.append("postgresql")
    results = {"benchmark": "inprocess", "commit": git_commit(), "runs": []}
    print(f"# (a) in-process purchase, commit {results['commit']}\n")
    for kind in kinds:
        if kind == "postgresql" and (why := postgres_available()):
            print(f"PostgreSQL skipped: not reachable ({why})\n")
            continue
        result = run(kind, args.repeats, args.warmup, args.sql, quiet_options(args))
        results["runs"].append(result)
        print(render(result) + "\n", flush=True)
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
