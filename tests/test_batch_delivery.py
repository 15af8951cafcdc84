"""Throughput without losing guarantees (issue 16): inbox batches decided together through ``Pipeline.handle_many``
with each conversation's order and idempotency kept, and concurrent outbox dispatch that sends each effect once even
when a worker dies mid-send (lease-aware starts, reconciliation against Intercom).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from automations.delivery import InboxProcessor, OutboxDispatcher
from automations.fakes import SettableClock
from automations.fakes_queues import InMemoryInbox, InMemoryOutbox
from automations.models import Action, Contact, Decision
from automations.queues import InboxItem, ItemStatus, OutboxAction
from bench.fakes.intercom_server import FakeIntercom
from bot.intercom.actions import plan_actions
from bot.intercom.sender import IntercomSender
from evals.intercom_payloads import admin_replied, signed, user_created, user_replied
from store.queues import SqlOutbox
from tests.plugins.intercom_http import intercom_settings
from tests.test_intercom_faults import NO_JITTER, T0, answered, handed_off
from tests.testbot import TestBot

CARD = "Where is my card? It has not arrived"


async def _post(bot: TestBot, *payloads: dict[str, object]) -> None:
    """Acknowledge notifications without processing them (so that one claim takes them all)."""
    for payload in payloads:
        body, headers = signed(dict(payload))
        assert (await bot.http.post("/intercom/webhooks", content=body, headers=headers)).status_code == 200


def _counting(bot: TestBot) -> list[list[str]]:
    """Record the contact ids of every ``decide_many`` call the conversation flow makes."""
    calls: list[list[str]] = []
    flow = bot.service.context.flow
    inner = flow.decide_many
    assert inner is not None  # the service decides in batches

    async def decide_many(contacts: Sequence[Contact]) -> list[Decision]:
        calls.append([c.id for c in contacts])
        return await inner(contacts)

    flow.decide_many = decide_many
    return calls


def _replies(bot: TestBot, contact: str) -> list[OutboxAction]:
    return [a for a in bot.effects("intercom") if a.key == f"intercom:intercom:{contact}:reply"]


async def test_a_claimed_batch_is_decided_together_keeping_each_conversations_order(testbot: TestBot) -> None:
    calls = _counting(testbot)
    await _post(
        testbot,
        user_created("501", CARD, message_id="a1", contact_id="cust-a"),
        user_created("502", CARD, message_id="b1", contact_id="cust-b"),
        admin_replied("501"),  # a teammate takes conversation 501 over ...
        user_replied("501", CARD, part_id="a2", contact_id="cust-a"),  # ... so the bot stays quiet after it
        user_created("503", CARD, message_id="c1", contact_id="cust-c"),
    )
    assert await testbot.service.processor.run_once() == 5  # one claim, one batch
    assert await testbot.service.processor.run_once() == 0
    assert calls == [["intercom:a1", "intercom:b1", "intercom:c1"], ["intercom:a2"]]
    for contact in ("a1", "b1", "c1"):
        decision = await testbot.store.get_decision(f"intercom:{contact}")
        assert decision is not None and decision.action is Action.ANSWER
        assert len(_replies(testbot, contact)) == 1
    assert await testbot.store.get_decision("intercom:a2") is not None
    assert _replies(testbot, "a2") == []  # decided after the takeover, in order: silenced
    assert [i.status for i in testbot.service.context.inbox.items.values()] == [ItemStatus.DONE] * 5  # type: ignore[attr-defined]


async def test_a_replayed_batch_returns_the_recorded_decisions_and_queues_nothing_new(testbot: TestBot) -> None:
    await _post(testbot, *(user_created(f"60{n}", CARD, message_id=f"r{n}", contact_id=f"c{n}") for n in range(4)))
    inbox = testbot.service.context.inbox
    items = await inbox.claim(now=testbot.clock.now(), lease=timedelta(seconds=60))
    handler = testbot.service.processor._handlers["intercom"]
    assert await handler.handle_many(items) == [None] * 4  # type: ignore[attr-defined]
    decided = [await testbot.store.get_decision(f"intercom:r{n}") for n in range(4)]
    effects = {a.key: a for a in testbot.effects()}
    calls = _counting(testbot)
    assert await handler.handle_many(items) == [None] * 4  # type: ignore[attr-defined]  # a crash before "done"
    assert calls == []  # every contact already had its decision
    assert [await testbot.store.get_decision(f"intercom:r{n}") for n in range(4)] == decided
    assert {a.key: a for a in testbot.effects()} == effects


async def test_a_failing_item_is_retried_alone_while_the_rest_of_its_batch_completes(testbot: TestBot) -> None:
    inbox = testbot.service.context.inbox
    await _post(testbot, user_created("701", CARD, message_id="f1", contact_id="cf1"))
    await inbox.accept(InboxItem("intercom:broken", "intercom", "x", "{not json", testbot.clock.now()))
    await _post(testbot, user_created("702", CARD, message_id="f2", contact_id="cf2"))
    assert await testbot.service.processor.run_once() == 3
    broken = await inbox.get("intercom:broken")
    assert broken is not None and broken.status is ItemStatus.PENDING and "ValidationError" in broken.error
    assert [len(_replies(testbot, c)) for c in ("f1", "f2")] == [1, 1]
    assert all(i.status is ItemStatus.DONE for i in inbox.items.values() if i.id != "intercom:broken")  # type: ignore[attr-defined]


async def test_an_inbox_batch_that_fails_as_a_whole_is_retried_item_by_item() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)

    class Broken:
        async def handle(self, item: InboxItem) -> None:
            raise AssertionError("unused")

        async def handle_many(self, items: Sequence[InboxItem]) -> list[Exception | None]:
            raise RuntimeError("database went away")

    for n in range(3):
        await inbox.accept(InboxItem(f"i{n}", "intercom", "k", "{}", T0 - timedelta(seconds=3 - n)))
    processor = InboxProcessor(inbox, {"intercom": Broken()}, clock, backoff=NO_JITTER)
    assert await processor.run_once() == 3
    assert all(i.status is ItemStatus.PENDING and "database went away" in i.error for i in inbox.items.values())
    assert await processor.run_once() == 0  # each backed off, none lost


async def test_an_action_is_not_started_once_half_its_lease_is_gone() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    sent: list[str] = []

    class Slow:
        async def send(self, action: OutboxAction) -> str:
            sent.append(action.key)
            clock.advance(timedelta(seconds=6))  # the remote side took 6 s of a 10 s lease
            return "ok"

    keys = [f"intercom:intercom:c1:{step}" for step in ("reply", "tag:a", "tag:b")]
    await outbox.enqueue(
        [
            OutboxAction(k, "intercom", "reply", "{}", T0 - timedelta(seconds=1, microseconds=-i))
            for i, k in enumerate(keys)
        ]
    )
    dispatcher = OutboxDispatcher(outbox, {"intercom": Slow()}, clock, lease=timedelta(seconds=10), backoff=NO_JITTER)
    assert await dispatcher.run_once() == 3
    assert sent == keys[:1]  # another worker may claim the rest once the lease lapses: it is handed back instead
    rest = [await outbox.get(k) for k in keys[1:]]
    assert all(a is not None and a.status is ItemStatus.PENDING and a.attempts == 0 for a in rest)
    assert all(a is not None and a.available_at == clock.now() for a in rest)  # due again at once
    assert await dispatcher.run_once() == 2
    assert sent == keys[:2]  # one at a time, each within its own lease, and in order
    assert await dispatcher.run_once() == 1
    assert sent == keys


# --- exactly once against a real HTTP Intercom fake, on SQLite and PostgreSQL ---------------------------------


async def _killed_mid_send(
    outbox: SqlOutbox, fake: FakeIntercom, sender: IntercomSender, decisions: Sequence[Decision],
    reached: Callable[[OutboxAction], bool],
) -> tuple[list[OutboxAction], SettableClock]:  # fmt: skip
    """Queue the decisions' actions; a worker claims them, performs those ``reached`` selects on Intercom, and dies
    before recording anything. Returns the actions and a clock past the lease."""
    actions = [a for d in decisions for a in plan_actions(d, intercom_settings(fake), silenced=False)]
    assert all(await outbox.enqueue(actions))
    now = max([T0, *(a.created_at for a in actions)])
    claimed = await outbox.claim(now=now, lease=timedelta(seconds=60), limit=64)
    assert len(claimed) == len(actions)
    for action in claimed:
        if reached(action):
            await sender.send(action)
    return actions, SettableClock(now + timedelta(seconds=61))


async def _drain(dispatcher: OutboxDispatcher) -> None:
    while await dispatcher.run_once():
        pass


def _posts(fake: FakeIntercom, conversation: str, path: str) -> int:
    return len([c for c in fake.calls("POST", f"/conversations/{conversation}/{path}") if c.status == 200])


async def test_a_reply_sent_by_a_killed_worker_is_not_sent_again(
    outbox: SqlOutbox, fake: FakeIntercom, sender: IntercomSender
) -> None:
    actions, clock = await _killed_mid_send(outbox, fake, sender, [answered(11), handed_off(12)], lambda a: True)
    await _drain(OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER, concurrency=8))
    assert (_posts(fake, "11", "reply"), _posts(fake, "12", "reply"), _posts(fake, "12", "parts")) == (1, 1, 1)
    assert (_posts(fake, "11", "tags"), _posts(fake, "12", "tags")) == (2, 2)
    for action in actions:
        stored = await outbox.get(action.key)
        assert stored is not None and stored.status is ItemStatus.DONE and stored.attempts == 2, action.key
        assert (await outbox.result(action.key) or "").startswith(("conversation:", "tag:"))
    assert len(fake.calls("GET", "/conversations/")) == len(actions)  # each was checked before a second attempt


async def test_what_a_killed_worker_never_sent_is_sent_once_after_the_lease(
    outbox: SqlOutbox, fake: FakeIntercom, sender: IntercomSender
) -> None:
    reached: Callable[[OutboxAction], bool] = lambda a: a.key.endswith(":tag:autopilot:card_arrival")  # noqa: E731
    _, clock = await _killed_mid_send(outbox, fake, sender, [answered(21), answered(22)], reached)
    await _drain(OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER, concurrency=8))
    for conversation in ("21", "22"):
        comments = [p for p in fake.parts(conversation) if p["part_type"] == "comment"]
        assert len(comments) == 1 and "Cards arrive within 5 working days." in comments[0]["body"]
        assert _posts(fake, conversation, "tags") == 2  # the tag already there was not tagged again
    assert await outbox.pending("intercom") == 0


async def test_the_same_words_sent_before_the_decision_do_not_count_as_this_reply(
    outbox: SqlOutbox, fake: FakeIntercom, sender: IntercomSender
) -> None:
    earlier = answered(31)
    actions = plan_actions(earlier, intercom_settings(fake), silenced=False)
    await sender.send(actions[0])  # an identical answer to an earlier question, long ago
    fake.conversations["31"]["parts"][0]["created_at"] -= 3600
    later = replace(earlier, contact_id="intercom:c-31b", decided_at=datetime.now(UTC))
    _, clock = await _killed_mid_send(outbox, fake, sender, [later], lambda a: False)
    await _drain(OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER))
    assert len([p for p in fake.parts("31") if p["part_type"] == "comment"]) == 2


async def test_intercom_unreachable_while_reconciling_backs_off_without_sending(
    outbox: SqlOutbox, fake: FakeIntercom, sender: IntercomSender
) -> None:
    _, clock = await _killed_mid_send(outbox, fake, sender, [answered(41)], lambda a: False)
    fake.go_down(503)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    assert await dispatcher.run_once() == 3
    assert fake.calls("POST") == [] and await outbox.pending("intercom") == 3
    reply = await outbox.get("intercom:intercom:c-41:reply")
    assert reply is not None and "503" in reply.error
    fake.come_back()
    clock.advance(timedelta(seconds=5))
    await _drain(dispatcher)
    assert _posts(fake, "41", "reply") == 1 and await outbox.pending("intercom") == 0


async def test_concurrent_senders_record_what_they_sent_in_shared_transactions() -> None:
    writes: list[list[str]] = []

    class Counting(InMemoryOutbox):
        async def sent_many(self, results: Sequence[tuple[str, str]], *, now: datetime) -> None:
            writes.append([key for key, _ in results])
            await super().sent_many(results, now=now)

    outbox, clock = Counting(), SettableClock(T0)
    keys = [f"intercom:intercom:c{n}:reply" for n in range(12)]
    await outbox.enqueue([OutboxAction(k, "intercom", "reply", "{}", T0 - timedelta(seconds=1)) for k in keys])

    class Instant:
        async def send(self, action: OutboxAction) -> str:
            return f"done:{action.key}"

    dispatcher = OutboxDispatcher(outbox, {"intercom": Instant()}, clock, backoff=NO_JITTER, concurrency=8)
    assert await dispatcher.run_once() == 12
    assert sorted(k for write in writes for k in write) == sorted(keys) and len(writes) < 12
    assert all(outbox.results[k] == f"done:{k}" for k in keys) and await outbox.pending() == 0
