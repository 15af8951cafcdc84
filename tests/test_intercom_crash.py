"""kill -9 in the middle of processing loses nothing and sends nothing twice.

``autopilot serve`` runs as a real subprocess (uvicorn on a free port) against a SQLite file and a local fake Intercom
(:class:`bench.fakes.intercom_server.FakeIntercom`, reached through the real ``python-intercom`` sender). The test
posts N signed notifications, SIGKILLs the server once some replies went out, restarts it, redelivers every
notification (as Intercom does when it saw no answer, or an answer it did not trust) and checks that every
acknowledged notification got exactly one decision and exactly one customer-facing effect in Intercom: one reply for
an answer, one internal note for a hand-off.

After the kill, rows the dead process had leased come back when their lease lapses (``AUTOPILOT_LEASE_S``, 5 s here).
"""

from __future__ import annotations

import collections
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.fakes.intercom_server import FakeIntercom
from evals.intercom_payloads import BOT_ADMIN_ID, SECRET, signed, user_created
from tests.plugins.processes import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
AUTOPILOT = Path(sys.executable).parent / "autopilot"
TOKEN = "crash-test-token"
N = 120  # enough that the server cannot finish between two looks (0.2 s) at the fake
QUESTIONS = [
    "My card still hasn't arrived, it's been over a week",
    "How do I activate my new card?",
    "How long does a transfer to another bank take?",
    "Why was my card payment declined at the supermarket?",
    "How do I top up with Apple Pay?",
    "Can I speak to a real person about my card?",
    "Is there a fee for withdrawing cash at an ATM?",
    "I have been served with a subpoena requesting your records on my account, who do I send it to?",
]
_SCRUB = (
    "DATABASE_URL", "CHROMA_HOST", "CHROMA_PORT", "KB_PATH", "MODEL_DIR", "AUTOPILOT_", "INTERCOM_", "SLACK_", "LLM_",
)  # fmt: skip


class Server:
    """``autopilot serve`` as a subprocess; output goes to a log file for post-mortems."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(AUTOPILOT), "serve", "--port", str(self.port)], cwd=REPO, env=self.env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited:\n{self.log.read_text()[-4000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server did not come up:\n{self.log.read_text()[-4000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@pytest.fixture
def fake() -> Iterator[FakeIntercom]:
    with FakeIntercom(token=TOKEN) as server:
        yield server


@pytest.fixture
def server(tmp_path: Path, kb_index, kb_dir: Path, fake: FakeIntercom) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    if not AUTOPILOT.is_file():
        pytest.fail(f"the autopilot console script is not installed next to {sys.executable}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
        AUTOPILOT_DATA_DIR=str(tmp_path / "data"), CHROMA_PATH=str(kb_dir / "chroma"), AUTOPILOT_WORKERS="2",
        INTERCOM_CLIENT_SECRET=SECRET, INTERCOM_ACCESS_TOKEN=TOKEN, INTERCOM_BASE_URL=fake.url,
        INTERCOM_BOT_ADMIN_ID=BOT_ADMIN_ID, INTERCOM_TEAM_T1="5017691", INTERCOM_TEAM_T2="5017692",
        INTERCOM_TIMEOUT_S="5", AUTOPILOT_LEASE_S="5",
    )  # fmt: skip
    proc = Server(env, free_port(), tmp_path / "server.log")
    yield proc
    proc.stop()


def _deliver(client: httpx.Client, payloads: list[dict[str, Any]]) -> list[str]:
    statuses = []
    for payload in payloads:
        body, headers = signed(payload)
        response = client.post("/intercom/webhooks", content=body, headers=headers)
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
    return statuses


def _effects(fake: FakeIntercom) -> dict[str, collections.Counter[str]]:
    """Per conversation: how many customer replies (``comment``) and internal notes Intercom received."""
    found: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for call in fake.calls("POST", "/reply"):
        if call.status == 200:
            found[call.path.split("/")[2]][call.body["message_type"]] += 1
    return found


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_mid_processing_then_redelivery_gives_exactly_one_outcome_each(
    server: Server, fake: FakeIntercom, tmp_path: Path
) -> None:
    payloads = [
        user_created(f"77{n:03d}", QUESTIONS[n % len(QUESTIONS)], message_id=f"m77{n:03d}", contact_id=f"cus{n}")
        for n in range(N)
    ]
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert _deliver(client, payloads) == ["accepted"] * N  # every notification acknowledged
    _wait(lambda: sum(sum(c.values()) for c in _effects(fake).values()) >= 3, 120, "the first effects")
    server.kill9()
    sent_before = sum(sum(c.values()) for c in _effects(fake).values())
    assert sent_before < N, "the server finished before it could be killed; raise N"

    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert set(_deliver(client, payloads)) == {"duplicate"}  # Intercom redelivers: all already persisted
    _wait(lambda: len(_effects(fake)) == N, 240, "an effect in every conversation")
    db = sqlite3.connect(tmp_path / "data" / "autopilot.db")
    _wait(lambda: db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0] == 0, 120, "outbox")
    time.sleep(1.0)  # anything still in flight would show up now
    server.stop()

    rows = db.execute("SELECT contact_id, action FROM decisions WHERE contact_id LIKE 'intercom:%'").fetchall()
    db.close()
    with sqlite3.connect(tmp_path / "data" / "autopilot.inbox.db") as inbox_db:  # the inbox has a file of its own
        inbox = inbox_db.execute("SELECT status, count(*) FROM inbox GROUP BY status").fetchall()
    assert dict(inbox) == {"done": N}
    actions = dict(rows)
    assert sorted(actions) == sorted(f"intercom:m77{n:03d}" for n in range(N))
    effects = _effects(fake)
    for n in range(N):
        expected = "comment" if actions[f"intercom:m77{n:03d}"] == "answer" else "note"
        assert effects[f"77{n:03d}"] == collections.Counter({expected: 1}), (n, effects[f"77{n:03d}"])
    assert {"answer", "handoff"} <= set(actions.values())
    replies = [c for c in fake.calls("POST", "/reply") if c.status == 200]
    assert all(c.body["admin_id"] == BOT_ADMIN_ID for c in replies)
