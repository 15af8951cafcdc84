"""The scale-mode recipe of the README, as real processes: PostgreSQL, ``chroma run``, two acknowledge-only web
processes, worker processes and one scheduler, with Intercom faked at the HTTP level.

Signed notifications go to both web processes, a fifth of them redelivered to the other one. One worker is killed
with SIGKILL and another stopped with SIGTERM while work is in flight (replacements are started each time). Every
notification must end with exactly one decision and one customer-facing effect, with nothing left pending; the
SIGTERMed worker must exit 0 within 5 s, and every process must stop cleanly on SIGTERM.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bench.fakes.intercom_server import FakeIntercom
from evals.intercom_payloads import BOT_ADMIN_ID, SECRET, signed, user_created
from tests.plugins.postgres import PostgresServer, fresh_database
from tests.plugins.processes import free_port
from tests.test_intercom_crash import _effects

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.chroma_server]

REPO = Path(__file__).resolve().parents[1]
AUTOPILOT = Path(sys.executable).parent / "autopilot"
TOKEN = "topology-token"
N = 240
QUESTIONS = [
    "My card still hasn't arrived, it's been over a week",
    "How do I activate my new card?",
    "Why was my card payment declined at the supermarket?",
    "Can I speak to a real person about my card?",
    "Is there a fee for withdrawing cash at an ATM?",
    "I have been served with a subpoena requesting your records on my account, who do I send it to?",
]
_SCRUB = (
    "DATABASE_URL", "CHROMA_HOST", "CHROMA_PORT", "CHROMA_PATH", "KB_PATH", "MODEL_DIR", "AUTOPILOT_", "INTERCOM_",
    "SLACK_", "LLM_",
)  # fmt: skip


class Proc:
    """One ``autopilot`` subcommand as a subprocess, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen([str(AUTOPILOT), *args], cwd=REPO, env=env, stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self) -> str:
        return f"--- {self.name}\n{self.log.read_text(errors='replace')[-3000:]}"

    def signal(self, sig: int, timeout: float = 30.0) -> tuple[int, float]:
        """Send ``sig``; return the exit code and the seconds it took to exit."""
        started = time.monotonic()
        if self.alive():
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=30)
        return code, time.monotonic() - started


def _wait(predicate: Any, timeout: float, what: str, procs: list[Proc]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(p.tail() for p in procs))


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture
def chroma_with_kb(chroma_server: tuple[str, int], tmp_path: Path) -> tuple[str, int]:
    host, port = chroma_server
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(HF_HUB_OFFLINE="1", CHROMA_HOST=host, CHROMA_PORT=str(port), AUTOPILOT_DATA_DIR=str(tmp_path / "kb"))
    subprocess.run([str(AUTOPILOT), "ingest"], cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    return host, port


def test_the_scale_topology_loses_nothing_and_duplicates_nothing(
    database: str, chroma_with_kb: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_with_kb
    with FakeIntercom(token=TOKEN) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
        env.update(
            HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", DATABASE_URL=database,
            CHROMA_HOST=host, CHROMA_PORT=str(port), AUTOPILOT_DATA_DIR=str(tmp_path / "data"),
            INTERCOM_CLIENT_SECRET=SECRET, INTERCOM_ACCESS_TOKEN=TOKEN, INTERCOM_BASE_URL=fake.url,
            INTERCOM_BOT_ADMIN_ID=BOT_ADMIN_ID, INTERCOM_TEAM_T1="5017691", INTERCOM_TIMEOUT_S="5",
            AUTOPILOT_LEASE_S="5",
        )  # fmt: skip
        web_env = {**env, "AUTOPILOT_WORKERS": "0"}
        work_env = {**env, "AUTOPILOT_WORKERS": "2"}
        ports = [free_port(), free_port()]
        procs: list[Proc] = []

        def start(name: str, args: list[str], environment: dict[str, str]) -> Proc:
            proc = Proc(name, args, environment, tmp_path / f"{name}.log")
            procs.append(proc)
            return proc

        webs = [start(f"web{i}", ["serve", "--port", str(p)], web_env) for i, p in enumerate(ports)]
        workers = [start(f"worker{i}", ["worker"], work_env) for i in range(2)]
        scheduler = start("scheduler", ["scheduler"], env)
        try:
            clients = [httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=10) for p in ports]

            def accepting() -> bool:
                try:
                    return all(c.get("/healthz").status_code == 200 for c in clients)
                except httpx.TransportError:
                    return False

            _wait(accepting, 120, "both web processes", procs)
            _wait(lambda: all("worker running" in w.log.read_text() for w in workers), 180, "the workers", procs)
            payloads = [
                user_created(f"88{n:03d}", QUESTIONS[n % len(QUESTIONS)], message_id=f"m88{n:03d}",
                             contact_id=f"cus{n}")
                for n in range(N)
            ]  # fmt: skip
            stopped: tuple[int, float] | None = None
            for n, payload in enumerate(payloads):
                body, headers = signed(payload)
                first = clients[n % 2].post("/intercom/webhooks", content=body, headers=headers)
                assert first.status_code == 200, first.text
                if n % 5 == 0:  # Intercom redelivers some to the other web process
                    again = clients[(n + 1) % 2].post("/intercom/webhooks", content=body, headers=headers)
                    assert again.status_code == 200 and again.json()["status"] == "duplicate"
                if n == N // 3:
                    workers[0].signal(signal.SIGKILL)
                    workers.append(start("worker2", ["worker"], work_env))
                if n == 2 * N // 3:
                    stopped = workers[1].signal(signal.SIGTERM)
                    workers.append(start("worker3", ["worker"], work_env))
            _wait(lambda: len(_effects(fake)) == N, 300, "an effect in every conversation", procs)
            with psycopg.connect(database.replace("+psycopg", "")) as db:
                _wait(lambda: db.execute(
                    "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0] == 0,  # type: ignore[index]
                    120, "the outbox to drain", procs)  # fmt: skip
                time.sleep(1.0)  # anything still in flight would show up now
                actions = dict(db.execute("SELECT contact_id, action FROM decisions").fetchall())
                inbox = dict(db.execute("SELECT status, count(*) FROM inbox GROUP BY status").fetchall())
        finally:
            for client in locals().get("clients", []):
                client.close()
            exits = {p.name: p.signal(signal.SIGTERM) for p in procs if p.alive()}
        assert stopped is not None and stopped[0] == 0 and stopped[1] < 5.0, (stopped, procs[3].tail())
        assert inbox == {"done": N}
        assert sorted(actions) == sorted(f"intercom:m88{n:03d}" for n in range(N))
        effects = _effects(fake)
        for n in range(N):
            expected = "comment" if actions[f"intercom:m88{n:03d}"] == "answer" else "note"
            assert effects[f"88{n:03d}"] == collections.Counter({expected: 1}), (n, effects[f"88{n:03d}"])
        assert {"answer", "handoff"} <= set(actions.values())
        slow = {name: e for name, e in exits.items() if e[0] != 0 or e[1] > 5.0}
        assert not slow, (slow, "\n".join(p.tail() for p in procs))
        assert scheduler.name not in slow
