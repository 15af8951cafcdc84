"""How soon an acknowledge-only web process (``AUTOPILOT_WORKERS=0 autopilot serve``) accepts a signed Intercom
webhook after it is started, idle and under load, and how long it takes to stop on SIGTERM.

    .venv/bin/python -m bench.web_start [--runs 3] [--chroma PATH] [--migrated] [--database-url URL]

With ``--database-url`` (a PostgreSQL server the bench may create databases on) each start gets a database of its own
there, as in scale mode; otherwise the default SQLite files in a fresh data directory.

"Under load" runs two busy processes (one per core of this machine) beside it for the whole start. The first
accepted webhook (HTTP 200) is what counts: the port may open before, while nothing answers. Readiness (``/readyz``
200: model, index and adapters loaded) is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from bench.fakes.net import free_port
from evals.intercom_payloads import SECRET, signed, user_created
from store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
AUTOPILOT = Path(sys.executable).parent / "autopilot"


def _database(admin_url: str) -> str:
    """A new, empty PostgreSQL database beside ``admin_url``'s."""
    name = f"web_start_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _burn(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        sum(i * i for i in range(10_000))


def one_start(chroma: Path, data: Path, database: str | None = None) -> tuple[float, float, float, int]:
    """Seconds to the first accepted webhook, to readiness, to exit after SIGTERM; the exit code."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOPILOT_", "INTERCOM_", "DATABASE_URL"))}
    env.update(HF_HUB_OFFLINE="1", AUTOPILOT_DATA_DIR=str(data), CHROMA_PATH=str(chroma), AUTOPILOT_WORKERS="0",
               INTERCOM_CLIENT_SECRET=SECRET, AUTOPILOT_PORT=str(port))  # fmt: skip
    if database:
        env["DATABASE_URL"] = database
    body, headers = signed(user_created(f"start-{port}", "where is my card"))
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = subprocess.Popen([str(AUTOPILOT), "serve"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    accepted = ready = float("nan")
    try:
        while time.monotonic() - started < 120 and (accepted != accepted or ready != ready):
            try:
                if accepted != accepted and httpx.post(f"{url}/intercom/webhooks", content=body, headers=headers,
                                                       timeout=2).status_code == 200:  # fmt: skip
                    accepted = time.monotonic() - started
                if ready != ready and httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    ready = time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    finally:
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    return accepted, ready, time.monotonic() - stopping, code


def main() -> None:
    """Run the starts and print the figures with the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chroma", type=Path, default=REPO / "var" / "chroma", help="an ingested embedded index")
    parser.add_argument("--migrated", action="store_true", help="start on databases already migrated (a restart)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a database to create the runs' databases from")
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, '-m', 'bench.web_start', *sys.argv[1:]])}")
    for label, busy in (("idle", 0), ("under load", os.cpu_count() or 2)):
        rows = []
        for _ in range(args.runs):
            burners = [multiprocessing.Process(target=_burn, args=(time.monotonic() + 60,)) for _ in range(busy)]
            for b in burners:
                b.start()
            time.sleep(0.5 if busy else 0)
            try:
                with tempfile.TemporaryDirectory() as data:
                    database = _database(args.database_url) if args.database_url else None
                    urls = (
                        [database]
                        if database
                        else [f"sqlite:///{data}/{n}" for n in ("autopilot.db", "autopilot.inbox.db")]
                    )
                    if args.migrated:  # a restart: the databases are already at the newest schema
                        for url in urls:
                            asyncio.run(upgrade(url))
                    rows.append(one_start(args.chroma, Path(data), database))
            finally:
                for b in burners:
                    b.terminate()
        accepted = [r[0] for r in rows]
        print(f"{label}: first webhook accepted after {min(accepted):.2f}-{max(accepted):.2f} s "
              f"(median {statistics.median(accepted):.2f}); ready after {statistics.median(r[1] for r in rows):.1f} s; "
              f"SIGTERM to exit {max(r[2] for r in rows):.2f} s, exit codes {sorted({r[3] for r in rows})}; "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
