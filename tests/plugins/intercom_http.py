"""Fixtures for the outbox against a real HTTP Intercom fake: the fake server, an SQL outbox on SQLite and
PostgreSQL (``store_url``), and the sender that talks to the fake through the official SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bench.fakes.intercom_server import FakeIntercom
from bot.intercom.sender import IntercomSender
from bot.settings import Settings
from store import SqlEventStore
from store.queues import SqlOutbox

ADMIN = "991267001"


def intercom_settings(fake: FakeIntercom, timeout_s: float = 2.0) -> Settings:
    """Settings that point the sender at ``fake`` (a 2 s client timeout: on a loaded CI machine the fake's 500 took
    over half a second, and a timeout in its place made a test about 500s flaky)."""
    return Settings(
        INTERCOM_BASE_URL=fake.url, INTERCOM_ACCESS_TOKEN=fake.token, INTERCOM_BOT_ADMIN_ID=ADMIN,
        INTERCOM_TEAM_T1="9001", INTERCOM_TEAM_FRAUD="9004", INTERCOM_TIMEOUT_S=timeout_s,
    )  # type: ignore[call-arg]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeIntercom]:
    """A running Intercom fake."""
    with FakeIntercom() as server:
        yield server


@pytest.fixture
async def outbox(store_url: str) -> AsyncIterator[SqlOutbox]:
    """An SQL outbox on a fresh store."""
    store = await SqlEventStore.open(store_url)
    yield SqlOutbox(store.engine)
    await store.close()


@pytest.fixture
async def sender(fake: FakeIntercom) -> AsyncIterator[IntercomSender]:
    """The real sender, pointed at ``fake``."""
    sender = IntercomSender.from_settings(intercom_settings(fake))
    yield sender
    await sender.aclose()
