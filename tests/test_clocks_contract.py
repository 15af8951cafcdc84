"""The RegulatoryClocks port: one behavioural contract for the in-memory fake and the SQL clocks (SQLite and
PostgreSQL), audit trail included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from automations.audit import MemoryAuditTrail
from automations.deadlines import ClockCount, ClockState, MemoryRegulatoryClocks, RegulatoryClocks
from automations.models import Action, Channel, Deadline, Decision
from store import SqlEventStore, SqlRegulatoryClocks

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EDT = timezone(timedelta(hours=-5))


def deadline(rule: str, days: int, *, internal: bool = False, tier: str = "compliance") -> Deadline:
    due = datetime.combine((T0 + timedelta(days=days)).date(), datetime.max.time(), EDT).replace(microsecond=0)
    return Deadline(rule, due, f"basis of {rule}", internal=internal, tier=tier)


def decision(contact_id: str, *deadlines: Deadline, customer: str | None = "cust-1", at: datetime = T0) -> Decision:
    return Decision(
        contact_id=contact_id, channel=Channel.CUSTOMER, text="…", category="data_privacy_request", group="Compliance",
        confidence=0.9, action=Action.HANDOFF, tier="compliance", reason="safety:data_privacy_request",
        decided_at=at, customer_id=customer, conversation_id=f"intercom:{contact_id}", deadlines=deadlines,
    )  # fmt: skip


@dataclass
class Clocks:
    port: RegulatoryClocks
    audit: MemoryAuditTrail

    def kinds(self) -> list[tuple[str, str]]:
        return [(e.kind, e.subject) for e in self.audit.rows]


@pytest.fixture(params=["memory", "sql"])
async def clocks(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[Clocks]:
    """The port in memory, or on a real database (both backends via ``store_url``), each with its audit trail."""
    audit = MemoryAuditTrail()
    if request.param == "memory":
        yield Clocks(MemoryRegulatoryClocks(audit), audit)
        return
    store = await SqlEventStore.open(store_url)
    try:
        yield Clocks(SqlRegulatoryClocks(store.engine, audit), audit)
    finally:
        await store.close()


async def test_start_is_idempotent_and_audited_once(clocks: Clocks) -> None:
    d = decision("c-1", deadline("privacy_request", 30), deadline("sar_decision", 30, internal=True))
    started = await clocks.port.start(d, received_at=T0 - timedelta(hours=1))
    assert [c.rule for c in started] == ["privacy_request", "sar_decision"]
    assert await clocks.port.start(d) == []
    assert clocks.kinds() == [("clock.started", "c-1:privacy_request"), ("clock.started", "c-1:sar_decision")]
    [privacy, sar] = await clocks.port.find(contact_id="c-1")
    assert privacy.started_at == T0 - timedelta(hours=1) and privacy.state is ClockState.OPEN
    assert privacy.due.utcoffset() == timedelta(hours=-5) and privacy.due == d.deadlines[0].due  # offset kept
    assert privacy.deadline() == d.deadlines[0] and sar.internal and privacy.customer_id == "cust-1"
    assert privacy.conversation_id == "intercom:c-1" and privacy.category == "data_privacy_request"
    assert await clocks.port.start(decision("c-0")) == []  # a plain question starts nothing


async def test_start_many_starts_what_each_decision_lacks_in_one_go_and_audits_it_once(clocks: Clocks) -> None:
    known = decision("c-1", deadline("privacy_request", 30))
    await clocks.port.start(known)
    both = decision("c-1", deadline("privacy_request", 30), deadline("sar_decision", 30, internal=True))
    later = decision("c-2", deadline("cfpb_complaint_response", 15), customer="cust-2")
    started = await clocks.port.start_many([(both, None), (decision("c-0"), None), (later, T0 + timedelta(days=1))])
    assert [(c.contact_id, c.rule) for c in started] == [("c-1", "sar_decision"), ("c-2", "cfpb_complaint_response")]
    assert await clocks.port.start_many([(both, None), (later, None)]) == []  # idempotent, like start
    assert await clocks.port.start_many([]) == []
    assert clocks.kinds() == [("clock.started", "c-1:privacy_request"), ("clock.started", "c-1:sar_decision"),
                              ("clock.started", "c-2:cfpb_complaint_response")]  # fmt: skip
    [complaint] = await clocks.port.find(contact_id="c-2")
    assert complaint.started_at == T0 + timedelta(days=1) and complaint.customer_id == "cust-2"
    assert complaint.deadline() == later.deadlines[0] and complaint.state is ClockState.OPEN


async def test_open_lists_running_clocks_due_first(clocks: Clocks) -> None:
    await clocks.port.start(decision("late", deadline("privacy_request", 30)))
    await clocks.port.start(decision("soon", deadline("cfpb_complaint_response", 15)))
    await clocks.port.start(decision("future", deadline("privacy_request", 5)), received_at=T0 + timedelta(days=2))
    assert [c.contact_id for c in await clocks.port.open(T0 + timedelta(hours=1))] == ["soon", "late"]
    assert [c.contact_id for c in await clocks.port.open(T0 + timedelta(days=3))] == ["future", "soon", "late"]
    await clocks.port.met("soon", "cfpb_complaint_response", at=T0 + timedelta(days=1))
    assert [c.contact_id for c in await clocks.port.open(T0 + timedelta(days=3))] == ["future", "late"]


async def test_met_in_time_then_never_again(clocks: Clocks) -> None:
    await clocks.port.start(decision("c-1", deadline("privacy_request", 30)))
    done = await clocks.port.met("c-1", "privacy_request", at=T0 + timedelta(days=3), actor="agent:42")
    assert done is not None and done.state is ClockState.MET and done.closed_at == T0 + timedelta(days=3)
    assert await clocks.port.met("c-1", "privacy_request", at=T0 + timedelta(days=4)) is None
    assert await clocks.port.met("c-1", "nope", at=T0) is None
    [event] = [e for e in clocks.audit.rows if e.kind == "clock.met"]
    assert event.actor == "agent:42" and "in time" in event.detail and event.at == T0 + timedelta(days=3)
    assert (await clocks.port.find(contact_id="c-1"))[0] == done


async def test_breach_is_marked_once_and_a_late_completion_is_missed(clocks: Clocks) -> None:
    await clocks.port.start(decision("c-1", deadline("cfpb_complaint_response", 15)))
    await clocks.port.start(decision("c-2", deadline("privacy_request", 30)))
    assert await clocks.port.breached(T0 + timedelta(days=10)) == []
    later = T0 + timedelta(days=17)
    [marked] = await clocks.port.breached(later)
    assert marked.contact_id == "c-1" and marked.state is ClockState.BREACHED and marked.breached_at == later
    assert await clocks.port.breached(later + timedelta(minutes=1)) == []
    assert [c.contact_id for c in await clocks.port.open(later)] == ["c-1", "c-2"]  # breached is still to be done
    done = await clocks.port.met("c-1", "cfpb_complaint_response", at=later + timedelta(days=1))
    assert done is not None and done.state is ClockState.MISSED and done.breached_at == later
    # met after its due time without a recorded breach: the breach is recorded first
    gone = await clocks.port.met("c-2", "privacy_request", at=T0 + timedelta(days=40))
    assert gone is not None and gone.state is ClockState.MISSED and gone.breached_at == T0 + timedelta(days=40)
    assert clocks.kinds()[2:] == [
        ("clock.breached", "c-1:cfpb_complaint_response"), ("clock.met", "c-1:cfpb_complaint_response"),
        ("clock.breached", "c-2:privacy_request"), ("clock.met", "c-2:privacy_request"),
    ]  # fmt: skip


async def test_stop_for_customer_stops_only_that_customers_running_rule(clocks: Clocks) -> None:
    await clocks.port.start(decision("a-1", deadline("privacy_request", 30)))
    await clocks.port.start(
        decision("a-2", deadline("privacy_request", 30), deadline("sar_decision", 30, internal=True))
    )
    await clocks.port.start(decision("a-3", deadline("privacy_request", 30)))
    await clocks.port.start(decision("b-1", deadline("privacy_request", 30), customer="cust-2"))
    await clocks.port.met("a-3", "privacy_request", at=T0 + timedelta(days=1))
    at = T0 + timedelta(days=2)
    assert await clocks.port.stop_for_customer("cust-1", "privacy_request", at=at, reason="privacy export") == 2
    assert await clocks.port.stop_for_customer("cust-1", "privacy_request", at=at, reason="again") == 0
    states = {(c.contact_id, c.rule): (c.state, c.reason) for c in await clocks.port.find(customer_id="cust-1")}
    assert states == {
        ("a-1", "privacy_request"): (ClockState.STOPPED, "privacy export"),
        ("a-2", "privacy_request"): (ClockState.STOPPED, "privacy export"),
        ("a-2", "sar_decision"): (ClockState.OPEN, ""),
        ("a-3", "privacy_request"): (ClockState.MET, ""),
    }
    assert [c.state for c in await clocks.port.find(customer_id="cust-2")] == [ClockState.OPEN]
    stops = [e for e in clocks.audit.rows if e.kind == "clock.stopped"]
    assert [e.subject for e in stops] == ["a-1:privacy_request", "a-2:privacy_request"]
    assert all("privacy export" in e.detail and e.at == at for e in stops)


async def test_find_by_conversation_and_watched_customers(clocks: Clocks) -> None:
    await clocks.port.start(decision("a-1", deadline("sar_decision", 30, internal=True)))
    await clocks.port.start(decision("b-1", deadline("privacy_request", 30), customer="cust-2"))
    await clocks.port.start(decision("n-1", deadline("sar_decision", 30, internal=True), customer=None))
    assert [c.contact_id for c in await clocks.port.find(conversation_id="intercom:b-1")] == ["b-1"]
    assert await clocks.port.find(contact_id="a-1", customer_id="cust-2") == []
    assert await clocks.port.watched(["cust-1", "cust-2", "cust-3"]) == {"cust-1"}
    assert await clocks.port.watched([]) == set()
    await clocks.port.met("a-1", "sar_decision", at=T0 + timedelta(days=1))
    assert await clocks.port.watched(["cust-1"]) == {"cust-1"}  # a SAR decided stays undisclosable


async def test_counts_by_rule_of_the_clocks_started_in_a_period(clocks: Clocks) -> None:
    privacy = deadline("privacy_request", 30)
    await clocks.port.start(decision("met", privacy))
    await clocks.port.start(decision("open", privacy))
    await clocks.port.start(decision("overdue", deadline("cfpb_complaint_response", 15)))
    await clocks.port.start(decision("late", deadline("cfpb_complaint_response", 15)))
    await clocks.port.start(decision("stopped", privacy, customer="cust-9"))
    await clocks.port.start(decision("before", privacy, at=T0 - timedelta(days=8)), received_at=T0 - timedelta(days=8))
    await clocks.port.met("met", "privacy_request", at=T0 + timedelta(days=1))
    await clocks.port.met("late", "cfpb_complaint_response", at=T0 + timedelta(days=20))
    await clocks.port.stop_for_customer("cust-9", "privacy_request", at=T0 + timedelta(days=2), reason="erased")
    now = T0 + timedelta(days=21)
    counts = await clocks.port.counts(T0 - timedelta(days=1), T0 + timedelta(days=6), now=now)
    assert counts == [
        ClockCount("cfpb_complaint_response", met=0, missed=2, open=0),
        ClockCount("privacy_request", met=2, missed=0, open=1, stopped=1),
    ]
    assert counts[1].total == 3
    assert await clocks.port.counts(T0 + timedelta(days=1), T0 + timedelta(days=6), now=now) == []


async def test_a_decision_without_a_customer_keeps_its_clocks(clocks: Clocks) -> None:
    d = replace(
        decision("anon", deadline("legal_process_review", 2, tier="legal"), customer=None), conversation_id=None
    )
    [clock] = await clocks.port.start(d)
    assert clock.customer_id is None and clock.tier == "legal"
    assert [c.rule for c in await clocks.port.find(contact_id="anon")] == ["legal_process_review"]
