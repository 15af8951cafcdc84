"""Backpressure: a process's inbox loops claim no new batch while its outbox dispatcher is behind."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from automations.backpressure import OutboxBacklog
from automations.delivery import InboxProcessor, OutboxDispatcher
from automations.fakes import SettableClock
from automations.fakes_queues import InMemoryInbox, InMemoryOutbox
from automations.queues import InboxItem, ItemStatus, OutboxAction

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class HeldSender:
    """Sends once :attr:`go` is set; records what it sent."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, action: OutboxAction) -> str:
        await self.go.wait()
        self.sent.append(action.key)
        return "ok"


class Handler:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, item: InboxItem) -> None:
        self.seen.append(item.id)


class BrokenMarks(InMemoryOutbox):
    """Cannot record a performed action (the database went away mid-round)."""

    async def sent_many(self, results: Sequence[tuple[str, str]], *, now: datetime) -> None:
        raise ConnectionError("database gone")


def action(key: str) -> OutboxAction:
    return OutboxAction(key=key, target="intercom", kind="reply", payload="{}", created_at=T0)


def item(n: int) -> InboxItem:
    return InboxItem(id=f"i{n}", source="intercom", kind="notification", payload="{}", received_at=T0)


async def settle_loop() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_the_backlog_is_clear_up_to_its_limit_and_after_a_claim_that_was_not_full() -> None:
    backlog = OutboxBacklog(limit=2)
    backlog.claimed(["intercom"], 3, full=False)
    assert not backlog.clear and backlog.in_hand == 3
    backlog.settled(1)
    assert backlog.clear
    backlog.claimed(["intercom"], 1, full=True)  # more are due than the dispatcher took
    backlog.settled(3)
    assert not backlog.clear and backlog.in_hand == 0
    backlog.claimed(["slack"], 0, full=False)  # another target's claim says nothing about this one
    assert not backlog.clear
    backlog.claimed(["intercom"], 0, full=False)
    assert backlog.clear


async def test_inbox_waits_while_the_dispatcher_has_more_than_the_limit_in_hand() -> None:
    inbox, outbox, clock = InMemoryInbox(), InMemoryOutbox(), SettableClock(T0)
    backlog, sender, handler = OutboxBacklog(limit=1, max_wait_s=60), HeldSender(), Handler()
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backlog=backlog)
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backlog=backlog)
    await outbox.enqueue([action("a"), action("b"), action("c")])
    await inbox.accept(item(1))
    sending = asyncio.create_task(dispatcher.run_once())
    await settle_loop()
    assert backlog.in_hand == 3
    deciding = asyncio.create_task(processor.run_once())
    await settle_loop()
    assert handler.seen == [] and (await inbox.get("i1")).attempts == 0  # not even claimed
    sender.go.set()
    assert await sending == 3 and backlog.in_hand == 0
    assert await deciding == 1 and handler.seen == ["i1"]
    assert sorted(sender.sent) == ["a", "b", "c"]
    assert backlog.waited_s > 0


async def test_inbox_is_not_held_without_a_backlog_above_the_limit() -> None:
    inbox, outbox, clock = InMemoryInbox(), InMemoryOutbox(), SettableClock(T0)
    backlog, sender, handler = OutboxBacklog(limit=4, max_wait_s=60), HeldSender(), Handler()
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backlog=backlog)
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backlog=backlog)
    await outbox.enqueue([action("a")])
    await inbox.accept(item(1))
    sending = asyncio.create_task(dispatcher.run_once())
    await settle_loop()
    assert await processor.run_once() == 1 and handler.seen == ["i1"]  # one action in hand: under the limit
    sender.go.set()
    await sending


async def test_a_stopping_inbox_loop_stops_waiting_and_claims_nothing() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    backlog, handler = OutboxBacklog(limit=0, max_wait_s=60, poll_s=0.01), Handler()
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backlog=backlog)
    await inbox.accept(item(1))
    backlog.claimed(["intercom"], 1, full=False)
    waiting = asyncio.create_task(processor.run_once())
    await settle_loop()
    processor.stop()
    assert await asyncio.wait_for(waiting, 1) == 0
    got = await inbox.get("i1")
    assert got is not None and got.status is ItemStatus.PENDING and got.attempts == 0


async def test_a_stuck_dispatcher_holds_the_inbox_back_for_at_most_max_wait() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    backlog, handler = OutboxBacklog(limit=0, max_wait_s=0.05, poll_s=0.01), Handler()
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backlog=backlog)
    await inbox.accept(item(1))
    backlog.claimed(["intercom"], 5, full=True)
    assert await asyncio.wait_for(processor.run_once(), 1) == 1 and handler.seen == ["i1"]


async def test_a_failing_round_leaves_nothing_in_hand() -> None:
    outbox, clock, sender = BrokenMarks(), SettableClock(T0), HeldSender()
    backlog = OutboxBacklog(limit=0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backlog=backlog)
    await outbox.enqueue([action("a"), action("b")])
    sender.go.set()
    try:
        await dispatcher.run_once()
    except ConnectionError:
        pass
    else:  # pragma: no cover - the round must fail
        raise AssertionError("the round did not fail")
    assert backlog.in_hand == 0 and backlog.clear


async def test_actions_handed_back_on_stop_are_no_longer_in_hand() -> None:
    outbox, clock, sender = InMemoryOutbox(), SettableClock(T0), HeldSender()
    backlog = OutboxBacklog(limit=0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backlog=backlog, concurrency=1)
    await outbox.enqueue([action("a"), action("b")])
    sending = asyncio.create_task(dispatcher.run_once())
    await settle_loop()
    dispatcher.stop()
    sender.go.set()
    assert await sending == 2
    assert sender.sent == ["a"] and backlog.in_hand == 0  # "b" was handed back, not started
    assert (await outbox.get("b")).status is ItemStatus.PENDING


class SlowHandler(Handler):
    """Decides once :attr:`go` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()

    async def handle(self, item: InboxItem) -> None:
        self.seen.append(item.id)
        await self.go.wait()


async def test_with_actions_in_hand_one_batch_is_decided_at_a_time() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    backlog, handler = OutboxBacklog(limit=8, max_wait_s=60, poll_s=0.01), SlowHandler()
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backlog=backlog, batch=1)
    for n in (1, 2, 3):
        await inbox.accept(item(n))
    both = [asyncio.create_task(processor.run_once()) for _ in range(2)]  # nothing in hand: both loops decide
    await settle_loop()
    assert handler.seen == ["i1", "i2"]
    backlog.claimed(["intercom"], 1, full=False)  # replies to send: no second batch beside the one in hand
    handler.go.set()
    await asyncio.gather(*both)
    handler.go.clear()
    first, second = asyncio.create_task(processor.run_once()), asyncio.create_task(processor.run_once())
    await settle_loop()
    assert handler.seen == ["i1", "i2", "i3"]  # one claimed, the other loop waits its turn
    handler.go.set()
    assert sorted([await first, await second]) == [0, 1]
    backlog.settled(1)
    assert backlog.open


class FailsFirst:
    """Fails ``a`` at once; sends the others once :attr:`go` is set."""

    def __init__(self) -> None:
        self.go = asyncio.Event()

    async def send(self, action: OutboxAction) -> str:
        if action.key == "a":
            raise ValueError("boom")
        await self.go.wait()
        return "ok"


class BrokenRetry(InMemoryOutbox):
    async def retry(self, key: str, *, error: str, at: datetime) -> None:
        raise ConnectionError("database gone")


async def test_a_failed_rounds_late_actions_do_not_count_against_another_round() -> None:
    outbox, clock, sender = BrokenRetry(), SettableClock(T0), FailsFirst()
    backlog = OutboxBacklog(limit=0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backlog=backlog)
    await outbox.enqueue([action("a"), action("b")])
    sending = asyncio.create_task(dispatcher.run_once())
    await settle_loop()
    assert sending.done() and isinstance(sending.exception(), ConnectionError)
    assert backlog.in_hand == 0
    backlog.claimed(["slack"], 2, full=False)  # another target's round
    sender.go.set()
    await settle_loop()  # "b" of the failed round is sent now
    assert backlog.in_hand == 2
