"""The AuditTrail port: one contract for the in-memory fake and the SQL trail (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from automations.audit import AuditEvent, AuditTrail, MemoryAuditTrail
from store import SqlAuditTrail, SqlEventStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sql"])
async def trail(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[AuditTrail]:
    """The port in memory, or in the ``audit_events`` table of a migrated database (both backends)."""
    if request.param == "memory":
        yield MemoryAuditTrail()
        return
    store = await SqlEventStore.open(store_url)
    try:
        yield SqlAuditTrail(store.engine)
    finally:
        await store.close()


def event(kind: str, subject: str, minutes: int, detail: str = "") -> AuditEvent:
    return AuditEvent(kind, subject, T0 + timedelta(minutes=minutes), actor="tester", detail=detail)


async def test_events_come_back_oldest_first_with_every_field(trail: AuditTrail) -> None:
    later, earlier = event("clock.met", "clk-1", 5, "met 2 days early"), event("clock.started", "clk-1", 0)
    await trail.append(later)
    await trail.append(earlier)
    assert await trail.events() == [earlier, later]


async def test_events_at_the_same_instant_keep_the_order_they_were_appended_in(trail: AuditTrail) -> None:
    first, second, third = (event(k, "clk-1", 1) for k in ("clock.started", "clock.stopped", "clock.breached"))
    for e in (first, second, third):
        await trail.append(e)
    assert [e.kind for e in await trail.events()] == ["clock.started", "clock.stopped", "clock.breached"]


async def test_a_batch_is_appended_in_its_order_after_what_came_before(trail: AuditTrail) -> None:
    await trail.append(event("clock.started", "clk-0", 1))
    batch = [event(k, f"clk-{n}", 1) for n, k in enumerate(("clock.started", "clock.stopped", "clock.breached"), 1)]
    batch.append(event("clock.met", "clk-4", 0))
    await trail.append_many(batch)
    await trail.append_many([])
    assert [e.subject for e in await trail.events()] == ["clk-4", "clk-0", "clk-1", "clk-2", "clk-3"]
    assert await trail.events(subject="clk-2") == [batch[1]]


async def test_nothing_is_overwritten_an_identical_event_is_appended_again(trail: AuditTrail) -> None:
    again = event("privacy.exported", "cust-1", 0)
    await trail.append(again)
    await trail.append(again)
    assert await trail.events(subject="cust-1") == [again, again]


async def test_filters_by_subject_kind_prefix_and_time(trail: AuditTrail) -> None:
    rows = [
        event("clock.started", "clk-1", 0),
        event("clock.breached", "clk-1", 30),
        event("privacy.exported", "cust-1", 10),
        event("privacy.erased", "anon:1", 20),
        event("retention.held", "c-9", 40),
    ]
    for e in rows:
        await trail.append(e)
    assert [e.kind for e in await trail.events(subject="clk-1")] == ["clock.started", "clock.breached"]
    assert [e.subject for e in await trail.events(kind_prefix="privacy.")] == ["cust-1", "anon:1"]
    assert [e.kind for e in await trail.events(since=T0 + timedelta(minutes=20))] == [
        "privacy.erased", "clock.breached", "retention.held",
    ]  # fmt: skip
    assert await trail.events(subject="clk-1", kind_prefix="clock.b", since=T0 + timedelta(minutes=1)) == [rows[1]]
    assert await trail.events(subject="nobody") == []


async def test_a_kind_prefix_is_literal_not_a_pattern(trail: AuditTrail) -> None:
    await trail.append(event("clockXstarted", "clk-1", 0))
    await trail.append(event("clock_started", "clk-1", 1))
    await trail.append(event("50%.done", "clk-1", 2))
    assert [e.kind for e in await trail.events(kind_prefix="clock_")] == ["clock_started"]
    assert [e.kind for e in await trail.events(kind_prefix="50%")] == ["50%.done"]


async def test_times_in_any_offset_compare_as_instants(trail: AuditTrail) -> None:
    johannesburg = timezone(timedelta(hours=2))
    local = AuditEvent("clock.started", "clk-2", datetime(2026, 12, 7, 12, 0, tzinfo=johannesburg))  # 10:00 UTC
    await trail.append(event("clock.started", "clk-1", 30))  # 09:30 UTC
    await trail.append(local)
    found = await trail.events(since=datetime(2026, 12, 7, 9, 45, tzinfo=UTC))
    assert [e.subject for e in found] == ["clk-2"]
    assert found[0].at == local.at and found[0].actor == "system" and found[0].detail == ""
