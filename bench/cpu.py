"""Who used the CPU during a measurement (Linux /proc; everything degrades to None elsewhere)."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine() -> tuple[float, float] | None:
    """(busy seconds, total seconds) of all CPUs since boot."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return (total - idle) / TICKS, total / TICKS


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()  # fields from 3 (state) on


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def named(name: str) -> list[int]:
    """Processes whose command name is `name` (e.g. postgres)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class Sampler:
    """CPU seconds of groups of processes between start() and stop(), as % of one core."""

    def __init__(self, groups: dict):
        self.groups = groups  # name -> callable returning pids
        self.cores = os.cpu_count() or 1

    def _sample(self) -> dict:
        snap = {name: {pid: process_seconds(pid) for pid in pids()} for name, pids in self.groups.items()}
        snap["_machine"] = machine()
        return snap

    def start(self) -> None:
        self._start = self._sample()

    def stop(self, seconds: float) -> dict:
        """% of one core per group (a process that started or ended meanwhile counts from 0), plus
        'machine busy' and 'other' (busy time no group accounts for); None values when /proc is missing."""
        end = self._sample()
        out = {}
        for name in self.groups:
            before, after = self._start[name], end[name]
            used = sum(after.get(pid, before.get(pid, 0.0)) - before.get(pid, 0.0) for pid in set(before) | set(after))
            out[name] = 100 * used / seconds
        if self._start["_machine"] and end["_machine"]:
            busy = end["_machine"][0] - self._start["_machine"][0]
            total = end["_machine"][1] - self._start["_machine"][1]
            out["machine busy"] = 100 * busy / seconds
            out["capacity"] = 100 * total / seconds
            out["other"] = max(0.0, out["machine busy"] - sum(out[n] for n in self.groups))
        out["cores"] = self.cores
        return out


def _say(message: str) -> None:
    print(message, flush=True)


def wait_quiet(max_wait: float, threshold: float = 30.0, log=_say) -> float | None:
    """Wait (at most max_wait seconds) until the machine is nearly idle: busy below `threshold`
    % of one core over one second. Returns the last busy % (None without /proc)."""
    deadline = time.monotonic() + max_wait
    said = False
    while True:
        before = machine()
        time.sleep(1.0)
        after = machine()
        if before is None or after is None:
            return None
        busy = 100 * (after[0] - before[0]) / max(after[1] - before[1], 1e-9) * (os.cpu_count() or 1)
        if busy < threshold or time.monotonic() >= deadline:
            if busy >= threshold:
                log(
                    f"note: the machine is still busy ({busy:.0f}% of one core used by other processes); "
                    "figures will be lower and noisier"
                )
            return busy
        if not said:
            log(f"waiting up to {max_wait:.0f} s for other processes to go quiet ({busy:.0f}% of one core busy)")
            said = True


def benchmark_groups(**extra) -> dict:
    """This process, the PostgreSQL server processes, and any extra groups (name -> pids callable)."""
    return {"benchmark": lambda: [os.getpid()], **extra, "postgres": lambda: named("postgres")}


def measure_quietly(fn, *, label: str, quiet_wait: float, max_other: float, attempts: int, groups=None, log=_say):
    """Run fn() after waiting for a quiet machine, sampling CPU meanwhile; when other processes used
    more than `max_other` % of one core during it, run it again (at most `attempts` times in all) and
    keep the attempt they disturbed least. Returns (result, cpu usage, attempts made)."""
    best = None
    for attempt in range(1, max(1, attempts) + 1):
        wait_quiet(quiet_wait, log=log)
        sampler = Sampler(groups or benchmark_groups())
        sampler.start()
        started = time.perf_counter()
        result = fn()
        usage = sampler.stop(time.perf_counter() - started)
        other = usage.get("other", 0.0)
        if best is None or other < best[1].get("other", 0.0):
            best = (result, usage, attempt)
        if other <= max_other:
            break
        if attempt < attempts:
            log(
                f"{label}: other processes used {other:.0f}% of one core meanwhile; measuring again "
                f"({attempt + 1} of {attempts})"
            )
    return best


REFERENCE_ITERATIONS = 500_000


def reference_ms(rounds: int = 5, fraction: float = 1.0) -> float:
    """Median time of a fixed pure-Python loop (500,000 rounds, about 50 ms here): how fast this
    machine runs Python right now. Figures measured at different times compare only as far as this
    number agrees. With `fraction` the loop is shorter and its time is scaled up to the full loop."""
    times = []
    n = int(REFERENCE_ITERATIONS * fraction)
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(n):
            total += i * i % 7
        times.append((time.perf_counter() - started) * 1000 / fraction)
    return sorted(times)[len(times) // 2]
