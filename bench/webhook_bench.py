"""Intercom webhook benchmark: acknowledgement rate and latency, and webhook-to-reply time, on loopback.

It runs the real ``autopilot serve`` (uvicorn, embedded workers, SQLite) as a subprocess against a local fake Intercom
(``bench.fakes.intercom_server``, reached through the real ``python-intercom`` sender), and a load generator in this
process:

1. **Acknowledgement**: ``--count`` signed ``conversation.user.created`` notifications (distinct conversations, real
   banking questions), sent open-loop at ``--rate`` per second over ``--connections`` keep-alive connections, while
   the server's workers process the backlog. Reports accepted/s, p50/p90/p99/max acknowledgement latency (client
   side, from the moment each request was started) and how many inbox items the workers finished meanwhile.
2. **End to end**: on a fresh database, ``--e2e`` notifications at ``--e2e-rate`` per second; for each, the time from
   posting the webhook to the fake Intercom receiving the reply (or the hand-off note).

Usage::

    .venv/bin/python bench/webhook_bench.py [--rate 500] [--count 5000] [--e2e 40] [--e2e-rate 4]

It prints the command that produced the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.fakes.intercom_server import FakeIntercom  # noqa: E402
from bench.fakes.net import free_port  # noqa: E402
from evals.intercom_payloads import BOT_ADMIN_ID, SECRET, admin_closed, signed, user_created  # noqa: E402

AUTOPILOT = Path(sys.executable).parent / "autopilot"
TOKEN = "bench-token"
QUESTIONS = [
    "My card still hasn't arrived, it's been over a week",
    "How do I activate my new card?",
    "How long does a transfer to another bank take?",
    "Why was my card payment declined at the supermarket?",
    "How do I top up with Apple Pay?",
    "Is there a fee for withdrawing cash at an ATM?",
    "I was charged twice for the same coffee",
    "Can I speak to a real person about my card?",
]
_SCRUB = ("DATABASE_URL", "CHROMA_", "KB_PATH", "MODEL_DIR", "AUTOPILOT_", "INTERCOM_", "SLACK_", "LLM_", "OPENAI_")


def _env(home: Path, fake: FakeIntercom, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
        AUTOPILOT_DATA_DIR=str(home / "data"), CHROMA_PATH=str(home.parent / "chroma"), AUTOPILOT_WORKERS=str(workers),
        INTERCOM_CLIENT_SECRET=SECRET, INTERCOM_ACCESS_TOKEN=TOKEN, INTERCOM_BASE_URL=fake.url,
        INTERCOM_BOT_ADMIN_ID=BOT_ADMIN_ID, INTERCOM_TEAM_T1="5017691", INTERCOM_TEAM_T2="5017692",
    )  # fmt: skip
    return env


class Served:
    """``autopilot serve`` in a subprocess."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(AUTOPILOT), "serve", "--port", str(self.port)], cwd=REPO, env=env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited; see {log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server did not start; see {log}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _bodies(prefix: str, count: int, topic: str = "user") -> list[tuple[str, bytes, dict[str, str]]]:
    out = []
    for n in range(count):
        cid = f"{prefix}{n}"
        if topic == "closed":  # persisted like any other, but cheap to process: isolates the acknowledgement path
            payload = admin_closed(cid)
        else:
            payload = user_created(cid, QUESTIONS[n % len(QUESTIONS)], message_id=f"m{cid}", contact_id=f"cus-{cid}")
        body, headers = signed(payload)
        out.append((cid, body, headers))
    return out


async def _exchange(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status code (a minimal client: the load
    generator shares the 2 cores with the server, and httpx's per-request cost would dominate the measurement)."""
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _open_loop(
    url: str, bodies: list[tuple[str, bytes, dict[str, str]]], rate: float, connections: int
) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, int(port)))
    latencies: list[float] = []
    started_at: dict[str, float] = {}
    errors: list[str] = []
    late = 0.0

    async def one(cid: str, body: bytes, headers: dict[str, str]) -> None:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST /intercom/webhooks HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body
        start = time.monotonic()  # latency counts from the scheduled start, waiting for a connection included
        started_at[cid] = start
        conn = await pool.get()
        try:
            status = await _exchange(conn, request)
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            errors.append(type(exc).__name__)
            conn = await asyncio.open_connection(host, int(port))
            return
        finally:
            pool.put_nowait(conn)
        if status != 200:
            errors.append(str(status))
            return
        latencies.append(time.monotonic() - start)

    t0 = time.monotonic()
    tasks = []
    for i, (cid, body, headers) in enumerate(bodies):
        due = t0 + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        tasks.append(asyncio.create_task(one(cid, body, headers)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    while not pool.empty():
        pool.get_nowait()[1].close()
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed, "late": late, "started_at": started_at}


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else values[0]


def _inbox_done(home: Path) -> int:
    with sqlite3.connect(home / "data" / "autopilot.inbox.db") as db:
        return int(db.execute("SELECT count(*) FROM inbox WHERE status = 'done'").fetchone()[0])


def _ingest(root: Path, env: dict[str, str]) -> None:
    proc = subprocess.run([str(AUTOPILOT), "ingest"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"autopilot ingest failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


async def _ack_phase(args: argparse.Namespace, root: Path, fake: FakeIntercom) -> None:
    home = root / "ack"
    server = Served(_env(home, fake, args.workers), root / "ack.log")
    try:
        warm = _bodies("warm", 20)
        await _open_loop(server.url, warm, 50, 4)
        bodies = _bodies("ack", args.count, args.topic)
        result = await _open_loop(server.url, bodies, args.rate, args.connections)
        done = _inbox_done(home) - len(warm)
    finally:
        server.stop()
    lat = sorted(result["latencies"])
    ms = [v * 1000 for v in lat]
    topic = "conversation.admin.closed" if args.topic == "closed" else "conversation.user.created"
    print(
        f"\n== acknowledgement: {args.count} signed {topic} webhooks, open loop at {args.rate:g}/s, "
        f"{args.connections} connections, {args.workers} workers =="
    )
    print(
        f"accepted        {len(lat)} of {args.count}  ({len(lat) / result['elapsed']:.0f}/s over "
        f"{result['elapsed']:.1f} s); errors: {len(result['errors'])} {sorted(set(result['errors']))}"
    )
    if ms:
        late = result["late"] * 1000
        print(
            f"ack latency ms  p50 {_pct(ms, 50):.1f}  p90 {_pct(ms, 90):.1f}  p99 {_pct(ms, 99):.1f}  "
            f"max {ms[-1]:.1f}  (generator fell behind schedule by at most {late:.0f} ms)"
        )
    print(
        f"processed       {done} contacts by the workers during the run "
        f"({done / result['elapsed']:.1f}/s while also acknowledging)"
    )


async def _e2e_phase(args: argparse.Namespace, root: Path, fake: FakeIntercom) -> None:
    home = root / "e2e"
    server = Served(_env(home, fake, args.workers), root / "e2e.log")
    try:
        await _open_loop(server.url, _bodies("warmup", 8), 4, 2)
        deadline = time.monotonic() + 120
        while _inbox_done(home) < 8 and time.monotonic() < deadline:  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.2)
        bodies = _bodies("e2e", args.e2e)
        result = await _open_loop(server.url, bodies, args.e2e_rate, 8)
        wanted = {cid for cid, _, _ in bodies}
        first: dict[str, float] = {}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for call in fake.calls("POST", "/reply"):
                cid = call.path.split("/")[2]
                if cid in wanted and call.status == 200:
                    first[cid] = min(first.get(cid, call.at), call.at)
            if len(first) == len(wanted):
                break
            await asyncio.sleep(0.2)
    finally:
        server.stop()
    times = sorted((first[cid] - result["started_at"][cid]) * 1000 for cid in first)
    print(
        f"\n== end to end: {args.e2e} webhooks at {args.e2e_rate:g}/s, webhook posted -> reply/note at fake Intercom =="
    )
    print(f"completed       {len(times)} of {args.e2e}")
    if times:
        print(f"webhook->reply  p50 {_pct(times, 50):.0f} ms  p90 {_pct(times, 90):.0f} ms  max {times[-1]:.0f} ms")


async def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="webhooks per second offered (open loop)")
    parser.add_argument("--count", type=int, default=5000, help="webhooks in the acknowledgement phase")
    parser.add_argument("--connections", type=int, default=32, help="client keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="AUTOPILOT_WORKERS of the server")
    parser.add_argument("--e2e", type=int, default=40, help="webhooks in the end-to-end phase")
    parser.add_argument("--e2e-rate", type=float, default=4.0, help="webhooks per second in the end-to-end phase")
    parser.add_argument(
        "--topic",
        choices=("user", "closed"),
        default="user",
        help="acknowledgement phase: customer messages (the pipeline runs behind) or closes (cheap to process)",
    )
    parser.add_argument("--skip-ack", action="store_true", help="only the end-to-end phase")
    parser.add_argument("--skip-e2e", action="store_true", help="only the acknowledgement phase")
    args = parser.parse_args()
    exe = sys.executable.removeprefix(f"{REPO}/")
    command = shlex.join([exe, *sys.argv])
    print(f"command: {command}")
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp, FakeIntercom(token=TOKEN) as fake:
        root = Path(tmp)
        _ingest(root, {**_env(root / "ingest", fake, 1), "CHROMA_PATH": str(root / "chroma")})
        if not args.skip_ack:
            await _ack_phase(args, root, fake)
        if not args.skip_e2e:
            await _e2e_phase(args, root, fake)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    print(f"command: {command}")


if __name__ == "__main__":
    asyncio.run(main())
