"""Agents ask the bot in Slack: app mentions, DMs and follow-ups in a thread the bot answered.

The listener only parses, redacts and writes the question to the inbox (id ``slack:<event_id>``), then Bolt
acknowledges: nothing slow runs before the 3-second deadline, a redelivery (``X-Slack-Retry-Num``) finds its id
already there, and a crash after the acknowledgement loses nothing. A worker then runs the core pipeline on the
``agent`` channel (internal articles allowed) and queues the threaded answer in the outbox (key
``slack:answer:<event_id>``). A follow-up in a thread is combined with the thread's earlier question for retrieval;
thread state lives in ``Conversations`` under ``slack:<channel>:<thread_ts>``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block

from automations.effects import OutboxKeys
from automations.models import Channel, Contact, Feedback
from automations.queues import InboxItem, OutboxAction
from automations.redaction import Redactor
from bot.context import Context
from bot.slack.blocks import FEEDBACK_BLOCK, HELPFUL_ACTION, NOT_HELPFUL_ACTION, answer_message, check_blocks
from bot.slack.blocks import context as context_line

__all__ = ["AgentQuestion", "SlackItemHandler", "register_agents"]

log = logging.getLogger("autopilot.slack")
CONTEXT_CHARS = 600
"""How much of the thread's earlier question is carried into a follow-up's retrieval."""


class SlackEvent(BaseModel):
    """The fields of a Slack ``app_mention`` / ``message`` event the bot uses."""

    model_config = ConfigDict(extra="ignore")

    type: str
    channel: str = ""
    user: str | None = None
    text: str = ""
    ts: str = ""
    thread_ts: str | None = None
    channel_type: str | None = None
    subtype: str | None = None
    bot_id: str | None = None


class AgentQuestion(BaseModel):
    """An agent's question as stored in the inbox (text already redacted)."""

    event_id: str
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str
    kind: Literal["mention", "dm", "thread"]

    @property
    def conversation_id(self) -> str:
        """The thread's conversation id."""
        return f"slack:{self.channel}:{self.thread_ts}"


def _question(body: dict[str, Any], event: SlackEvent, kind: str, bot_user_id: str | None) -> AgentQuestion | None:
    text = event.text
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = " ".join(Redactor().redact(text).text.split())
    if not text or not event.user or not event.ts or "event_id" not in body:
        return None
    return AgentQuestion(
        event_id=body["event_id"], channel=event.channel, user=event.user, text=text, ts=event.ts,
        thread_ts=event.thread_ts or event.ts, kind=kind,  # type: ignore[arg-type]
    )  # fmt: skip


def register_agents(app: AsyncApp, service: Context) -> None:
    """Mention, DM and thread listeners (persist, then ack) and the Helpful / Not helpful buttons."""

    async def accept(body: dict[str, Any], event: SlackEvent, kind: str, bot_user_id: str | None) -> None:
        question = _question(body, event, kind, bot_user_id)
        if question is None:
            return
        item = InboxItem(
            id=f"slack:{question.event_id}", source="slack", kind="question", payload=question.model_dump_json(),
            received_at=service.clock.now(),
        )  # fmt: skip
        if not await service.inbox.accept(item):
            log.info("slack event %s redelivered; already in the inbox", question.event_id)

    @app.event("app_mention")
    async def mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await accept(body, SlackEvent.model_validate(body["event"]), "mention", context.bot_user_id)

    @app.event("message")
    async def message(body: dict[str, Any], context: AsyncBoltContext) -> None:
        event = SlackEvent.model_validate(body["event"])
        if event.subtype or event.bot_id or not event.user or event.user == context.bot_user_id:
            return
        if event.channel_type == "im":
            await accept(body, event, "dm", context.bot_user_id)
            return
        mentioned = context.bot_user_id is not None and f"<@{context.bot_user_id}>" in event.text
        if event.thread_ts and not mentioned:  # a mention arrives as app_mention too: answer it once
            known = await service.conversations.get(f"slack:{event.channel}:{event.thread_ts}")
            if known is not None and known.last_contact_id is not None:
                await accept(body, event, "thread", context.bot_user_id)

    @app.action(re.compile(f"^({HELPFUL_ACTION}|{NOT_HELPFUL_ACTION})$"))
    async def feedback(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user, action = body["user"]["id"], body["actions"][0]
        contact_id, helpful = action["value"], action["action_id"] == HELPFUL_ACTION
        store = service.core.store
        if any(f.source == "agent" and f.comment == f"slack:{user}" for f in await store.feedback_for(contact_id)):
            await respond(text="You already rated this answer.", response_type="ephemeral", replace_original=False)
            return
        now = service.clock.now()
        await store.record_feedback(Feedback(contact_id, now, helpful=helpful, source="agent", comment=f"slack:{user}"))
        original = (body.get("message") or {}).get("blocks")
        if original:
            kept = [b for b in Block.parse_all(original) if b is not None and b.block_id != FEEDBACK_BLOCK]
        else:
            decision = await store.get_decision(contact_id)
            kept = [b for b in Block.parse_all(list(answer_message(decision).blocks)) if b.block_id != FEEDBACK_BLOCK] \
                if decision else []  # fmt: skip
        verdict = "helpful" if helpful else "not helpful"
        blocks = check_blocks([*kept, context_line(f"Rated *{verdict}* by <@{user}> — thanks, this tunes the KB.")])
        container = body.get("container", {})
        payload = {
            "channel": container.get("channel_id") or body["channel"]["id"],
            "ts": container.get("message_ts") or body["message"]["ts"],
            "text": (body.get("message") or {}).get("text") or "Answer",
            "blocks": list(blocks),
        }
        action = OutboxAction(
            key=OutboxKeys.slack_feedback(contact_id, user), target="slack", kind="update_message",
            payload=json.dumps(payload), created_at=now,
        )  # fmt: skip
        await service.outbox.enqueue([action])


class SlackItemHandler:
    """Inbox handler for source ``slack``: answers agents' questions through the core pipeline."""

    def __init__(self, service: Context) -> None:
        """Use the service's core, conversations and outbox."""
        self._service = service

    async def handle(self, item: InboxItem) -> None:
        """Answer one question (idempotent: the pipeline and the outbox key dedupe a replay)."""
        if item.kind != "question":
            raise ValueError(f"unknown slack inbox kind {item.kind!r}")
        service = self._service
        question = AgentQuestion.model_validate_json(item.payload)
        contact_id = f"slack:{question.event_id}"
        flow = service.flow
        text = await flow.with_thread_context(question.conversation_id, contact_id, question.text, chars=CONTEXT_CHARS)
        contact = Contact(
            id=contact_id, text=text, channel=Channel.AGENT, received_at=item.received_at,
            conversation_id=question.conversation_id, source="slack",
        )  # fmt: skip
        decision = await service.core.pipeline.handle(contact)
        message = answer_message(decision)
        payload = {"channel": question.channel, "thread_ts": question.thread_ts, **message.to_json()}
        action = OutboxAction(
            key=OutboxKeys.slack_answer(question.event_id), target="slack", kind="post_message",
            payload=json.dumps(payload), created_at=service.clock.now(),
        )  # fmt: skip
        await flow.answered(question.conversation_id, contact_id, decision, action)
