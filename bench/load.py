"""(b) Loopback load: gunicorn (sync workers) serving `app:app`, N virtual buyers making whole
mobile purchases for a fixed time, on SQLite and on PostgreSQL, 1 worker against 2 workers.

    .venv/bin/python -m bench.load                      # SQLite and PostgreSQL, 1 and 2 workers, 16 buyers, 20 s each
    .venv/bin/python -m bench.load --db sqlite --workers 1,2 --buyers 16 --duration 20 --rounds 4
    .venv/bin/python -m bench.load --json load.json

For each database one fresh database is prepared with `flask --app app init-db` and `seed-demo`,
plus one buyer account per virtual buyer (Nordlys AB, `account` permission) and extra free
mobile numbers (the demo pool has 20). One gunicorn per worker count serves it, started from the
repository root as a deployment would (`python -m gunicorn -w N -b 127.0.0.1:PORT app:app`, env
SECRET_KEY, DATABASE_URL, SESSION_COOKIE_SECURE=false, RATELIMIT_STORAGE_URI=memory://).

Every server gets its own N virtual buyers: threads, each with its own HTTP session (requests,
no redirects followed), logged in once before the clock starts, then making purchases back to
back (the same walk as bench/inprocess.py: start from the Subs page's form, every step's POST and
redirected GET, Save, done page). The servers take turns: `--rounds` windows each of
duration/rounds seconds, 1 worker, 2 workers, 1 worker, ... While one server is measured the
other server's buyers wait before their next request (that wait is not part of any latency), so
a drift in the machine's speed hits both worker counts alike. Purchases/s is the requests
answered inside the windows divided by the requests of one purchase; latencies are those of the
purchases and requests that end inside the windows.

The load generator runs on the same machine and competes with gunicorn (and PostgreSQL) for
the CPUs: the output shows who used how much CPU during the windows.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import cpu
from bench.common import (
    ROOT,
    add_buyers,
    add_free_numbers,
    add_quiet_options,
    fresh_database,
    git_commit,
    median,
    percentile,
    postgres_available,
    quiet_options,
    table,
    user_id,
    verdict,
    write_json,
)
from bench.walk import Reply, Walker

MIN_SPEEDUP = 1.7


class Stopped(Exception):
    """The benchmark is over: abandon the purchase."""


class Gate:
    """Lets one server's buyers send requests while it is measured; counts requests in flight."""

    def __init__(self):
        self._lock = threading.Condition()
        self._open = False
        self.stopped = False
        self.inflight = 0

    def enter(self, transport) -> None:
        waited = None
        with self._lock:
            while not self._open and not self.stopped:
                waited = waited or time.perf_counter()
                self._lock.wait()
            if self.stopped:
                raise Stopped()
            self.inflight += 1
        if waited is not None:
            transport.paused += time.perf_counter() - waited

    def leave(self) -> None:
        with self._lock:
            self.inflight -= 1
            self._lock.notify_all()

    def open(self) -> None:
        with self._lock:
            self._open = True
            self._lock.notify_all()

    def close(self, timeout: float = 120) -> None:
        """Stop letting requests out and wait until those in flight are answered."""
        with self._lock:
            self._open = False
            self._lock.wait_for(lambda: self.inflight == 0, timeout)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            self._lock.notify_all()


class HttpTransport:
    """One browser on the standard library's http.client: cookies kept, redirects not followed;
    logs every request's end and time.

    The load generator shares the 2 cores with the server, so it must cost little per request:
    `requests` took about 2 ms of CPU a request here, a quarter of what a gunicorn worker spends,
    which alone capped 2 workers at about 1.55x of one. http.client does the same in a fraction."""

    def __init__(self, base: str, gate: Gate | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.gate = gate
        self.paused = 0.0  # seconds spent waiting at the gate
        self.sent = 0
        self.log: list[tuple[float, float, int]] = []  # (end, ms, status)

    def _send(self, method: str, path: str, data) -> tuple[int, str | None, bytes]:
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for cookie in response.msg.get_all("Set-Cookie") or []:
                pair, _, attributes = cookie.partition(";")
                name, _, value = pair.strip().partition("=")
                gone = "max-age=0" in attributes.lower() or "1970" in attributes
                if gone:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            return response.status, response.getheader("Location"), content
        finally:
            conn.close()

    def request(self, method: str, path: str, data=None) -> Reply:
        if self.gate is not None:
            self.gate.enter(self)
        try:
            started = time.perf_counter()
            status, location, body = self._send(method, path, data)
            ended = time.perf_counter()
        finally:
            if self.gate is not None:
                self.gate.leave()
        ms = (ended - started) * 1000
        self.sent += 1
        self.log.append((ended, ms, status))
        return Reply(status, location, body.decode("utf-8", "replace"), ms, None, len(body))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": "false",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("FLASK_DEBUG", None)
    return env


def flask_cli(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def prepare(url: str, env: dict, buyers: int, free_numbers: int) -> tuple[list, int]:
    """init-db and seed-demo through the CLI, then the benchmark's buyers and numbers."""
    from sqlalchemy.orm import Session

    from wizard.db import make_engine

    flask_cli(env, "init-db")
    flask_cli(env, "seed-demo")
    engine = make_engine(url)
    with Session(engine) as sess:
        accounts = add_buyers(sess, buyers)
        add_free_numbers(sess, free_numbers)
        erik = user_id(sess, "erik@nordlys.test")
    engine.dispose()
    return accounts, erik


class Server:
    """gunicorn with N sync workers, started from the repository root; stopped by its own pid."""

    def __init__(self, workers: int, env: dict, logfile: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logfile.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if requests.get(self.base + "/login", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Fleet:
    """One server and its virtual buyers, with what they measured."""

    def __init__(self, server: Server, workers: int, accounts: list, erik: int):
        self.server, self.workers, self.gate = server, workers, Gate()
        self.walkers = []
        for email, password in accounts:  # log in before the clock starts (Argon2 is deliberately slow)
            walker = Walker(HttpTransport(server.base), answers={"user_id": erik})
            walker.login(email, password)
            walker.t.gate = self.gate
            walker.t.log.clear()
            self.walkers.append(walker)
        self.purchases: list[tuple[float, float, int]] = []  # (end, active seconds, requests)
        self.errors: dict[str, int] = {}
        self.windows: list[tuple[float, float]] = []
        self.usage: list[tuple[dict, float]] = []
        self.speeds: list[float] = []
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._buyer, args=(w,), daemon=True) for w in self.walkers]
        for t in self.threads:
            t.start()

    def _buyer(self, walker: Walker) -> None:
        failures = 0
        while not self.gate.stopped and failures < 20:
            paused, sent, started = walker.t.paused, walker.t.sent, time.perf_counter()
            try:
                walker.purchase("mobile")
            except Stopped:
                return
            except Exception as exc:  # noqa: BLE001 - any failure is counted and shown
                failures += 1
                key = f"{type(exc).__name__}: {str(exc)[:160]}"
                with self._lock:
                    self.errors[key] = self.errors.get(key, 0) + 1
                walker.page = None
                time.sleep(0.2)
                continue
            ended = time.perf_counter()
            with self._lock:
                self.purchases.append((ended, ended - started - (walker.t.paused - paused), walker.t.sent - sent))

    def warm(self, seconds: float) -> None:
        """Let the buyers go for `seconds`, untimed, then forget what they did."""
        self.gate.open()
        time.sleep(seconds)
        self.gate.close()
        with self._lock:
            self.purchases, self.windows, self.usage, self.speeds = [], [], [], []
            self.errors.clear()
        for w in self.walkers:
            w.t.log.clear()

    def measure(self, settle: float, seconds: float) -> None:
        """Let the buyers go, skip `settle` seconds, measure `seconds`, then stop them again."""
        sampler = cpu.Sampler(
            {
                "gunicorn": lambda: cpu.tree(self.server.proc.pid),
                "load generator": lambda: [os.getpid()],
                "postgres": lambda: cpu.named("postgres"),
            }
        )
        self.speeds.append(cpu.reference_ms(rounds=1, fraction=0.2))  # the machine's speed just before
        self.gate.open()
        time.sleep(settle)
        sampler.start()
        start = time.perf_counter()
        time.sleep(seconds)
        end = time.perf_counter()
        self.usage.append((sampler.stop(end - start), end - start))
        self.gate.close()
        self.windows.append((start, end))

    def stop(self) -> None:
        self.gate.stop()
        for t in self.threads:
            t.join(timeout=30)

    def result(self) -> dict:
        def inside(t: float) -> bool:
            return any(a <= t <= b for a, b in self.windows)

        seconds = sum(b - a for a, b in self.windows)
        done = [(active, n) for end, active, n in self.purchases if inside(end)]
        per_purchase = median(n for _, _, n in self.purchases) if self.purchases else float("nan")
        request_ms = [ms for w in self.walkers for end, ms, _status in w.t.log if inside(end)]
        usage: dict = {}
        for sample, weight in self.usage:
            for key, value in sample.items():
                if key != "cores":
                    usage[key] = usage.get(key, 0.0) + value * weight / seconds
        usage["cores"] = os.cpu_count()
        return {
            "workers": self.workers,
            "buyers": len(self.walkers),
            "duration_s": seconds,
            "windows": len(self.windows),
            "purchases_per_s": len(request_ms) / per_purchase / seconds,
            "requests_per_purchase": per_purchase,
            "purchases": len(done),
            "completed_per_s": len(done) / seconds,
            "purchase_ms": {
                "p50": percentile([a * 1000 for a, _ in done], 50),
                "p99": percentile([a * 1000 for a, _ in done], 99),
            },
            "requests": len(request_ms),
            "requests_per_s": len(request_ms) / seconds,
            "request_ms": {"p50": percentile(request_ms, 50), "p99": percentile(request_ms, 99)},
            "errors": dict(self.errors),
            "error_count": sum(self.errors.values()),
            "cpu_percent_of_one_core": usage,
            "reference_ms": median(self.speeds),
        }


def run(
    kind: str,
    workers: list[int],
    buyers: int,
    duration: float,
    warmup: float,
    rounds: int,
    free_numbers: int,
    workdir: Path,
    quiet: dict | None = None,
) -> list[dict]:
    """One database, one server per worker count taking turns; measured again while others disturbed it."""
    quiet = quiet or {"quiet_wait": 0, "max_other": 1e9, "attempts": 1}
    with fresh_database(kind, workdir) as url:
        env = server_env(url)
        accounts, erik = prepare(url, env, buyers, free_numbers)
        servers, fleets = [], []
        try:
            for n in workers:
                servers.append(Server(n, env, workdir / f"gunicorn-{kind}-{n}.log"))
                fleets.append(Fleet(servers[-1], n, accounts, erik))
            best = None
            for attempt in range(1, max(1, quiet["attempts"]) + 1):
                cpu.wait_quiet(quiet["quiet_wait"])
                for fleet in fleets:
                    fleet.warm(warmup)
                for _ in range(rounds):
                    for fleet in fleets:
                        fleet.measure(0.5, duration / rounds)
                results = [
                    {"database": kind, "attempt": attempt, "warmup_s": warmup, "rounds": rounds, **fleet.result()}
                    for fleet in fleets
                ]
                other = max(r["cpu_percent_of_one_core"].get("other", 0.0) for r in results)
                if best is None or other < best[0]:
                    best = (other, results)
                if other <= quiet["max_other"]:
                    break
                if attempt < quiet["attempts"]:
                    print(
                        f"{kind}: other processes used {other:.0f}% of one core during the windows; "
                        f"measuring again ({attempt + 1} of {quiet['attempts']})",
                        flush=True,
                    )
            return best[1]
        finally:
            for fleet in fleets:
                fleet.stop()
            for server in servers:
                server.stop()


def render_run(r: dict) -> str:
    u = r["cpu_percent_of_one_core"]
    parts = [f"{name} {u[name]:.0f}%" for name in ("gunicorn", "load generator", "postgres", "other") if name in u]
    line = (
        f"{r['database']}, {r['workers']} worker(s): {r['purchases_per_s']:.2f} purchases/s "
        f"({r['purchases']} completed in {r['duration_s']:.0f} s), purchase p50 {r['purchase_ms']['p50']:.0f} ms / "
        f"p99 {r['purchase_ms']['p99']:.0f} ms; {r['requests_per_s']:.0f} requests/s, request p50 "
        f"{r['request_ms']['p50']:.1f} ms / p99 {r['request_ms']['p99']:.1f} ms; errors {r['error_count']}"
    )
    cpu_line = (
        f"  CPU during the windows, % of one core ({u['cores']} cores = {100 * u['cores']}%): "
        + ", ".join(parts)
        + (f"; machine busy {u['machine busy']:.0f}%" if "machine busy" in u else "")
        + (f" (attempt {r['attempt']})" if r.get("attempt", 1) > 1 else "")
        + (f"; reference loop {r['reference_ms']:.0f} ms" if r.get("reference_ms") else "")
    )
    out = [line, cpu_line]
    for message, count in r["errors"].items():
        out.append(f"  error ×{count}: {message}")
    return "\n".join(out)


def render(results: dict) -> str:
    runs = results["runs"]
    rows = [
        [
            r["database"],
            r["workers"],
            r["buyers"],
            f"{r['purchases_per_s']:.2f}",
            f"{r['purchase_ms']['p50']:.0f}",
            f"{r['purchase_ms']['p99']:.0f}",
            f"{r['requests_per_s']:.0f}",
            f"{r['request_ms']['p50']:.1f}",
            f"{r['request_ms']['p99']:.1f}",
            r["error_count"],
            f"{r['cpu_percent_of_one_core'].get('load generator', float('nan')):.0f}%",
            f"{r['cpu_percent_of_one_core'].get('other', float('nan')):.0f}%",
            f"{r.get('reference_ms', float('nan')):.0f}",
        ]
        for r in runs
    ]
    out = [
        f"### (b) Loopback load, gunicorn sync workers, {runs[0]['buyers'] if runs else 0} virtual buyers per server, "
        f"{runs[0]['duration_s'] if runs else 0:.0f} s per server in {runs[0]['rounds'] if runs else 0} turns "
        f"(after {runs[0]['warmup_s'] if runs else 0:g} s warm-up)",
        "",
        table(
            [
                "database",
                "workers",
                "buyers",
                "purchases/s",
                "purchase p50 ms",
                "purchase p99 ms",
                "requests/s",
                "request p50 ms",
                "request p99 ms",
                "errors",
                "load generator CPU",
                "other CPU",
                "reference loop ms",
            ],
            rows,
            "lrrrrrrrrrrrr",
        ),
        "",
    ]
    for kind, speedup in results["speedup"].items():
        if speedup is not None:
            target = (
                f" (target on SQLite ≥ {MIN_SPEEDUP}×: {verdict(speedup >= MIN_SPEEDUP)})" if kind == "sqlite" else ""
            )
            out.append(f"- {kind}: 2 workers / 1 worker = {speedup:.2f}× purchases/s{target}")
    out.append(
        f"- The load generator ({runs[0]['buyers'] if runs else 0} threads, one process) runs on the same "
        f"{os.cpu_count()} cores as gunicorn and PostgreSQL; CPU is % of one core during the timed windows; 'other CPU' is busy time no part of the benchmark accounts for (other processes on the machine)."
    )
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated (default: sqlite,postgresql)")
    parser.add_argument("--workers", default="1,2", help="gunicorn worker counts that take turns (default: 1,2)")
    parser.add_argument("--buyers", type=int, default=16, help="virtual buyers per server (default 16)")
    parser.add_argument("--duration", type=float, default=20, help="timed seconds per server (default 20)")
    parser.add_argument("--rounds", type=int, default=4, help="turns the timed seconds are split into (default 4)")
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds per server first (default 3)")
    parser.add_argument(
        "--numbers",
        type=int,
        default=None,
        help="free mobile numbers added to the pool (default 1500 per server and attempt + 500)",
    )
    add_quiet_options(parser)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    numbers = args.numbers if args.numbers is not None else 1500 * len(workers) * max(1, args.attempts) + 500
    results = {"benchmark": "load", "commit": git_commit(), "cores": os.cpu_count(), "runs": [], "speedup": {}}
    print(
        f"# (b) loopback load, commit {results['commit']}, {os.cpu_count()} cores, {args.buyers} virtual buyers\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="wizard-load-") as tmp:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            if kind == "postgresql" and (why := postgres_available()):
                print(f"PostgreSQL: skipped, not reachable ({why})", flush=True)
                continue
            for result in run(
                kind,
                workers,
                args.buyers,
                args.duration,
                args.warmup,
                args.rounds,
                numbers,
                Path(tmp),
                quiet_options(args),
            ):
                results["runs"].append(result)
                print(render_run(result), flush=True)
    for kind in ("sqlite", "postgresql"):
        rate = {r["workers"]: r["purchases_per_s"] for r in results["runs"] if r["database"] == kind}
        results["speedup"][kind] = rate[2] / rate[1] if rate.get(1) and 2 in rate else None
    print("\n" + render(results) + "\n")
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
