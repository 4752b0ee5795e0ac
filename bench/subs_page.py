"""(c) The Subs page (GET /settings/account/subs as owner@nordlys.test) with 10 and with 5,000
subscriptions in the organisation: median time, SQL statements and response size.

    .venv/bin/python -m bench.subs_page                        # SQLite, 10 and 5000 subscriptions
    .venv/bin/python -m bench.subs_page --db sqlite,postgresql --sizes 10,5000 --repeats 10 --json subs.json

The subscriptions are inserted directly with SQLAlchemy, each as a Save leaves it: an assigned
mobile number, a submitted draft, the subscription (call rate and data package price items,
alternately bought by the owner and the buyer, for Erik, Anna or the buyer) and an eSIM.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from pathlib import Path

from bench import cpu
from bench.common import (
    OWNER,
    add_quiet_options,
    add_subscriptions,
    count_subscriptions,
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
from bench.walk import SUBS, Walker

MAX_STATEMENTS = 10
MAX_KB = 30


def run(kind: str, sizes: list[int], repeats: int, big_repeats: int, quiet: dict | None = None) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory(prefix="wizard-bench-") as tmp, fresh_database(kind, Path(tmp)) as url:
        app = make_inprocess_app(url, Path(tmp))
        from wizard import db

        engine = app.extensions["db_engine"]
        counter = SqlCounter(engine)
        transport = ClientTransport(app.test_client(), counter)
        Walker(transport).login(*OWNER)
        have = 0
        for size in sorted(sizes):
            with app.app_context():
                add_subscriptions(db.session(), size - have, start=have)
                have = count_subscriptions(db.session())
            n = repeats if size <= 100 else big_repeats
            transport.request("GET", SUBS)  # warm-up
            speed = cpu.reference_ms(rounds=3, fraction=0.2)  # the machine's speed just before
            replies, usage, attempt = cpu.measure_quietly(
                lambda n=n: [transport.request("GET", SUBS) for _ in range(n)],
                label=f"(c) {kind}, {have} subscriptions",
                **(quiet or {"quiet_wait": 0, "max_other": 1e9, "attempts": 1}),
            )
            for reply in replies:
                if reply.status != 200:
                    raise AssertionError(f"Subs page answered {reply.status}")
            body = replies[-1].text.encode()
            out.append(
                {
                    "database": kind,
                    "subscriptions": have,
                    "repeats": n,
                    "ms": median(r.ms for r in replies),
                    "ms_min": min(r.ms for r in replies),
                    "statements": median(r.sql.n_statements for r in replies),
                    "tx": median(r.sql.n_tx for r in replies),
                    "transaction_signs": sorted({s for r in replies for s in r.sql.transaction_signs()}),
                    "get_in_transaction": any(r.sql.get_in_transaction for r in replies),
                    "bytes": len(body),
                    "kb": len(body) / 1024,
                    "gzip_kb": len(gzip.compress(body)) / 1024,
                    "cpu_percent_of_one_core": usage,
                    "attempt": attempt,
                    "reference_ms": speed,
                }
            )
        counter.close()
        engine.dispose()
    return out


def render(rows: list[dict]) -> str:
    body = [
        [
            r["database"],
            f"{r['subscriptions']:,}",
            f"{r['ms']:.1f}",
            f"{r['statements']:g}",
            f"{r['tx']:g}",
            ", ".join(r["transaction_signs"]) or "no",
            f"{r['kb']:.1f}",
            f"{r['gzip_kb']:.1f}",
            r["repeats"],
            f"{r['cpu_percent_of_one_core'].get('other', float('nan')):.0f}%",
            f"{r['reference_ms']:.0f}",
        ]
        for r in rows
    ]
    out = [
        "### (c) Subs page as the owner (GET /settings/account/subs)",
        "",
        table(
            [
                "database",
                "subscriptions",
                "median ms",
                "statements",
                "tx",
                "in transaction",
                "KB (KiB)",
                "gzip KB",
                "requests",
                "other CPU",
                "reference loop ms",
            ],
            body,
            "lrrrrlrrrrr",
        ),
        "",
    ]
    for r in rows:
        if r["subscriptions"] >= 5000:
            out.append(
                f"- {r['database']}, {r['subscriptions']:,} subscriptions: {r['statements']:g} statements "
                f"(target ≤ {MAX_STATEMENTS}: {verdict(r['statements'] <= MAX_STATEMENTS)}), {r['kb']:.1f} KB = "
                f"{r['bytes']:,} bytes (target ≤ {MAX_KB} KB: {verdict(r['kb'] <= MAX_KB)})"
            )
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--sizes", default="10,5000", help="subscriptions in the organisation (default 10,5000)")
    parser.add_argument(
        "--repeats", type=int, default=20, help="requests per size up to 100 subscriptions (default 20)"
    )
    parser.add_argument("--big-repeats", type=int, default=5, help="requests per larger size (default 5)")
    add_quiet_options(parser)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"benchmark": "subs_page", "commit": git_commit(), "runs": []}
    print(f"# (c) Subs page, commit {results['commit']}\n", flush=True)
    for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
        if kind == "postgresql" and (why := postgres_available()):
            print(f"PostgreSQL skipped: not reachable ({why})\n")
            continue
        results["runs"].extend(run(kind, sizes, args.repeats, args.big_repeats, quiet_options(args)))
    print(render(results["runs"]) + "\n")
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
