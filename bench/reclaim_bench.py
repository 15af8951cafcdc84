"""Graceful shutdown on PostgreSQL: how soon the rows a worker holds are processed by another after ``SIGTERM``.

Two ``autopilot worker`` processes and one acknowledge-only ``autopilot serve`` run against a fresh database and a
local fake Intercom. Worker B is paused (``SIGSTOP``) while idle, so that every lease taken during the burst is worker
A's. The fake Intercom answers after ``--latency`` seconds, so that A's outbox holds actions it has not started.
``--count`` signed notifications are offered at ``--rate``/s; once A holds inbox leases, the bench resumes B
(``SIGCONT``) and sends A ``SIGTERM`` in the same instant, then polls every 20 ms:

- A's exit status and its time from ``SIGTERM`` to exit (the promise: exit 0 within 5 s);
- for the inbox rows A held at that instant (its lease still running), the time until each was decided, by B or by
  A before it exited: a row left to its lease would take ``AUTOPILOT_LEASE_S`` (60 s) or more;
- the same for the outbox actions A held.

Usage (a PostgreSQL server the bench may create databases on)::

    .venv/bin/python -m bench.reclaim_bench --database-url postgresql://postgres@127.0.0.1:5432/postgres

It prints the command that produced the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from bench.fakes.intercom_server import FakeIntercom
from bench.scale_bench import _database, _env_for, _stop, _workers
from bench.webhook_bench import REPO, TOKEN, Served, _bodies, _env, _ingest, _open_loop, _pct

_KEY = {"inbox": "id", "outbox": "key"}


def _held(conn: psycopg.Connection[TupleRow], table: str) -> dict[str, object]:
    """Leased rows and their lease ends: a claim moves ``available_at`` one lease ahead (timestamps are naive UTC)."""
    now = "(now() AT TIME ZONE 'utc')"
    sql = f"SELECT {_KEY[table]}, available_at FROM {table} WHERE status = 'pending' AND available_at > {now}"
    return {str(key): at for key, at in conn.execute(sql).fetchall()}


def _taken(conn: psycopg.Connection[TupleRow], table: str, held: dict[str, object]) -> tuple[set[str], set[str]]:
    """Of ``held``, those claimed again (a later lease) or processed; and those processed."""
    sql = f"SELECT {_KEY[table]}, status, available_at FROM {table} WHERE {_KEY[table]} = ANY(%s)"
    rows = conn.execute(sql, (list(held),)).fetchall()
    done = {str(key) for key, status, _ in rows if status == "done"}
    return done | {str(key) for key, _, at in rows if at > held[str(key)]}, done  # type: ignore[operator]


async def reclaim(args: argparse.Namespace, root: Path, fake: FakeIntercom, run: int) -> None:
    """Stop worker A with SIGTERM while it holds leases; time its exit and the processing of what it held."""
    url = _database(args.database_url)
    home = root / f"reclaim{run}"
    home.mkdir()
    env = _env_for(home, fake, url, args.loops)
    env["AUTOPILOT_LEASE_S"] = str(args.lease)
    web = Served(_env_for(home, fake, url, 0), home / "web.log")
    a, b = _workers(env, 2, home)
    conn: psycopg.Connection[TupleRow] = psycopg.connect(url, autocommit=True)
    try:
        b.send_signal(signal.SIGSTOP)
        fake.latency_s = args.latency
        load = asyncio.create_task(_open_loop(web.url, _bodies("rc-", args.count), args.rate, 16))
        held: dict[str, dict[str, object]] = {"inbox": {}, "outbox": {}}
        deadline = time.monotonic() + 120
        enough = {"inbox": args.min_held, "outbox": args.min_held}
        while any(len(held[t]) < n for t, n in enough.items()) and time.monotonic() < deadline:
            held = {table: await asyncio.to_thread(_held, conn, table) for table in _KEY}
            await asyncio.sleep(0.01)
        if any(len(held[t]) < n for t, n in enough.items()):
            raise SystemExit(f"worker A never held {args.min_held} inbox and outbox leases at once; see {home}")
        b.send_signal(signal.SIGCONT)
        a.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()
        exited: float | None = None
        finished: dict[str, dict[str, float]] = {"inbox": {}, "outbox": {}}
        again: dict[str, dict[str, float]] = {"inbox": {}, "outbox": {}}
        while time.monotonic() - sent_at < args.lease + 30:
            now = time.monotonic() - sent_at
            if exited is None and a.poll() is not None:
                exited = now
            for table in _KEY:
                taken, done = await asyncio.to_thread(_taken, conn, table, held[table])
                for key in taken:
                    again[table].setdefault(key, now)
                for key in done:
                    finished[table].setdefault(key, now)
            if exited is not None and all(len(finished[t]) == len(held[t]) for t in held):
                break
            await asyncio.sleep(0.02)
        await load
    finally:
        fake.latency_s = 0.0
        conn.close()
        for proc in (a, b):
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
        _stop([p for p in (a, b) if p.poll() is None])
        web.stop()
    log = (home / "worker0.log").read_text()
    released = [line for line in log.splitlines() if "released" in line]
    print(f"worker A: SIGTERM -> exit {'never' if exited is None else f'{exited:.2f} s'}, status {a.returncode}; "
          f"it logged: {released[-1].split(' ', 3)[-1] if released else 'no release'}")  # fmt: skip
    for table, keys in held.items():
        times, claimed = sorted(finished[table].values()), sorted(again[table].values())
        if not keys or not times or not claimed:
            print(f"  {table}: A held {len(keys)} leases at SIGTERM; {len(times)} processed")
            continue
        stuck = len(keys) - len(times)
        print(f"  {table}: A held {len(keys)} leased rows at SIGTERM; claimed again or processed: last "
              f"{claimed[-1]:.2f} s after SIGTERM (p50 {_pct(claimed, 50):.2f} s); processed: {len(times)}, last "
              f"{times[-1]:.2f} s (p50 {_pct(times, 50):.2f} s){f'; {stuck} NOT processed' if stuck else ''}; "
              f"lease {args.lease:g} s")  # fmt: skip


async def main() -> None:
    """Run the phase and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL of a database to create others from")
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--loops", type=int, default=2, help="AUTOPILOT_WORKERS of each worker process")
    parser.add_argument("--lease", type=float, default=60.0, help="AUTOPILOT_LEASE_S of the workers")
    parser.add_argument("--min-held", type=int, default=16, help="inbox and outbox leases A must hold before SIGTERM")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.25,
        help="seconds the fake Intercom takes per request, so that A also holds outbox actions it has not started",
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    command = shlex.join([sys.executable.removeprefix(f"{REPO}/"), "-m", "bench.reclaim_bench", *sys.argv[1:]])
    print(f"command: {command}\nhost: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="reclaim-bench-") as tmp, FakeIntercom(token=TOKEN) as fake:
        root = Path(tmp)
        _ingest(root, {**_env(root / "ingest", fake, 1), "CHROMA_PATH": str(root / "chroma")})
        for run in range(args.repeat):
            await reclaim(args, root, fake, run)
    print(f"load average {os.getloadavg()[0]:.1f} at the end\ncommand: {command}")


if __name__ == "__main__":
    asyncio.run(main())
