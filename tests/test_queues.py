"""Inbox, outbox and conversation state: one behavioural contract for the in-memory fakes and the SQL stores
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from automations.conversations import AgentEvent, AgentEventKind
from automations.fakes_queues import InMemoryConversations, InMemoryInbox, InMemoryOutbox
from automations.queues import InboxItem, ItemStatus, OutboxAction
from store import SqlEventStore
from store.conversations import SqlConversations
from store.queues import SqlInbox, SqlOutbox
from tests.test_store import make_decision

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture(params=["memory", "sql"])
async def ports(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[dict[str, Any]]:
    """The three ports, either in memory or on a real database (both backends via ``store_url``)."""
    if request.param == "memory":
        yield {"inbox": InMemoryInbox(), "outbox": InMemoryOutbox(), "conv": InMemoryConversations(), "store": None}
        return
    store = await SqlEventStore.open(store_url)
    engine = store.engine
    yield {"inbox": SqlInbox(engine), "outbox": SqlOutbox(engine), "conv": SqlConversations(engine), "store": store}
    await store.close()


def item(n: int, at: datetime = T0) -> InboxItem:
    kind = "conversation.user.created"
    return InboxItem(id=f"intercom:n{n}", source="intercom", kind=kind, payload="{}", received_at=at)


def action(key: str, at: datetime = T0, target: str = "intercom") -> OutboxAction:
    return OutboxAction(key=key, target=target, kind="reply", payload='{"body": "hi"}', created_at=at)


async def test_inbox_accepts_each_id_once(ports: dict[str, Any]) -> None:
    inbox = ports["inbox"]
    assert await inbox.accept(item(1)) is True
    assert await inbox.accept(item(1)) is False
    assert await inbox.pending() == 1


async def test_inbox_lease_hides_claimed_items_until_it_lapses(ports: dict[str, Any]) -> None:
    inbox = ports["inbox"]
    for n in range(3):
        await inbox.accept(item(n, T0 + timedelta(seconds=n)))
    first = await inbox.claim(now=T0 + timedelta(seconds=5), lease=LEASE, limit=2)
    assert [i.id for i in first] == ["intercom:n0", "intercom:n1"]
    assert all(i.attempts == 1 for i in first)
    second = await inbox.claim(now=T0 + timedelta(seconds=6), lease=LEASE)
    assert [i.id for i in second] == ["intercom:n2"]
    await inbox.complete("intercom:n0", now=T0 + timedelta(seconds=7))
    # the worker holding n1 died: after the lease, n1 (and only n1 of those two) comes back, attempt 2
    again = await inbox.claim(now=T0 + timedelta(seconds=40), lease=LEASE)
    assert [(i.id, i.attempts) for i in again] == [("intercom:n1", 2), ("intercom:n2", 2)]
    assert (await inbox.get("intercom:n0")).status is ItemStatus.DONE


async def test_inbox_retry_and_kill(ports: dict[str, Any]) -> None:
    inbox = ports["inbox"]
    await inbox.accept(item(1))
    await inbox.claim(now=T0, lease=LEASE)
    await inbox.retry("intercom:n1", error="boom", at=T0 + timedelta(minutes=5))
    assert await inbox.claim(now=T0 + timedelta(minutes=4), lease=LEASE) == []
    [again] = await inbox.claim(now=T0 + timedelta(minutes=5), lease=LEASE)
    assert again.error == "boom"
    await inbox.kill("intercom:n1", error="poison", now=T0)
    assert (await inbox.get("intercom:n1")).status is ItemStatus.DEAD
    assert await inbox.pending() == 0


async def test_outbox_dedupes_keys_within_and_across_batches(ports: dict[str, Any]) -> None:
    outbox = ports["outbox"]
    assert await outbox.enqueue([action("a"), action("b"), action("a")]) == [True, True, False]
    assert await outbox.enqueue([action("b"), action("c")]) == [False, True]
    assert await outbox.pending() == 3


async def test_outbox_claim_filters_target_and_honours_retry_time(ports: dict[str, Any]) -> None:
    outbox = ports["outbox"]
    await outbox.enqueue([action("i1"), action("s1", target="slack"), action("i2", T0 + timedelta(seconds=1))])
    claimed = await outbox.claim(now=T0 + timedelta(seconds=2), lease=LEASE, targets=["intercom"])
    assert [a.key for a in claimed] == ["i1", "i2"]
    await outbox.retry("i1", error="429", at=T0 + timedelta(seconds=90))
    await outbox.sent("i2", now=T0 + timedelta(seconds=3), result='{"id": "77"}')
    assert await outbox.result("i2") == '{"id": "77"}'
    assert await outbox.claim(now=T0 + timedelta(seconds=60), lease=LEASE, targets=["intercom"]) == []
    [late] = await outbox.claim(now=T0 + timedelta(seconds=90), lease=LEASE, targets=["intercom"])
    assert (late.key, late.attempts, late.error) == ("i1", 2, "429")
    assert await outbox.pending("intercom") == 1
    assert await outbox.pending("slack") == 1
    await outbox.kill("s1", error="channel_not_found", now=T0)
    assert (await outbox.get("s1")).status is ItemStatus.DEAD


async def test_conversation_takeover_is_recorded_once(ports: dict[str, Any]) -> None:
    conv = ports["conv"]
    assert await conv.get("intercom:1") is None
    await conv.set_last_contact("intercom:1", "c1", at=T0)
    assert not (await conv.get("intercom:1")).bot_silenced
    assert await conv.human_took_over("intercom:1", at=T0 + timedelta(minutes=1)) is True
    assert await conv.human_took_over("intercom:1", at=T0 + timedelta(minutes=2)) is False
    await conv.set_last_contact("intercom:1", "c2", at=T0 + timedelta(minutes=3))
    state = await conv.get("intercom:1")
    assert state.bot_silenced and state.human_since == T0 + timedelta(minutes=1) and state.last_contact_id == "c2"
    assert await conv.human_took_over("intercom:new", at=T0) is True  # first sight of a conversation
    await conv.closed("intercom:1", at=T0 + timedelta(hours=1))
    assert (await conv.get("intercom:1")).closed_at == T0 + timedelta(hours=1)


async def test_first_response_is_kept_once(ports: dict[str, Any]) -> None:
    conv, store = ports["conv"], ports["store"]
    if store is not None:  # agent events reference a recorded decision
        await store.record_decision(make_decision("c1"))
    first = AgentEvent("c1", AgentEventKind.FIRST_RESPONSE, T0 + timedelta(minutes=5), actor="admin-1")
    assert await conv.record_agent_event(first) is True
    again = AgentEvent("c1", AgentEventKind.FIRST_RESPONSE, T0 + timedelta(minutes=9))
    assert await conv.record_agent_event(again) is False
    assert await conv.record_agent_event(AgentEvent("c1", AgentEventKind.CLOSED, T0 + timedelta(hours=2))) is True
    events = await conv.agent_events("c1")
    assert [(e.kind, e.at, e.actor) for e in events] == [
        (AgentEventKind.FIRST_RESPONSE, T0 + timedelta(minutes=5), "admin-1"),
        (AgentEventKind.CLOSED, T0 + timedelta(hours=2), None),
    ]


async def test_concurrent_claims_never_share_an_item(ports: dict[str, Any]) -> None:
    inbox = ports["inbox"]
    for n in range(40):
        await inbox.accept(item(n, T0 + timedelta(milliseconds=n)))
    now = T0 + timedelta(seconds=1)
    batches = await asyncio.gather(*(inbox.claim(now=now, lease=LEASE, limit=7) for _ in range(8)))
    ids = [i.id for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_released_items_and_actions_are_due_at_once_without_a_counted_attempt(ports: dict[str, Any]) -> None:
    inbox, outbox = ports["inbox"], ports["outbox"]
    for n in range(3):
        await inbox.accept(item(n))
    claimed = await inbox.claim(now=T0, lease=LEASE, limit=3)
    await inbox.complete(claimed[0].id, now=T0)
    await inbox.release([i.id for i in claimed], now=T0 + timedelta(seconds=1))  # a done item stays done
    again = await inbox.claim(now=T0 + timedelta(seconds=1), lease=LEASE)
    assert [(i.id, i.attempts) for i in again] == [("intercom:n1", 1), ("intercom:n2", 1)]
    await outbox.enqueue([action("a"), action("b")])
    taken = await outbox.claim(now=T0, lease=LEASE)
    await outbox.release([a.key for a in taken], now=T0 + timedelta(seconds=2))
    retaken = await outbox.claim(now=T0 + timedelta(seconds=2), lease=LEASE)
    assert [(a.key, a.attempts) for a in retaken] == [("a", 1), ("b", 1)]
    await inbox.release([], now=T0)


async def test_batched_completion_and_sent_records_match_the_single_ones(ports: dict[str, Any]) -> None:
    inbox, outbox = ports["inbox"], ports["outbox"]
    for n in range(3):
        await inbox.accept(item(n))
    claimed = await inbox.claim(now=T0, lease=LEASE, limit=3)
    await inbox.complete_many([claimed[0].id, claimed[2].id], now=T0)
    await inbox.complete_many([], now=T0)
    assert [(await inbox.get(i.id)).status for i in claimed] == [ItemStatus.DONE, ItemStatus.PENDING, ItemStatus.DONE]
    assert await inbox.pending() == 1
    await outbox.enqueue([action("a"), action("b"), action("c")])
    await outbox.claim(now=T0, lease=LEASE)
    await outbox.sent_many([("a", "conversation:1"), ("c", "tag:9")], now=T0)
    await outbox.sent_many([], now=T0)
    assert [(await outbox.get(k)).status for k in "abc"] == [ItemStatus.DONE, ItemStatus.PENDING, ItemStatus.DONE]
    assert [await outbox.result(k) for k in "ac"] == ["conversation:1", "tag:9"]
    assert await outbox.pending("intercom") == 1


async def test_conversation_states_are_read_and_written_in_batches(ports: dict[str, Any]) -> None:
    conv = ports["conv"]
    await conv.set_last_contact("intercom:1", "intercom:a", at=T0)
    await conv.human_took_over("intercom:1", at=T0)
    assert await conv.get_many([]) == {}
    await conv.set_last_contacts([], at=T0)
    await conv.set_last_contacts([("intercom:1", "intercom:b"), ("intercom:2", "intercom:c")], at=T0 + LEASE)
    states = await conv.get_many(["intercom:1", "intercom:2", "intercom:unknown", "intercom:1"])
    assert sorted(states) == ["intercom:1", "intercom:2"]
    assert states["intercom:1"] == await conv.get("intercom:1")
    assert (states["intercom:1"].last_contact_id, states["intercom:1"].bot_silenced) == ("intercom:b", True)
    assert (states["intercom:2"].last_contact_id, states["intercom:2"].updated_at) == ("intercom:c", T0 + LEASE)
