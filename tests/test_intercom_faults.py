"""The Intercom SDK sender driven by the OutboxDispatcher against a fault-injecting fake Intercom (real HTTP).

Real outbox tables (SQLite and PostgreSQL), the real ``python-intercom`` async client, a real local HTTP server. A
settable clock makes backoff checkable to the second; one test runs the real dispatcher loop in real time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from automations.delivery import Backoff, OutboxDispatcher
from automations.fakes import SettableClock
from automations.models import Action, Channel, Decision, Handoff
from automations.queues import ItemStatus, OutboxAction
from bench.fakes.intercom_server import FakeIntercom
from bot.composition import SystemClock
from bot.intercom.actions import plan_actions
from bot.intercom.sender import IntercomSender
from store.queues import SqlOutbox
from tests.plugins.intercom_http import ADMIN, intercom_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_JITTER = Backoff(base_s=1.0, max_s=60.0, max_attempts=5, jitter=0.0)


def answered(n: int) -> Decision:
    return Decision(
        contact_id=f"intercom:c-{n}", channel=Channel.CUSTOMER, text="where is my card", category="card_arrival",
        group="cards", confidence=0.93, action=Action.ANSWER, tier="bot", reason="answered", decided_at=T0,
        conversation_id=f"intercom:{n}", source="intercom", reply="Cards arrive within 5 working days.",
        article_id="card-delivery", article_url="https://help.example.test/card-delivery",
    )  # fmt: skip


def handed_off(n: int) -> Decision:
    handoff = Handoff(
        tier="fraud", reason="safety:suspected_fraud", summary="Unknown payment on the statement.",
        first_response_due=T0 + timedelta(minutes=15), resolution_due=T0 + timedelta(hours=4),
    )  # fmt: skip
    return replace(
        answered(n), action=Action.HANDOFF, tier="fraud", reason="safety:suspected_fraud", category="suspected_fraud",
        reply=None, article_id=None, article_url=None, handoff=handoff,
    )  # fmt: skip


async def queue(outbox: SqlOutbox, fake: FakeIntercom, *decisions: Decision) -> list[OutboxAction]:
    actions = [a for d in decisions for a in plan_actions(d, intercom_settings(fake), silenced=False)]
    assert all(await outbox.enqueue(actions))
    return actions


async def test_429_retry_after_is_honoured_and_the_sdk_does_not_retry_on_its_own(
    fake: FakeIntercom, outbox: SqlOutbox, sender: IntercomSender
) -> None:
    clock = SettableClock(T0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    await queue(outbox, fake, answered(215))
    fake.fail(1, 429, retry_after=7, path_contains="/reply")

    await dispatcher.run_once()
    reply = await outbox.get("intercom:intercom:c-215:reply")
    assert reply is not None and reply.status is ItemStatus.PENDING and reply.attempts == 1
    assert reply.available_at == T0 + timedelta(seconds=7) and "429" in reply.error
    assert [r.status for r in fake.calls("POST", "/reply")] == [429]  # one HTTP request per attempt
    assert await outbox.pending("intercom") == 1  # the two tags went through

    clock.advance(timedelta(seconds=6))
    assert await dispatcher.run_once() == 0
    assert len(fake.calls("POST", "/reply")) == 1  # nothing sent before Retry-After

    clock.advance(timedelta(seconds=1))
    assert await dispatcher.run_once() == 1
    assert (await outbox.get(reply.key)).status is ItemStatus.DONE  # type: ignore[union-attr]
    comments = [p for p in fake.parts("215") if p["part_type"] == "comment"]
    assert len(comments) == 1 and comments[0]["author"]["id"] == ADMIN
    assert "Did that help?" in comments[0]["body"] and "card-delivery" in comments[0]["body"]
    assert {fake.tags[t]["name"] for t in fake.conversations["215"]["tags"]} == {
        "autopilot:card_arrival",
        "autopilot:answered",
    }
    first = fake.calls("POST", "/reply")[0]
    assert first.headers["authorization"] == f"Bearer {fake.token}" and first.headers["intercom-version"] == "2.14"


async def test_server_errors_back_off_exponentially_and_attempts_are_bounded(
    fake: FakeIntercom, outbox: SqlOutbox, sender: IntercomSender
) -> None:
    clock = SettableClock(T0)
    backoff = replace(NO_JITTER, max_attempts=3)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=backoff)
    await queue(outbox, fake, answered(7))
    fake.fail(100, 500, path_contains="/reply")
    key = "intercom:intercom:c-7:reply"
    delays = []
    for _ in range(10):
        before = clock.now()
        await dispatcher.run_once()
        action = await outbox.get(key)
        assert action is not None
        if action.status is ItemStatus.DEAD:
            break
        assert action.available_at is not None
        delays.append((action.available_at - before).total_seconds())
        clock.advance(action.available_at - before)
    assert action.status is ItemStatus.DEAD and "500" in action.error
    assert delays == [1.0, 2.0]  # 2^(attempt-1) seconds, then the third failure is the last
    assert [r.status for r in fake.calls("POST", "/reply")] == [500, 500, 500]
    assert not [p for p in fake.parts("7") if p["part_type"] == "comment"]


async def test_a_hanging_intercom_times_out_and_the_action_is_retried(
    fake: FakeIntercom, outbox: SqlOutbox, sender: IntercomSender
) -> None:
    clock = SettableClock(T0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=NO_JITTER)
    await queue(outbox, fake, answered(9))
    fake.hang(1, 30.0, path_contains="/reply")
    started = time.monotonic()
    await dispatcher.run_once()
    assert time.monotonic() - started < 10  # the 2 s client timeout, not the 30 s hang
    action = await outbox.get("intercom:intercom:c-9:reply")
    assert action is not None and action.status is ItemStatus.PENDING and "timed out" in action.error
    clock.advance(timedelta(seconds=1))
    await dispatcher.run_once()
    assert (await outbox.get(action.key)).status is ItemStatus.DONE  # type: ignore[union-attr]
    assert len([p for p in fake.parts("9") if p["part_type"] == "comment"]) == 1


async def test_client_errors_are_permanent_after_one_request(
    fake: FakeIntercom, outbox: SqlOutbox, sender: IntercomSender
) -> None:
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, SettableClock(T0), backoff=NO_JITTER)
    await queue(outbox, fake, answered(11))
    fake.fail(1, 404, path_contains="/reply")
    await dispatcher.run_once()
    action = await outbox.get("intercom:intercom:c-11:reply")
    assert action is not None and action.status is ItemStatus.DEAD and "404" in action.error
    assert len(fake.calls("POST", "/reply")) == 1


@pytest.mark.parametrize("outage", ["connection_refused", "503"])
async def test_while_intercom_is_down_actions_queue_and_go_out_once_when_it_is_back(
    fake: FakeIntercom, outbox: SqlOutbox, sender: IntercomSender, outage: str
) -> None:
    clock = SettableClock(T0)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, clock, backoff=replace(NO_JITTER, max_attempts=25))
    if outage == "503":
        fake.go_down(503)
    else:
        fake.stop()
    actions = await queue(outbox, fake, answered(1), answered(2), handed_off(3))
    for _ in range(4):  # four rounds of failures while it is down
        await dispatcher.run_once()
        clock.advance(timedelta(seconds=60))
    assert await outbox.pending("intercom") == len(actions)
    assert not fake.conversations
    for action in actions:
        stored = await outbox.get(action.key)
        assert stored is not None and stored.attempts == 4 and stored.status is ItemStatus.PENDING

    if outage == "503":
        fake.come_back()
    else:
        fake.start()
    clock.advance(timedelta(seconds=60))
    while await dispatcher.run_once():
        pass
    assert await outbox.pending("intercom") == 0
    for action in actions:
        assert (await outbox.get(action.key)).status is ItemStatus.DONE  # type: ignore[union-attr]
    for n in ("1", "2"):
        assert [p["part_type"] for p in fake.parts(n)] == ["comment"]
    assert [p["part_type"] for p in fake.parts("3")] == ["note", "assignment"]
    assert fake.conversations["3"]["team_assignee_id"] == "9004"
    assert "Unknown payment on the statement." in fake.parts("3")[0]["body"]
    # each tag is created once and then reused by id across conversations
    created = [r.body["name"] for r in fake.calls("POST") if r.path == "/tags" and r.status == 200]
    assert sorted(created) == sorted(set(created))


async def test_the_real_dispatcher_loop_waits_for_retry_after(fake: FakeIntercom, outbox: SqlOutbox) -> None:
    sender = IntercomSender.from_settings(intercom_settings(fake, timeout_s=5.0))
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, SystemClock(), backoff=NO_JITTER)
    fake.fail(1, 429, retry_after=1, path_contains="/reply")
    actions = plan_actions(replace(answered(31), decided_at=datetime.now(UTC)), intercom_settings(fake), silenced=False)
    await outbox.enqueue(actions)
    task = asyncio.create_task(dispatcher.run())
    deadline = time.monotonic() + 15
    try:
        while await outbox.pending("intercom") and time.monotonic() < deadline:  # noqa: ASYNC110 - polling the DB
            await asyncio.sleep(0.05)
    finally:
        dispatcher.stop()
        await task
        await sender.aclose()
    first, second = fake.calls("POST", "/reply")
    assert (first.status, second.status) == (429, 200)
    assert 1.0 <= second.at - first.at < 5.0
