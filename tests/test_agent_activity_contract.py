"""Contract: per-agent figures from the in-memory fake and from SQL (SQLite and PostgreSQL) agree, and are right.

Both are fed through the same ports (event store, conversation state): hand-offs with first responses, closes,
assignments, ratings, a first-response deadline met and one missed, and a customer who comes back on the same driver
after the close (a reopen) or too late (none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from automations.conversations import AgentEvent, AgentEventKind, Conversations
from automations.fakes import InMemoryEventStore
from automations.fakes_queues import InMemoryConversations
from automations.models import Action, Channel, Decision, Feedback, Handoff
from automations.ports import EventStore
from automations.qa.team import AgentActivity, AgentFigures, MemoryAgentActivity
from store import SqlEventStore
from store.conversations import SqlConversations
from store.team import SqlAgentActivity

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
K = AgentEventKind


@pytest.fixture(params=["memory", "sql"])
async def ports(
    request: pytest.FixtureRequest, store_url: str
) -> AsyncIterator[tuple[EventStore, Conversations, AgentActivity]]:
    if request.param == "memory":
        store, conversations = InMemoryEventStore(), InMemoryConversations()
        yield store, conversations, MemoryAgentActivity(store, conversations)
        return
    sql = await SqlEventStore.open(store_url)
    try:
        yield sql, SqlConversations(sql.engine), SqlAgentActivity(sql.engine)
    finally:
        await sql.close()


def decision(cid: str, minutes: float, category: str, customer: str, *, handoff: bool = True) -> Decision:
    at = T0 + timedelta(minutes=minutes)
    tier = "t1" if handoff else "bot"
    return Decision(
        cid, Channel.CUSTOMER, "text", category, "Cards", 0.9, Action.HANDOFF if handoff else Action.ANSWER, tier,
        "low_confidence" if handoff else "answered", at, customer_id=customer,
        handoff=Handoff(tier, "low_confidence", "summary", at + timedelta(minutes=60), at + timedelta(hours=24))
        if handoff else None,
    )  # fmt: skip


def event(cid: str, kind: AgentEventKind, minutes: float, actor: str | None) -> AgentEvent:
    return AgentEvent(cid, kind, T0 + timedelta(minutes=minutes), actor)


async def seed(store: EventStore, conversations: Conversations) -> None:
    decisions = [
        decision("c1", 0, "card_arrival", "cus-1"),  # ana answers in 10 min, closes at 100, rated 5
        decision("c2", 5, "card_arrival", "cus-2"),  # ana answers late (90 min), closes at 245; cus-2 comes back
        decision("c3", 10, "pin_blocked", "cus-3"),  # assigned to bo, never answered
        decision("c4", 20, "pin_blocked", "cus-4"),  # bo answers, closes; cus-4 comes back after 8 days (no reopen)
        decision("c5", 30, "card_arrival", "cus-5"),  # nobody touched it: no owner
        decision("c6", 40, "card_arrival", "cus-6", handoff=False),  # the bot answered: not an agent's
        decision("c7", 60 * 24 * 40, "card_arrival", "cus-7"),  # outside the period
        decision("c8", 300, "card_arrival", "cus-2", handoff=False),  # cus-2 returns on card_arrival: c2 reopened
        decision("c9", 20 + 60 * 24 * 8 + 60, "pin_blocked", "cus-4", handoff=False),
    ]
    for d in decisions:
        assert await store.record_decision(d)
    for e in [
        event("c1", K.ASSIGNED, 1, "bo"), event("c1", K.FIRST_RESPONSE, 10, "ana"), event("c1", K.CLOSED, 100, "ana"),
        event("c2", K.FIRST_RESPONSE, 95, "ana"), event("c2", K.CLOSED, 245, "bo"),
        event("c3", K.ASSIGNED, 12, "bo"),
        event("c4", K.FIRST_RESPONSE, 30, "bo"), event("c4", K.CLOSED, 80, "bo"),
        event("c5", K.CSAT, 50, None),
        event("c7", K.FIRST_RESPONSE, 60 * 24 * 40 + 5, "ana"),
    ]:  # fmt: skip
        assert await conversations.record_agent_event(e)
    await store.record_feedback(Feedback("c1", T0 + timedelta(minutes=101), csat=5, source="customer"))
    await store.record_feedback(Feedback("c2", T0 + timedelta(minutes=246), csat=2, source="customer"))
    await store.record_feedback(Feedback("c4", T0 + timedelta(minutes=81), helpful=True, source="customer"))


async def test_figures_by_owner_and_driver(ports: tuple[EventStore, Conversations, AgentActivity]) -> None:
    store, conversations, activity = ports
    await seed(store, conversations)
    rows = await activity.agent_figures(T0, T0 + timedelta(days=30))
    got = {(r.agent_id, r.category): r for r in rows}
    assert set(got) == {("ana", "card_arrival"), ("bo", "pin_blocked")}
    ana = got["ana", "card_arrival"]
    assert ana == AgentFigures(
        "ana", "card_arrival", contacts=2, responded=2, first_response_s=pytest.approx(600 + 90 * 60), closed=2,
        resolution_s=pytest.approx(100 * 60 + 240 * 60), handled=2, handle_s=pytest.approx(90 * 60 + 150 * 60),
        reopened=1, csat_responses=2, csat_total=7, csat_satisfied=1, fr_met=1, fr_missed=1,
    )  # fmt: skip
    bo = got["bo", "pin_blocked"]
    assert (bo.contacts, bo.responded, bo.closed, bo.handled, bo.reopened, bo.csat_responses) == (2, 1, 1, 1, 0, 0)
    assert bo.first_response_s == pytest.approx(600) and bo.handle_s == pytest.approx(50 * 60)
    assert (bo.fr_met, bo.fr_missed) == (1, 0)
    shorter = await activity.agent_figures(T0, T0 + timedelta(days=30), reopen_within=timedelta(minutes=30))
    assert {(r.agent_id, r.reopened) for r in shorter} == {("ana", 0), ("bo", 0)}


async def test_an_empty_period_has_no_rows(ports: tuple[EventStore, Conversations, AgentActivity]) -> None:
    store, conversations, activity = ports
    await seed(store, conversations)
    assert await activity.agent_figures(T0 - timedelta(days=2), T0) == []
