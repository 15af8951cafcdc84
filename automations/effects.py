"""Effect planning: a decision becomes outbox actions, with every idempotency key format in one place.

The channel that received a contact plans its own actions (an Intercom reply or note, a Slack thread answer) with
its :class:`ChannelPlanner`; every other channel adds its hand-off effect (a tier-channel post) through
:class:`EffectPlanner`. Keys are deterministic, so planning the same decision twice queues each effect once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from automations.models import Action, Decision
from automations.queues import OutboxAction

__all__ = ["ChannelPlanner", "EffectPlanner", "HandoffEffect", "OutboxKeys", "ReplyScreen"]

log = logging.getLogger("autopilot.effects")

HandoffEffect = Callable[[Decision], list[OutboxAction]]
"""Outbox actions another channel performs when ``decision`` hands a contact off (e.g. a Slack tier post)."""
ReplyScreen = Callable[[Decision], str | None]
"""Why a decision's customer reply must not go out (the offending sentence), or ``None``: the no-tipping-off check
(:meth:`automations.nondisclosure.NonDisclosure.screen`)."""


class OutboxKeys:
    """Every outbox idempotency key format (the README's operations section lists them)."""

    @staticmethod
    def intercom(contact_id: str, step: str) -> str:
        """One step (``reply``, ``note``, ``assign``, ``tag``...) of the Intercom actions for a contact."""
        return f"intercom:{contact_id}:{step}"

    @staticmethod
    def slack_handoff(contact_id: str) -> str:
        """The hand-off post in the tier's Slack channel."""
        return f"slack:handoff:{contact_id}"

    @staticmethod
    def slack_answer(event_id: str) -> str:
        """The bot's threaded answer to an agent's question (Slack event id)."""
        return f"slack:answer:{event_id}"

    @staticmethod
    def slack_feedback(contact_id: str, user: str) -> str:
        """The answer message updated with one agent's Helpful / Not helpful verdict."""
        return f"slack:feedback:{contact_id}:{user}"

    @staticmethod
    def slack_claim(contact_id: str) -> str:
        """The hand-off post updated with who claimed it."""
        return f"slack:claim:{contact_id}"

    @staticmethod
    def slack_alert(alert_key: str) -> str:
        """A report alert (SLA, spike, digest) posted to Slack."""
        return f"slack:alert:{alert_key}"

    @staticmethod
    def order_group(key: str) -> str:
        """Actions sharing a group are performed in their planned order: every Intercom action about one contact
        (reply, note, assignment, tags); other keys stand alone."""
        target, _, rest = key.partition(":")
        if target == "intercom":
            source, _, remainder = rest.partition(":")
            contact = f"{source}:{remainder.split(':', 1)[0]}" if remainder else source
            return f"intercom:{contact}"
        return key


class ChannelPlanner(Protocol):
    """Plans the receiving channel's own actions for a decision (e.g. ``bot.intercom.actions.plan_actions``)."""

    def __call__(self, decision: Decision, *, silenced: bool) -> list[OutboxAction]:
        """Actions with deterministic keys; with ``silenced`` nothing is said to the customer."""
        ...


class EffectPlanner:
    """A decision's own-channel actions plus, for a hand-off, every registered channel's hand-off effect.

    Every customer-facing action of every channel is planned here, so the reply screen runs here too, as a backstop
    behind the pipeline's (which turns a failing reply into a hand-off before it is recorded): a recorded answer whose
    reply fails it (one decided before the check, or under older rules) is planned as if a human had the
    conversation, and nothing is said to the customer.
    """

    def __init__(
        self, handoff_effects: list[HandoffEffect] | None = None, *, screen: ReplyScreen | None = None
    ) -> None:
        """Start with ``handoff_effects`` (channel adapters add theirs with :meth:`add` while the service is built);
        ``screen`` vets every customer reply before it is planned."""
        self._effects = list(handoff_effects or [])
        self._screen = screen

    @property
    def registered(self) -> tuple[HandoffEffect, ...]:
        """The hand-off effects registered so far."""
        return tuple(self._effects)

    def add(self, effect: HandoffEffect) -> None:
        """Register one channel's hand-off effect."""
        self._effects.append(effect)

    def handoff_actions(self, decision: Decision) -> list[OutboxAction]:
        """Every channel's actions for a hand-off (nothing for an answer)."""
        if decision.action is not Action.HANDOFF:
            return []
        return [action for effect in self._effects for action in effect(decision)]

    def plan(self, decision: Decision, planner: ChannelPlanner, *, silenced: bool = False) -> list[OutboxAction]:
        """The receiving channel's actions, then (unless a human already has the conversation) the hand-off ones."""
        if not silenced and self._screen is not None and self._screen(decision) is not None:
            log.error("reply to %s withheld at the outbox: it would tip the customer off", decision.contact_id)
            silenced = True
        actions = list(planner(decision, silenced=silenced))
        if not silenced:
            actions += self.handoff_actions(decision)
        return actions
