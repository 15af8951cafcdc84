"""The EventStore port: one behavioural contract for the in-memory fake and the SQL store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from automations.fakes import InMemoryEventStore
from automations.models import Action, Feedback, OutcomeState
from automations.ports import EventStore
from store import SqlEventStore
from tests.test_store import T0, make_decision, make_handoff_decision


@pytest.fixture(params=["memory", "sql"])
async def events(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[EventStore]:
    """The port in memory, or on a real database (both backends via ``store_url``)."""
    store: EventStore = InMemoryEventStore() if request.param == "memory" else await SqlEventStore.open(store_url)
    try:
        yield store
    finally:
        await store.close()


async def test_a_decision_is_recorded_once_and_read_back(events: EventStore) -> None:
    decision = make_decision("c-1")
    assert await events.record_decision(decision) is True
    assert await events.record_decision(replace(decision, reply="changed")) is False
    assert await events.get_decision("c-1") == decision
    assert await events.get_decision("nope") is None


async def test_a_batch_reports_duplicates_in_order(events: EventStore) -> None:
    await events.record_decision(make_decision("c-1"))
    got = await events.record_decisions([make_decision("c-2"), make_decision("c-1"), make_handoff_decision("h-1")])
    assert got == [True, False, True]
    handoff = await events.get_decision("h-1")
    assert (
        handoff is not None and handoff.action is Action.HANDOFF and handoff.handoff == make_handoff_decision().handoff
    )


async def test_the_initial_outcome_follows_the_action(events: EventStore) -> None:
    await events.record_decisions([make_decision("c-1"), make_handoff_decision("h-1")])
    answered, handed = await events.get_outcome("c-1"), await events.get_outcome("h-1")
    assert answered is not None and answered.state is OutcomeState.ANSWERED
    assert handed is not None and handed.state is OutcomeState.HANDED_OFF
    assert await events.get_outcome("nope") is None


async def test_outcome_queries_filter_by_customer_time_and_state(events: EventStore) -> None:
    await events.record_decisions([
        make_decision("old", at=T0 - timedelta(days=3)), make_decision("c-1", at=T0),
        make_decision("c-2", at=T0 + timedelta(hours=1)), make_decision("other", at=T0, customer="cust-2"),
        make_handoff_decision("h-1", at=T0 + timedelta(hours=2)),
    ])  # fmt: skip
    found = await events.outcomes_for_customer("cust-1", since=T0, states={OutcomeState.ANSWERED})
    assert [o.contact_id for o in found] == ["c-1", "c-2"]
    due = await events.outcomes_due(decided_before=T0 + timedelta(minutes=30), state=OutcomeState.ANSWERED)
    assert sorted(o.contact_id for o in due) == ["c-1", "old", "other"]


async def test_batch_reads_match_the_single_ones(events: EventStore) -> None:
    await events.record_decisions([
        make_decision("c-1", at=T0), make_decision("c-2", at=T0 + timedelta(hours=1)),
        make_decision("other", at=T0, customer="cust-2"), make_handoff_decision("h-1", at=T0 + timedelta(hours=2)),
    ])  # fmt: skip
    found = await events.get_decisions(["h-1", "nope", "c-1", "c-1"])
    assert set(found) == {"c-1", "h-1"}
    assert found["c-1"] == await events.get_decision("c-1") and found["h-1"] == await events.get_decision("h-1")
    assert await events.get_decisions([]) == {}
    states = {OutcomeState.ANSWERED}
    many = await events.outcomes_for_customers(["cust-1", "cust-2", "nobody"], since=T0, states=states)
    assert set(many) == {"cust-1", "cust-2", "nobody"} and many["nobody"] == []
    for customer in ("cust-1", "cust-2"):
        assert many[customer] == await events.outcomes_for_customer(customer, since=T0, states=states)
    assert [o.contact_id for o in many["cust-1"]] == ["c-1", "c-2"]
    assert await events.outcomes_for_customers(["cust-1"], since=T0, states=()) == {"cust-1": []}


async def test_set_outcome_moves_the_state(events: EventStore) -> None:
    await events.record_decision(make_decision("c-1"))
    await events.set_outcome("c-1", OutcomeState.RESOLVED, at=T0 + timedelta(days=1), reason="no_reopen")
    outcome = await events.get_outcome("c-1")
    assert outcome is not None and outcome.state is OutcomeState.RESOLVED and outcome.reason == "no_reopen"
    assert outcome.updated_at == T0 + timedelta(days=1)


async def test_feedback_is_kept_in_order_and_validated(events: EventStore) -> None:
    await events.record_decision(make_decision("c-1"))
    first = Feedback("c-1", T0 + timedelta(minutes=5), csat=4, source="customer", comment="ok")
    second = Feedback("c-1", T0 + timedelta(minutes=1), helpful=True, source="agent", comment="slack:U1")
    await events.record_feedback(first)
    await events.record_feedback(second)
    assert await events.feedback_for("c-1") == [first, second]
    assert await events.feedback_for("nope") == []
    with pytest.raises(KeyError):
        await events.record_feedback(Feedback("nope", T0, csat=3, source="customer"))
    with pytest.raises(ValueError, match="CSAT"):
        await events.record_feedback(Feedback("c-1", T0, csat=9, source="customer"))


async def test_ping_answers(events: EventStore) -> None:
    await events.ping()
