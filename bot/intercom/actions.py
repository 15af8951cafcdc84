"""Turn a :class:`~automations.models.Decision` on an Intercom conversation into outbox actions.

Pure planning: no I/O, no clock. Every action has a deterministic idempotency key derived from the contact id, so
planning the same decision twice (a redelivered webhook, a replay after a crash) queues each effect exactly once.
The :class:`~bot.intercom.sender.IntercomSender` performs them; the payload is JSON with ``conversation_id`` and
``kind`` plus the kind's fields:

========  ==========================================================================
kind      payload fields
========  ==========================================================================
reply     ``body``: HTML comment to the customer, authored by the bot admin
note      ``body``: HTML internal note (the hand-off summary) for the team
assign    ``team_id``: the tier's Intercom team (``settings.tier_map("intercom_team")``)
tag       ``tag``: tag name, e.g. ``autopilot:card_lost`` or ``autopilot:handed_off``
========  ==========================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from automations.effects import OutboxKeys
from automations.handoff import due_text, with_clocks
from automations.models import Action, Decision, Handoff
from automations.queues import OutboxAction
from automations.taxonomy import FALLBACK_TIER
from bot.intercom.render import reply_html
from bot.settings import Settings

__all__ = [
    "CONVERSATION_PREFIX",
    "FEEDBACK_PROMPT",
    "TAG_PREFIX",
    "TARGET",
    "IntercomPayload",
    "conversation_ref",
    "note_body",
    "plan_actions",
    "reply_body",
]

TARGET = "intercom"
CONVERSATION_PREFIX = "intercom:"
TAG_PREFIX = "autopilot:"
FEEDBACK_PROMPT = "Did that help?"
CONFIRMED_REASON = "customer_confirmed"  # automations.pipeline's reason for "Glad that helped!"


@dataclass(frozen=True, slots=True)
class IntercomPayload:
    """The decoded payload of one Intercom outbox action."""

    conversation_id: str
    kind: str
    body: str | None = None
    team_id: str | None = None
    tag: str | None = None

    def to_json(self) -> str:
        """Compact, key-sorted JSON (stable bytes for the same action)."""
        fields = {"conversation_id": self.conversation_id, "kind": self.kind}
        extra = {"body": self.body, "team_id": self.team_id, "tag": self.tag}
        fields.update({k: v for k, v in extra.items() if v is not None})
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> IntercomPayload:
        """Parse a payload written by :meth:`to_json`; ``ValueError`` when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or not data.get("conversation_id") or not data.get("kind"):
            raise ValueError("an Intercom action payload needs conversation_id and kind")
        return cls(
            conversation_id=str(data["conversation_id"]),
            kind=str(data["kind"]),
            body=data.get("body"),
            team_id=data.get("team_id"),
            tag=data.get("tag"),
        )


def conversation_ref(conversation_id: str | None) -> str | None:
    """The Intercom conversation id inside our ``"intercom:<id>"`` reference; ``None`` for other channels."""
    if not conversation_id or not conversation_id.startswith(CONVERSATION_PREFIX):
        return None
    return conversation_id.removeprefix(CONVERSATION_PREFIX) or None


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in text.strip().split("\n\n") if b.strip()]
    return "".join(f"<p>{escape(b).replace(chr(10), '<br>')}</p>" for b in blocks)


def reply_body(decision: Decision) -> str:
    """The customer-facing reply as Intercom HTML (:func:`~bot.intercom.render.reply_html`): the answer, the cited
    article's link (when the answer does not carry it already), and a short feedback prompt."""
    reply = decision.reply or ""
    parts = [reply_html(reply)]
    if decision.article_url and decision.article_url not in reply:
        url = escape(decision.article_url, quote=True)
        parts.append(f'<p>More detail: <a href="{url}">{escape(decision.article_url)}</a></p>')
    if decision.reason != CONFIRMED_REASON:  # no "Did that help?" after the customer just said it did
        parts.append(f"<p>{FEEDBACK_PROMPT}</p>")
    return "".join(parts)


def note_body(decision: Decision, handoff: Handoff) -> str:
    """The internal note for the team picking the conversation up (already-redacted summary, tier, SLA, and each
    regulatory clock, the internal SAR clock included: a note is never shown to the customer)."""
    header = (
        f"Autopilot hand-off to {handoff.tier} ({handoff.reason}). "
        f"First response due {handoff.first_response_due.isoformat(timespec='minutes')}, "
        f"resolution due {handoff.resolution_due.isoformat(timespec='minutes')}."
    )
    if decision.deadlines:
        first = min(decision.deadlines, key=lambda d: d.due)
        header += f" Regulatory deadline: {first.id} due {due_text(first.due)}."
    return f"<p><b>{escape(header)}</b></p>" + _paragraphs(with_clocks(handoff.summary, decision.deadlines))


def _tag_names(decision: Decision, *, silenced: bool) -> list[str]:
    names = [f"{TAG_PREFIX}{decision.category}"]
    if not silenced:
        names.append(f"{TAG_PREFIX}{'handed_off' if decision.action is Action.HANDOFF else 'answered'}")
    return names


def plan_actions(decision: Decision, settings: Settings, *, silenced: bool) -> list[OutboxAction]:
    """The Intercom effects of ``decision``, in the order they should be performed.

    - answered: a reply from the bot admin (answer + citation link + "Did that help?") and tags
      ``autopilot:<category>`` + ``autopilot:answered``;
    - handed off: an internal note with the hand-off summary, assignment to the tier's team (``t1``'s team when the
      tier has none configured; no assignment when neither is), and tags ``autopilot:<category>`` +
      ``autopilot:handed_off``;
    - ``silenced`` (a human has taken the conversation over): only the category tag, for reporting; the bot neither
      speaks nor re-routes a conversation an agent owns.

    Returns ``[]`` when the decision is not about an Intercom conversation. Keys are
    ``intercom:<contact_id>:<kind>`` (``...:tag:<name>`` for tags).
    """
    conversation = conversation_ref(decision.conversation_id)
    if conversation is None:
        return []
    planned: list[tuple[str, IntercomPayload]] = []
    if not silenced and decision.action is Action.ANSWER and decision.reply:
        planned.append(("reply", IntercomPayload(conversation, "reply", body=reply_body(decision))))
    if not silenced and decision.action is Action.HANDOFF and decision.handoff is not None:
        handoff = decision.handoff
        planned.append(("note", IntercomPayload(conversation, "note", body=note_body(decision, handoff))))
        teams = settings.tier_map("intercom_team")
        team = teams.get(handoff.tier) or teams.get(decision.tier) or teams.get(FALLBACK_TIER)
        if team:
            planned.append(("assign", IntercomPayload(conversation, "assign", team_id=team)))
    for name in _tag_names(decision, silenced=silenced):
        planned.append((f"tag:{name}", IntercomPayload(conversation, "tag", tag=name)))
    # distinct, increasing created_at keeps the planned order (the outbox claims oldest first, then by key); the
    # last one is decided_at, so none of them is due later than the decision itself
    return [
        OutboxAction(
            key=OutboxKeys.intercom(decision.contact_id, suffix),
            target=TARGET,
            kind=payload.kind,
            payload=payload.to_json(),
            created_at=decision.decided_at - timedelta(microseconds=len(planned) - 1 - i),
        )
        for i, (suffix, payload) in enumerate(planned)
    ]
