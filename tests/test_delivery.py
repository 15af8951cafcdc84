"""Inbox processing and outbox delivery loops, with the in-memory queues and a settable clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from automations.delivery import Backoff, InboxProcessor, OutboxDispatcher, PermanentFailure, RetryLater
from automations.fakes import SettableClock
from automations.fakes_queues import InMemoryInbox, InMemoryOutbox
from automations.queues import InboxItem, ItemStatus, OutboxAction

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_JITTER = Backoff(base_s=1.0, max_s=60.0, max_attempts=4, jitter=0.0)


class ScriptedSender:
    """Fails with the scripted exceptions in order, then succeeds; records every attempt."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.attempts: list[str] = []

    async def send(self, action: OutboxAction) -> str:
        self.attempts.append(action.key)
        if self.failures:
            raise self.failures.pop(0)
        return f"sent:{action.key}"


class ScriptedHandler:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.seen: list[str] = []

    async def handle(self, item: InboxItem) -> None:
        self.seen.append(item.id)
        if self.failures:
            raise self.failures.pop(0)


def action(key: str) -> OutboxAction:
    return OutboxAction(key=key, target="intercom", kind="reply", payload="{}", created_at=T0)


async def test_retry_after_is_honoured_then_the_action_is_sent() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    sender = ScriptedSender(RetryLater("429", retry_after=30), RetryLater("503"))
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    await outbox.enqueue([action("a")])
    assert await dispatcher.run_once() == 1
    assert (await outbox.get("a")).available_at == T0 + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await dispatcher.run_once() == 0  # not before Retry-After
    clock.advance(timedelta(seconds=1))
    assert await dispatcher.run_once() == 1  # second failure: exponential backoff, attempt 2 → 2 s
    assert (await outbox.get("a")).available_at == clock.now() + timedelta(seconds=2)
    clock.advance(timedelta(seconds=2))
    await dispatcher.run_once()
    assert (await outbox.get("a")).status is ItemStatus.DONE
    assert await outbox.result("a") == "sent:a"
    assert sender.attempts == ["a", "a", "a"]


async def test_retries_are_bounded() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    sender = ScriptedSender(*(RetryLater("500") for _ in range(10)))
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    await outbox.enqueue([action("a")])
    for _ in range(10):
        await dispatcher.run_once()
        clock.advance(timedelta(minutes=5))
    assert len(sender.attempts) == NO_JITTER.max_attempts
    assert (await outbox.get("a")).status is ItemStatus.DEAD


async def test_permanent_failure_is_not_retried() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    sender = ScriptedSender(PermanentFailure("404 conversation not found"))
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    await outbox.enqueue([action("a")])
    await dispatcher.run_once()
    clock.advance(timedelta(hours=1))
    assert await dispatcher.run_once() == 0
    assert (await outbox.get("a")).status is ItemStatus.DEAD
    assert sender.attempts == ["a"]


async def test_actions_without_a_sender_wait() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": ScriptedSender()}, clock)
    await outbox.enqueue([OutboxAction(key="s", target="slack", kind="post", payload="{}", created_at=T0)])
    assert await dispatcher.run_once() == 0
    assert await outbox.pending("slack") == 1


def test_backoff_grows_and_caps() -> None:
    assert [NO_JITTER.delay(n) for n in (1, 2, 3, 7, 20)] == [1.0, 2.0, 4.0, 60.0, 60.0]
    assert NO_JITTER.delay(3, retry_after=12.5) == 12.5


async def test_inbox_failures_retry_then_complete() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    handler = ScriptedHandler(RuntimeError("database hiccup"))
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, backoff=NO_JITTER)
    await inbox.accept(InboxItem(id="n1", source="intercom", kind="t", payload="{}", received_at=T0))
    await processor.run_once()
    assert (await inbox.get("n1")).status is ItemStatus.PENDING
    clock.advance(timedelta(seconds=1))
    await processor.run_once()
    assert (await inbox.get("n1")).status is ItemStatus.DONE
    assert handler.seen == ["n1", "n1"]


async def test_inbox_item_of_unknown_source_is_set_aside() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    processor = InboxProcessor(inbox, {}, clock)
    await inbox.accept(InboxItem(id="x", source="carrier-pigeon", kind="t", payload="{}", received_at=T0))
    await processor.run_once()
    assert (await inbox.get("x")).status is ItemStatus.DEAD


async def test_run_loop_processes_until_stopped() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)
    handler = ScriptedHandler()
    processor = InboxProcessor(inbox, {"intercom": handler}, clock)
    task = asyncio.create_task(processor.run())
    for n in range(5):
        await inbox.accept(InboxItem(id=f"n{n}", source="intercom", kind="t", payload="{}", received_at=T0))
        processor.wake()
    for _ in range(100):
        if len(handler.seen) == 5:
            break
        await asyncio.sleep(0.01)
    processor.stop()
    await asyncio.wait_for(task, 2)
    assert sorted(handler.seen) == [f"n{n}" for n in range(5)]


@pytest.mark.parametrize("attempts", [1, 5])
def test_backoff_jitter_stays_within_bounds(attempts: int) -> None:
    backoff = Backoff(base_s=1.0, max_s=60.0, jitter=0.1)
    base = min(2.0 ** (attempts - 1), 60.0)
    assert all(base <= backoff.delay(attempts) <= base * 1.1 for _ in range(50))


async def test_a_stopping_processor_finishes_the_item_in_hand_and_releases_the_rest() -> None:
    inbox, clock = InMemoryInbox(), SettableClock(T0)

    class StopsTheLoop(ScriptedHandler):
        async def handle(self, item: InboxItem) -> None:
            await super().handle(item)
            processor.stop()  # SIGTERM arrives while the first item is being handled

    handler = StopsTheLoop()
    processor = InboxProcessor(inbox, {"intercom": handler}, clock, lease=timedelta(seconds=60))
    for n in range(3):
        await inbox.accept(InboxItem(f"i{n}", "intercom", "k", "{}", T0 - timedelta(seconds=3 - n)))
    assert await processor.run_once() == 3
    assert handler.seen == ["i0"]
    assert (await inbox.get("i0")).status is ItemStatus.DONE
    again = await inbox.claim(now=clock.now(), lease=timedelta(seconds=60))  # due at once, not after the lease
    assert [(i.id, i.attempts) for i in again] == [("i1", 1), ("i2", 1)]


async def test_actions_about_one_contact_keep_their_order_while_others_go_out_concurrently() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    order: list[str] = []
    in_flight, peak = 0, 0

    class Slow:
        async def send(self, a: OutboxAction) -> str:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            order.append(a.key)
            in_flight -= 1
            return ""

    keys = [f"intercom:intercom:{c}:{step}" for c in ("p1", "p2", "p3") for step in ("reply", "tag:x")]
    start = T0 - timedelta(seconds=1)
    await outbox.enqueue(
        [OutboxAction(k, "intercom", "reply", "{}", start + timedelta(microseconds=i)) for i, k in enumerate(keys)]
    )
    dispatcher = OutboxDispatcher(outbox, {"intercom": Slow()}, clock, backoff=NO_JITTER, concurrency=8)
    assert await dispatcher.run_once() == 6
    assert peak == 3
    for contact in ("p1", "p2", "p3"):
        mine = [k for k in order if f":{contact}:" in k]
        assert mine == [f"intercom:intercom:{contact}:reply", f"intercom:intercom:{contact}:tag:x"]


async def test_a_running_dispatcher_claims_again_as_soon_as_a_send_frees_room() -> None:
    """Continuous claiming: an action that becomes due while slow sends are in flight (one another worker released
    on its way out) is started before those sends finish, not after a whole round."""
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    release, started = asyncio.Event(), []

    class Held:
        async def send(self, a: OutboxAction) -> str:
            started.append(a.key)
            if a.key.startswith("intercom:intercom:slow"):
                await release.wait()
            return ""

    slow = [f"intercom:intercom:slow{n}:reply" for n in range(3)]
    await outbox.enqueue([OutboxAction(k, "intercom", "reply", "{}", T0 - timedelta(seconds=1)) for k in slow])
    dispatcher = OutboxDispatcher(outbox, {"intercom": Held()}, clock, backoff=NO_JITTER, concurrency=4)
    running = asyncio.create_task(dispatcher.run())
    for _ in range(100):
        if len(started) == 3:
            break
        await asyncio.sleep(0.01)
    await outbox.enqueue([OutboxAction("intercom:intercom:late:reply", "intercom", "reply", "{}", T0)])
    dispatcher.wake()
    for _ in range(100):
        if "intercom:intercom:late:reply" in started:
            break
        await asyncio.sleep(0.01)
    assert "intercom:intercom:late:reply" in started  # while the three slow sends are still in flight
    assert [(await outbox.get(k)).status for k in slow] == [ItemStatus.PENDING] * 3  # type: ignore[union-attr]
    release.set()
    dispatcher.stop()
    await asyncio.wait_for(running, 2)
    for key in [*slow, "intercom:intercom:late:reply"]:
        assert (await outbox.get(key)).status is ItemStatus.DONE  # type: ignore[union-attr]


async def test_a_contacts_later_action_claimed_separately_still_waits_for_its_earlier_one() -> None:
    outbox, clock = InMemoryOutbox(), SettableClock(T0)
    release, order = asyncio.Event(), []

    class Held:
        async def send(self, a: OutboxAction) -> str:
            if a.key.endswith(":reply"):
                await release.wait()
            order.append(a.key)
            return ""

    await outbox.enqueue([OutboxAction("intercom:intercom:c1:reply", "intercom", "reply", "{}", T0)])
    dispatcher = OutboxDispatcher(outbox, {"intercom": Held()}, clock, backoff=NO_JITTER, concurrency=2)
    running = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.05)
    await outbox.enqueue([OutboxAction("intercom:intercom:c1:tag:x", "intercom", "tag", "{}", T0)])
    dispatcher.wake()
    await asyncio.sleep(0.1)
    assert order == []  # claimed, but queued behind the reply of the same contact
    release.set()
    for _ in range(100):
        if len(order) == 2:
            break
        await asyncio.sleep(0.01)
    dispatcher.stop()
    await asyncio.wait_for(running, 2)
    assert order == ["intercom:intercom:c1:reply", "intercom:intercom:c1:tag:x"]
