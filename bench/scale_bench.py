"""Scale mode on PostgreSQL: sustained decisions per second with 1 and 2 worker processes, and reply lag at a steady
rate, as real processes (one acknowledge-only ``autopilot serve``, ``autopilot worker`` processes) against a local
fake Intercom reached through the real ``python-intercom`` sender.

1. **Sustained decisions**: ``--count`` signed notifications offered open loop at ``--rate``/s; the rate of recorded
   decisions between 10 % and 90 % of them is the sustained figure (once with 1 worker, once with 2).
2. **Reply lag**: ``--lag-rate``/s for ``--lag-seconds``, 2 workers; for each notification, the time from posting the
   webhook to the fake Intercom receiving its reply or note.

Usage (a PostgreSQL server the bench may create databases on)::

    .venv/bin/python -m bench.scale_bench --database-url postgresql://postgres@127.0.0.1:5432/postgres

Every phase uses a fresh database. It prints the command that produced the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from bench.fakes.intercom_server import FakeIntercom
from bench.webhook_bench import AUTOPILOT, REPO, TOKEN, Served, _bodies, _env, _ingest, _open_loop, _pct


def _database(admin_url: str) -> str:
    name = f"scale_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _ticks(pid: int, *, children: bool = False) -> int:
    """CPU clock ticks ``pid`` has used (with ``children``: plus those of its children it has reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(f) for f in fields[11 : 15 if children else 13])


def _postgres(url: str) -> int:
    """The PostgreSQL server's postmaster pid (the parent of a backend), when it runs on this machine."""
    with psycopg.connect(url) as conn:  # read the backend's parent while it is alive (it exits with the connection)
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        try:
            return int(Path(f"/proc/{row[0] if row else 0}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return 0


def _service_cpu(pids: list[int], postmaster: int) -> float:
    """CPU seconds used so far by the service's processes and the PostgreSQL server (backends included)."""
    return sum(_cpu_split(pids[:1], pids[1:], postmaster).values())


def _cpu_split(web: list[int], workers: list[int], postmaster: int) -> dict[str, float]:
    """CPU seconds used so far by the web process(es), the worker processes and the PostgreSQL server (its live
    backends and those it has reaped)."""
    ticks = {"web": sum(_ticks(pid) for pid in web), "workers": sum(_ticks(pid) for pid in workers), "postgres": 0}
    if postmaster:
        ticks["postgres"] += _ticks(postmaster, children=True)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    ticks["postgres"] += _ticks(int(stat.parent.name))
    return {part: n / os.sysconf("SC_CLK_TCK") for part, n in ticks.items()}


def _own_cpu() -> float:
    """CPU seconds of this process so far: the fake Intercom, the load generator and the bench's polling."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _count(conn: psycopg.Connection[TupleRow], sql: str) -> int:
    """One count over the bench's own connection (a connection per poll would add backend start-ups to the
    PostgreSQL CPU measured)."""
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


_SETTLED = (
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM inbox WHERE status = 'pending') "
    "OR EXISTS (SELECT 1 FROM outbox WHERE status = 'pending') THEN 0 ELSE (SELECT count(*) FROM decisions) END"
)  # the decisions recorded once every notification was processed and every action performed, else 0


def _workers(env: dict[str, str], n: int, root: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        with (root / f"worker{i}.log").open("ab") as out:
            procs.append(subprocess.Popen([str(AUTOPILOT), "worker"], cwd=REPO, env=env, stdout=out,
                                          stderr=subprocess.STDOUT))  # fmt: skip
    deadline = time.monotonic() + 300
    while not all("worker running" in (root / f"worker{i}.log").read_text() for i in range(n)):
        if time.monotonic() > deadline:
            raise SystemExit(f"workers did not start; see {root}")
        time.sleep(0.2)
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)


def _env_for(root: Path, fake: FakeIntercom, url: str, workers: int) -> dict[str, str]:
    env = _env(root, fake, workers)
    env.update(DATABASE_URL=url, CHROMA_PATH=str(root.parent / "chroma"))
    return env


async def sustained(args: argparse.Namespace, root: Path, fake: FakeIntercom, workers: int) -> float:
    """Decisions per second between 10 % and 90 % of ``--count``; and the CPU per contact from the first notification
    until every decision's actions have been sent."""
    url = _database(args.database_url)
    home = Path(tempfile.mkdtemp(prefix=f"sustained{workers}-", dir=root))
    web = Served(_env_for(home, fake, url, 0), home / "web.log")
    procs = _workers(_env_for(home, fake, url, args.loops), workers, home)
    conn: psycopg.Connection[TupleRow] = psycopg.connect(url, autocommit=True)
    try:
        postmaster, pids = _postgres(url), [web.proc.pid, *(p.pid for p in procs)]
        split = functools.partial(_cpu_split, pids[:1], pids[1:], postmaster)
        first, started, own = split(), time.monotonic(), _own_cpu()
        loop_task = asyncio.create_task(_open_loop(web.url, _bodies(f"s{workers}-", args.count), args.rate, 16))
        marks: dict[int, float] = {}
        cpu: dict[int, float] = {}
        deadline = time.monotonic() + 900
        while len(marks) < 2 and time.monotonic() < deadline:
            done = await asyncio.to_thread(_count, conn, "SELECT count(*) FROM decisions")
            for pct in (10, 90):
                if pct not in marks and done >= args.count * pct // 100:
                    marks[pct] = time.monotonic()
                    cpu[pct] = _service_cpu(pids, postmaster)
            await asyncio.sleep(0.1)
        while time.monotonic() < deadline:
            if await asyncio.to_thread(_count, conn, _SETTLED) >= args.count:
                break
            await asyncio.sleep(0.05)
        last, finished, own = split(), time.monotonic(), _own_cpu() - own
        await loop_task
    finally:
        conn.close()
        _stop(procs)
        web.stop()
    rate: float = args.count * 0.8 / (marks[90] - marks[10])
    per = (cpu[90] - cpu[10]) / (args.count * 0.8)  # CPU seconds per decision, replies sent meanwhile included
    print(f"sustained decisions, {workers} worker process(es) x {args.loops} loops: {rate:.0f}/s "
          f"({args.count} notifications offered at {args.rate:g}/s); service CPU (web, workers, PostgreSQL) "
          f"{per * 1000:.1f} ms per decision between the 10 % and 90 % marks, i.e. {2 / per:.0f}/s on 2 otherwise "
          "idle cores")  # fmt: skip
    used = {part: (last[part] - first[part]) / args.count for part in first}
    total, took = sum(used.values()), finished - started
    print(f"  first notification to every action sent: {took:.1f} s ({args.count / took:.0f}/s end to end); "
          f"CPU per contact {total * 1000:.1f} ms (web {used['web'] * 1000:.1f}, workers {used['workers'] * 1000:.1f}, "
          f"PostgreSQL {used['postgres'] * 1000:.1f}), i.e. {2 / total:.0f}/s on 2 otherwise idle cores; not counted: "
          f"the fake Intercom and load generator, {own / args.count * 1000:.1f} ms")  # fmt: skip
    return rate


async def lag(args: argparse.Namespace, root: Path, fake: FakeIntercom) -> None:
    """Webhook posted -> reply or note at the fake Intercom, at a steady rate; and the service's CPU per contact from
    the first notification until the last reply."""
    url = _database(args.database_url)
    home = root / "lag"
    home.mkdir()
    web = Served(_env_for(home, fake, url, 0), home / "web.log")
    procs = _workers(_env_for(home, fake, url, args.loops), 2, home)
    try:
        split = functools.partial(_cpu_split, [web.proc.pid], [p.pid for p in procs], _postgres(url))
        bodies = _bodies("lag-", int(args.lag_rate * args.lag_seconds))
        before, own = split(), _own_cpu()
        result = await _open_loop(web.url, bodies, args.lag_rate, 16)
        wanted = {cid for cid, _, _ in bodies}
        first: dict[str, float] = {}
        deadline = time.monotonic() + 600
        while len(first) < len(wanted) and time.monotonic() < deadline:
            for call in fake.calls("POST", "/reply"):
                cid = call.path.split("/")[2]
                if cid in wanted and call.status == 200:
                    first[cid] = min(first.get(cid, call.at), call.at)
            await asyncio.sleep(0.5)
        after, own = split(), _own_cpu() - own
    finally:
        _stop(procs)
        web.stop()
    times = sorted(first[c] - result["started_at"][c] for c in first)
    used = {part: (after[part] - before[part]) / len(wanted) * 1000 for part in before}
    print(f"reply lag at {args.lag_rate:g}/s for {args.lag_seconds:g} s, 2 workers: {len(times)}/{len(wanted)} "
          f"replied; p50 {_pct(times, 50):.2f} s, p99 {_pct(times, 99):.2f} s, max {times[-1]:.2f} s; CPU per contact "
          f"until the last reply {sum(used.values()):.1f} ms (web {used['web']:.1f}, workers {used['workers']:.1f}, "
          f"PostgreSQL {used['postgres']:.1f}; not counted: the fake Intercom and load generator "
          f"{own / len(wanted) * 1000:.1f})")  # fmt: skip


async def main() -> None:
    """Run the phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL of a database to create others from")
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--loops", type=int, default=2, help="AUTOPILOT_WORKERS of each worker process")
    parser.add_argument("--lag-rate", type=float, default=100.0)
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="sustained runs per worker count (this machine's speed "
                        "varies by 15 % from minute to minute); the median is printed")  # fmt: skip
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="worker processes of each sustained run")
    args = parser.parse_args()
    command = shlex.join([sys.executable.removeprefix(f"{REPO}/"), "-m", "bench.scale_bench", *sys.argv[1:]])
    print(f"command: {command}\nhost: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp, FakeIntercom(token=TOKEN) as fake:
        root = Path(tmp)
        _ingest(root, {**_env(root / "ingest", fake, 1), "CHROMA_PATH": str(root / "chroma")})
        for workers in args.workers:
            rates = [await sustained(args, root, fake, workers) for _ in range(args.repeat)]
            if len(rates) > 1:
                print(f"sustained decisions, {workers} worker process(es), {len(rates)} runs: median "
                      f"{statistics.median(rates):.0f}/s (runs: {', '.join(f'{r:.0f}' for r in rates)})")  # fmt: skip
        if not args.skip_lag:
            await lag(args, root, fake)
    print(f"load average {os.getloadavg()[0]:.1f} at the end\ncommand: {command}")


if __name__ == "__main__":
    asyncio.run(main())
