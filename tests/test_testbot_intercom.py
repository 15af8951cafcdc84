"""Intercom deliveries and the conversation state machine, driven through the in-memory bot (tests/testbot.py).

Moved from tests/test_intercom_webhooks.py, which keeps the flows that need the real model, index and database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from automations.conversations import AgentEventKind
from automations.models import Action
from automations.queues import OutboxAction
from bot.intercom.signing import SIGNATURE_HEADER, sign
from evals.intercom_payloads import (
    BOT_ADMIN_ID,
    HUMAN_ADMIN_ID,
    admin_assigned,
    admin_closed,
    admin_replied,
    notification,
    ping,
    rating_added,
    signed,
    user_created,
    user_replied,
)
from tests.testbot import TestBot

URL = "/intercom/webhooks"
ANSWERED = "Where is my card? It has not come yet"


def keys(bot: TestBot, conversation_id: str) -> set[str]:
    """Outbox keys of the actions about one Intercom conversation (Intercom's own and the Slack tier post)."""
    ours = {a.key for a in bot.effects("intercom") if f'"conversation_id":"{conversation_id}"' in a.payload}
    slack = {a.key for a in bot.effects("slack") if f"intercom:{conversation_id}" in a.payload}
    return ours | slack


def reply_key(part_id: str) -> str:
    return f"intercom:intercom:{part_id}:reply"


async def test_unsigned_and_forged_deliveries_get_401_and_store_nothing(testbot: TestBot) -> None:
    body, headers = signed(user_created("c401", ANSWERED))
    unsigned = {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}
    assert (await testbot.http.post(URL, content=body, headers=unsigned)).status_code == 401
    forged = {**headers, SIGNATURE_HEADER: sign(body, "not-the-secret")}
    assert (await testbot.http.post(URL, content=body, headers=forged)).status_code == 401
    tampered = body.replace(b"card", b"cart")
    assert (await testbot.http.post(URL, content=tampered, headers=headers)).status_code == 401
    assert await testbot.service.context.inbox.pending() == 0


async def test_malformed_deliveries_get_400(testbot: TestBot) -> None:
    async def post(body: bytes) -> int:
        _, headers = signed(body)
        return (await testbot.http.post(URL, content=body, headers=headers)).status_code

    assert await post(b'{"type": "notification_event", "topic": ') == 400
    assert await post(b"[1, 2, 3]") == 400
    assert (
        await testbot.intercom({"type": "notification_event", "topic": "conversation.user.created"})
    ).status_code == 400
    no_conversation = notification("conversation.user.created", {"type": "conversation", "source": "x"})
    assert (await testbot.intercom(no_conversation)).status_code == 400
    assert await testbot.service.context.inbox.pending() == 0


async def test_oversized_deliveries_get_413_through_the_route(testbot: TestBot) -> None:
    payload = user_created("c413", "x" * (1024 * 1024))
    assert (await testbot.intercom(payload)).status_code == 413
    body, headers = signed(payload)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is enforced while streaming
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    assert (await testbot.http.post(URL, content=chunks(), headers=headers)).status_code == 413
    assert await testbot.service.context.inbox.pending() == 0


async def test_ping_and_other_topics_are_acknowledged_and_not_stored(testbot: TestBot) -> None:
    response = await testbot.intercom(ping())
    assert response.status_code == 200 and response.json() == {"status": "pong"}
    assert (await testbot.intercom(notification("contact.user.created", {"type": "contact", "id": "abc"}))).is_success
    assert testbot.service.context.inbox.items == {}  # type: ignore[attr-defined]
    metrics = (await testbot.http.get("/metrics")).text
    assert 'autopilot_intercom_webhooks_total{result="ping",topic="ping"} 1.0' in metrics
    assert 'autopilot_intercom_webhooks_total{result="ignored",topic="other"} 1.0' in metrics


async def test_a_human_takeover_silences_the_bot_but_contacts_are_still_recorded(testbot: TestBot) -> None:
    context = testbot.service.context
    await testbot.intercom(user_created("1005", "Can I speak to a real person about my card?", message_id="1005-m1"))
    handed = await testbot.store.get_decision("intercom:1005-m1")
    assert handed is not None and handed.action is Action.HANDOFF
    # the bot's own reply and assignment (as INTERCOM_BOT_ADMIN_ID) are not a takeover
    await testbot.intercom(admin_assigned("1005", admin_id=BOT_ADMIN_ID, assignee_id=BOT_ADMIN_ID))
    await testbot.intercom(admin_replied("1005", admin_id=BOT_ADMIN_ID))
    state = await context.conversations.get("intercom:1005")
    assert state is not None and not state.bot_silenced
    await testbot.intercom(admin_assigned("1005"))
    await testbot.intercom(admin_replied("1005"))
    state = await context.conversations.get("intercom:1005")
    assert state is not None and state.bot_silenced
    events = await context.conversations.agent_events("intercom:1005-m1")
    assert [e.kind for e in events] == [AgentEventKind.ASSIGNED, AgentEventKind.FIRST_RESPONSE]
    await testbot.intercom(user_replied("1005", ANSWERED, part_id="1005-p3"))
    recorded = await testbot.store.get_decision("intercom:1005-p3")
    assert recorded is not None and recorded.action is Action.ANSWER  # recorded for reporting...
    assert reply_key("1005-p3") not in keys(testbot, "1005")  # ...but nothing is said to the customer
    assert "slack:handoff:intercom:1005-p3" not in keys(testbot, "1005")


async def test_a_teammate_in_the_payload_silences_the_bot_even_before_its_own_webhook(testbot: TestBot) -> None:
    await testbot.intercom(user_replied("1006", ANSWERED, part_id="1006-p1", teammates=[HUMAN_ADMIN_ID]))
    assert await testbot.store.get_decision("intercom:1006-p1") is not None
    assert reply_key("1006-p1") not in keys(testbot, "1006")
    state = await testbot.service.context.conversations.get("intercom:1006")
    assert state is not None and state.bot_silenced


async def test_close_and_rating_feed_the_outcomes_once(testbot: TestBot) -> None:
    context = testbot.service.context
    await testbot.intercom(user_created("1007", "Can I speak to a real person about my card?", message_id="1007-m1"))
    for payload in (admin_closed("1007"), rating_added("1007", 4, "Quick, thanks. Call me on 07700 900123")):
        assert (await testbot.intercom(payload)).status_code == 200
    contact = "intercom:1007-m1"
    assert [e.kind for e in await context.conversations.agent_events(contact)] == [
        AgentEventKind.CLOSED,
        AgentEventKind.CSAT,
    ]
    feedback = await testbot.store.feedback_for(contact)
    assert [(f.csat, f.source) for f in feedback] == [(4, "customer")]
    assert "07700" not in feedback[0].comment and "[PHONE]" in feedback[0].comment
    state = await context.conversations.get("intercom:1007")
    assert state is not None and state.closed_at is not None
    # a replay of both items (crash before they were marked done) records nothing twice
    handler = testbot.service.processor._handlers["intercom"]
    inbox = context.inbox.items.values()  # type: ignore[attr-defined]
    for item in [i for i in inbox if i.kind in ("conversation.admin.closed", "conversation.rating.added")]:
        await handler.handle(item)
    assert len(await context.conversations.agent_events(contact)) == 2
    assert len(await testbot.store.feedback_for(contact)) == 1


async def test_rating_on_an_unknown_conversation_is_acknowledged_and_dropped(testbot: TestBot) -> None:
    assert (await testbot.intercom(rating_added("1099", 5))).status_code == 200
    metrics = (await testbot.http.get("/metrics")).text
    assert 'autopilot_intercom_processed_total{result="unknown_conversation",topic="conversation.rating.added"}' in (
        metrics
    )
    assert not [a for a in testbot.effects() if isinstance(a, OutboxAction) and "1099" in a.payload]
