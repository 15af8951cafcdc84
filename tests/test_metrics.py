"""The metrics engine on a hand-built event history with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from automations.conversations import AgentEvent, AgentEventKind
from automations.models import Action, Channel, Decision, Feedback, Handoff, OutcomeState
from automations.reports.metrics import CostModel, compute_metrics
from automations.reports.periods import Period, parse_period
from store import SqlEventStore, SqlReportSource
from store.conversations import SqlConversations

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
NOW = T0 + timedelta(days=7)
PERIOD = Period("7d", T0, NOW)
GROUPS = {"card_arrival": "Cards", "exchange_rate": "Fees & FX", "suspected_fraud": "Security & fraud",
          "legal_request": "Compliance & legal"}  # fmt: skip


def answer(cid: str, category: str, at: datetime, *, latency_ms: float = 100.0, source: str = "intercom",
           channel: Channel = Channel.CUSTOMER, customer: str | None = None) -> Decision:  # fmt: skip
    return Decision(
        contact_id=cid, channel=channel, text=f"question {cid}", category=category, group=GROUPS[category],
        confidence=0.9, action=Action.ANSWER, tier="bot", reason="answered", decided_at=at,
        customer_id=customer or f"cus-{cid}", source=source, reply="an answer", article_id="a", latency_ms=latency_ms,
    )  # fmt: skip


def handoff(cid: str, category: str, tier: str, at: datetime, *, first: timedelta, resolve: timedelta,
            reason: str = "sensitive_category", source: str = "email") -> Decision:  # fmt: skip
    return Decision(
        contact_id=cid, channel=Channel.CUSTOMER, text=f"question {cid}", category=category, group=GROUPS[category],
        confidence=0.7, action=Action.HANDOFF, tier=tier, reason=reason, decided_at=at, customer_id=f"cus-{cid}",
        source=source,
        handoff=Handoff(tier=tier, reason=reason, summary="s", first_response_due=at + first,
                        resolution_due=at + resolve),
    )  # fmt: skip


async def build_history(store: SqlEventStore) -> None:
    """Nine customer contacts in the period, one before it, one agent question (see the expected figures)."""
    h = timedelta(hours=1)
    decisions = [
        answer("a1", "card_arrival", T0 + 1 * h, latency_ms=100),  # left 'answered', > 24 h old: deflected
        answer("a2", "card_arrival", T0 + 2 * h, latency_ms=300),  # customer confirmed: deflected
        answer("a3", "exchange_rate", T0 + 3 * h),  # escalated
        answer("a4", "exchange_rate", T0 + 4 * h),  # reopened
        answer("a5", "card_arrival", NOW - 2 * h),  # still inside the 24 h window: pending
        handoff("h1", "suspected_fraud", "fraud", T0 + 24 * h, first=timedelta(minutes=15), resolve=24 * h),
        handoff("h2", "exchange_rate", "t1", T0 + 48 * h, first=h, resolve=24 * h, reason="low_retrieval_score"),
        handoff("h3", "legal_request", "legal", NOW - h, first=2 * h, resolve=timedelta(days=5)),
        handoff("h4", "card_arrival", "t1", T0 + 72 * h, first=h, resolve=24 * h, reason="answerer_abstained"),
        answer("x1", "card_arrival", T0 - h),  # before the period
        answer("g1", "card_arrival", T0 + 5 * h, channel=Channel.AGENT),  # an agent's question: not a contact
    ]
    assert all(await store.record_decisions(decisions))
    await store.set_outcome("a2", OutcomeState.RESOLVED, at=T0 + 3 * h, reason="customer confirmed")
    await store.set_outcome("a3", OutcomeState.ESCALATED, at=T0 + 5 * h, reason="still needs help")
    await store.set_outcome("a4", OutcomeState.REOPENED, at=T0 + 30 * h, reason="came back")
    conversations = SqlConversations(store.engine)
    events = [
        ("h1", AgentEventKind.FIRST_RESPONSE, T0 + 24 * h + timedelta(minutes=10)),  # 600 s, met
        ("h1", AgentEventKind.CLOSED, T0 + 27 * h),  # 3 h, met
        ("h2", AgentEventKind.FIRST_RESPONSE, T0 + 50 * h),  # 7200 s, missed
        ("h2", AgentEventKind.CLOSED, T0 + 78 * h),  # 30 h, missed
        ("h4", AgentEventKind.FIRST_RESPONSE, T0 + 72 * h + timedelta(minutes=50)),  # 3000 s, met; never closed
        ("h4", AgentEventKind.ASSIGNED, T0 + 72 * h + timedelta(minutes=1)),
    ]
    for cid, kind, at in events:
        await conversations.record_agent_event(AgentEvent(cid, kind, at, actor="agent-1"))
    for cid, csat in (("a1", 5), ("a2", 4), ("h1", 2), ("h2", 1), ("x1", 1)):
        await store.record_feedback(Feedback(cid, at=T0 + 100 * h, csat=csat))
    await store.record_feedback(Feedback("a3", at=T0 + 6 * h, helpful=False))


@pytest.fixture
async def store(store: SqlEventStore) -> SqlEventStore:
    """The shared empty store (tests/plugins/postgres.py) with the history above."""
    await build_history(store)
    return store


async def test_headline_metrics_match_the_definitions(store: SqlEventStore) -> None:
    m = await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW, costs=CostModel(6.0, 0.10, 420))
    assert m.contacts == 9
    assert (m.overall.bot_answered, m.overall.handoffs) == (5, 4)
    assert (m.overall.settled, m.overall.deflected, m.overall.pending) == (4, 2, 1)
    assert m.involvement_rate == pytest.approx(5 / 9)
    assert m.deflection_rate == pytest.approx(0.5)
    assert m.automation_rate == pytest.approx(5 / 18)
    assert dict(m.escalations_by_tier) == {"t1": 2, "fraud": 1, "legal": 1}
    assert m.csat.responses == 4
    assert m.csat.mean == pytest.approx(3.0)
    assert m.csat.satisfied_share == pytest.approx(0.5)
    assert (m.csat.bot_mean, m.csat.human_mean) == (pytest.approx(4.5), pytest.approx(1.5))
    assert m.cost.total == pytest.approx(4 * 6.0 + 5 * 0.10)
    assert m.cost.resolutions == 4  # two deflected answers + two closed hand-offs
    assert m.cost.per_resolution == pytest.approx(24.5 / 4)


async def test_sla_and_durations(store: SqlEventStore) -> None:
    m = await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW)
    by_tier = {t.tier: t for t in m.sla}
    assert (by_tier["fraud"].first_response_met, by_tier["fraud"].resolution_met) == (1, 1)
    t1 = by_tier["t1"]
    assert (t1.first_response_met, t1.first_response_missed, t1.resolution_met, t1.resolution_missed) == (1, 1, 0, 2)
    legal = by_tier["legal"]  # not yet due: pending, neither met nor missed
    assert (legal.handoffs, legal.first_response_met + legal.first_response_missed) == (1, 0)
    assert m.sla_adherence == pytest.approx(3 / 6)
    frt = m.first_response_time
    assert frt.count == 3
    assert frt.mean_s == pytest.approx((600 + 7200 + 3000) / 3, abs=0.5)
    assert frt.median_s == pytest.approx(3000, abs=60)  # histogram accurate to the minute
    assert frt.p90_s is not None and 3000 < frt.p90_s <= 7260
    res = m.resolution_time
    assert res.count == 2
    assert res.mean_s == pytest.approx((3 * 3600 + 30 * 3600) / 2, abs=0.5)
    assert m.bot_resolution_time.count == 2
    assert m.bot_resolution_time.mean_s == pytest.approx(0.2)


async def test_slices_by_driver_group_tier_and_channel(store: SqlEventStore) -> None:
    m = await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW)
    drivers = {s.key: s for s in m.drivers}
    card = drivers["card_arrival"]
    assert (card.contacts, card.bot_answered, card.deflected, card.settled, card.kb_gap_handoffs) == (4, 3, 2, 2, 1)
    assert card.deflection_rate == 1.0
    fx = drivers["exchange_rate"]
    assert (fx.contacts, fx.deflection_rate, fx.kb_gap_handoffs) == (3, 0.0, 1)
    assert m.drivers[0].key == "card_arrival"  # most contacts first
    assert {s.key: s.contacts for s in m.groups} == {
        "Cards": 4, "Fees & FX": 3, "Security & fraud": 1, "Compliance & legal": 1,
    }  # fmt: skip
    assert {s.key: s.contacts for s in m.tiers} == {"bot": 5, "t1": 2, "fraud": 1, "legal": 1}
    assert {s.key: s.contacts for s in m.channels} == {"intercom": 5, "email": 4}
    assert drivers["card_arrival"].csat == pytest.approx(4.5)


async def test_json_has_the_documented_keys_and_fractions(store: SqlEventStore) -> None:
    doc = (await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW)).to_json()
    for key in ("contacts", "deflection_rate", "automation_rate", "escalations_by_tier", "csat", "sla_adherence",
                "first_response_time", "resolution_time", "cost_per_resolution", "drivers"):  # fmt: skip
        assert key in doc
    for key in ("deflection_rate", "automation_rate", "sla_adherence", "involvement_rate"):
        assert 0.0 <= doc[key] <= 1.0
    assert doc["escalations_by_tier"] == {"t1": 2, "fraud": 1, "legal": 1}


async def test_empty_period_has_no_rates(store: SqlEventStore) -> None:
    empty = Period("1h", T0 - timedelta(days=30), T0 - timedelta(days=29))
    m = await compute_metrics(SqlReportSource(store.engine), empty, now=NOW)
    assert m.contacts == 0
    assert m.deflection_rate is None and m.sla_adherence is None and m.csat.mean is None
    assert m.first_response_time.median_s is None


def test_parse_period() -> None:
    now = datetime(2026, 5, 14, 15, 30, tzinfo=UTC)
    assert parse_period("7d", now).start == now - timedelta(days=7)
    assert parse_period("today", now).start == datetime(2026, 5, 14, tzinfo=UTC)
    assert parse_period("qtd", now).start == datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_period("24h", now).length == timedelta(hours=24)
    yesterday = parse_period("yesterday", now)
    assert (yesterday.start, yesterday.end) == (datetime(2026, 5, 13, tzinfo=UTC), datetime(2026, 5, 14, tzinfo=UTC))
    assert parse_period("today", now, tz="Europe/London").start == datetime(2026, 5, 13, 23, tzinfo=UTC)
    assert parse_period("7d", now).previous().end == now - timedelta(days=7)
    with pytest.raises(ValueError):
        parse_period("fortnight", now)


async def test_reports_never_take_the_sqlite_write_lock(tmp_path: Path) -> None:
    store = await SqlEventStore.open(f"sqlite:///{tmp_path / 'locked.db'}")
    try:
        await build_history(store)
        reports = SqlReportSource(store.engine)
        await reports.refresh()
        async with store.engine.begin() as writer:  # BEGIN IMMEDIATE: this connection holds the write lock
            await writer.execute(text("SELECT 1"))
            metrics = await asyncio.wait_for(compute_metrics(reports, PERIOD, now=NOW, refresh=False), timeout=10)
        assert metrics.contacts == 9
    finally:
        await store.close()


async def test_fact_table_follows_later_changes(store: SqlEventStore) -> None:
    reports = SqlReportSource(store.engine)
    before = await compute_metrics(reports, PERIOD, now=NOW)
    assert (before.overall.settled, before.resolution_time.count, before.csat.responses) == (4, 2, 4)
    await store.set_outcome("a5", OutcomeState.ESCALATED, at=NOW - timedelta(hours=1), reason="needs a human")
    conversations = SqlConversations(store.engine)  # a back-dated close still counts: ids, not times, drive refresh
    await conversations.record_agent_event(AgentEvent("h4", AgentEventKind.CLOSED, T0 + timedelta(hours=80)))
    await store.record_feedback(Feedback("a3", at=T0 + timedelta(hours=7), csat=1))
    await store.record_decision(answer("a6", "card_arrival", T0 + timedelta(hours=9)))
    after = await compute_metrics(reports, PERIOD, now=NOW)
    assert after.contacts == 10
    assert (after.overall.settled, after.overall.pending, after.overall.deflected) == (6, 0, 3)
    assert after.resolution_time.count == 3
    assert (after.csat.responses, after.csat.mean) == (5, pytest.approx(13 / 5))
    if store.engine.dialect.name == "sqlite":  # no look-back there: a refresh with nothing new recomputes nothing
        assert await reports.refresh() == 0
