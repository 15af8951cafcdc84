"""Hand-offs in the tiers' Slack channels: the post every hand-off queues, and the Claim button.

:func:`handoff_effect` is the Slack entry of ``Parts.handoff_effects``: the channel that received a customer contact
queues its result together with its own actions, keyed ``slack:handoff:<contact_id>``, so a replay never posts twice
and a Slack outage only delays the post. Claiming records an ``AgentEvent`` ``claimed`` and replaces the button with
who claimed it (an ``update_message`` action).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from automations.conversations import AgentEvent, AgentEventKind, Conversations
from automations.effects import HandoffEffect, OutboxKeys
from automations.models import Action, Channel, Decision
from automations.ports import Clock, EventStore
from automations.queues import Outbox, OutboxAction
from automations.taxonomy import FALLBACK_TIER
from bot.slack.blocks import CLAIM_ACTION, claimed_message, handoff_message

__all__ = ["handoff_effect", "register_claims"]

log = logging.getLogger("autopilot.slack")


def handoff_effect(tier_channels: dict[str, str], *, app_id: str | None, clock: Clock) -> HandoffEffect:
    """Decision → the tier-channel post (the t1 channel for a tier without one; nothing for bot answers)."""

    def effect(decision: Decision) -> list[OutboxAction]:
        if decision.action is not Action.HANDOFF or decision.handoff is None:
            return []
        if decision.channel is not Channel.CUSTOMER:
            return []  # an agent's own unanswered question is answered in their thread, not escalated
        channel = tier_channels.get(decision.tier) or tier_channels.get(FALLBACK_TIER)
        if channel is None:
            log.warning("no Slack channel for tier %s: hand-off %s not posted", decision.tier, decision.contact_id)
            return []
        message = handoff_message(decision, app_id=app_id)
        payload = {"channel": channel, "tier": decision.tier, "contact_id": decision.contact_id, **message.to_json()}
        action = OutboxAction(
            key=OutboxKeys.slack_handoff(decision.contact_id), target="slack", kind="post_handoff",
            payload=json.dumps(payload), created_at=clock.now(),
        )  # fmt: skip
        return [action]

    return effect


def register_claims(
    app: AsyncApp, *, store: EventStore, conversations: Conversations, outbox: Outbox, clock: Clock,
    app_id: str | None,
) -> None:  # fmt: skip
    """The Claim button: first claim wins; later clicks are told who has it."""

    @app.action(CLAIM_ACTION)
    async def claim(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        contact_id = body["actions"][0]["value"]
        decision = await store.get_decision(contact_id)
        if decision is None or decision.handoff is None:
            await respond(
                text="I can't find that hand-off any more.", response_type="ephemeral", replace_original=False
            )
            return
        earlier = [e for e in await conversations.agent_events(contact_id) if e.kind is AgentEventKind.CLAIMED]
        if earlier:
            await respond(
                text=f"Already claimed by <@{earlier[0].actor}>.", response_type="ephemeral", replace_original=False
            )
            return
        now = clock.now()
        await conversations.record_agent_event(AgentEvent(contact_id, AgentEventKind.CLAIMED, now, actor=user))
        container = body.get("container", {})
        channel = container.get("channel_id") or body["channel"]["id"]
        ts = container.get("message_ts") or body["message"]["ts"]
        message = claimed_message(decision, app_id=app_id, user_id=user, at=now)
        action = OutboxAction(
            key=OutboxKeys.slack_claim(contact_id), target="slack", kind="update_message",
            payload=json.dumps({"channel": channel, "ts": ts, **message.to_json()}), created_at=now,
        )  # fmt: skip
        await outbox.enqueue([action])
