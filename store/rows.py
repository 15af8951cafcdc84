"""Conversions between the domain dataclasses of :mod:`automations.models` and rows of the event store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automations.models import Action, Channel, Decision, Feedback, Handoff, OutcomeRecord, OutcomeState

__all__ = [
    "INITIAL_STATE",
    "OutcomeTransition",
    "contact_values",
    "decision_from_row",
    "decision_values",
    "feedback_from_row",
    "initial_outcome_values",
    "outcome_from_row",
    "transition_from_row",
]

INITIAL_STATE: dict[Action, OutcomeState] = {
    Action.ANSWER: OutcomeState.ANSWERED,
    Action.HANDOFF: OutcomeState.HANDED_OFF,
}
"""Outcome state a decision starts in, by action."""


@dataclass(frozen=True, slots=True)
class OutcomeTransition:
    """One recorded step of a contact's outcome history; the first step has ``from_state=None``."""

    contact_id: str
    from_state: OutcomeState | None
    to_state: OutcomeState
    at: datetime
    reason: str


def initial_outcome_values(decision: Decision) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``outcomes`` row and the first ``outcome_transitions`` row of a freshly recorded decision."""
    state = INITIAL_STATE[decision.action].value
    outcome = {
        "contact_id": decision.contact_id,
        "customer_id": decision.customer_id,
        "category": decision.category,
        "group": decision.group,
        "state": state,
        "decided_at": decision.decided_at,
        "updated_at": decision.decided_at,
        "reason": decision.reason,
    }
    transition = {
        "contact_id": decision.contact_id,
        "from_state": None,
        "to_state": state,
        "at": decision.decided_at,
        "reason": decision.reason,
    }
    return outcome, transition


def contact_values(decision: Decision) -> dict[str, Any]:
    """Values of the ``contacts`` row of a decision.

    A :class:`Decision` carries no receive time, so ``received_at`` is the decision time.
    """
    return {
        "id": decision.contact_id,
        "customer_id": decision.customer_id,
        "conversation_id": decision.conversation_id,
        "channel": Channel(decision.channel).value,
        "source": decision.source,
        "text": decision.text,
        "received_at": decision.decided_at,
    }


def decision_values(decision: Decision) -> dict[str, Any]:
    """Values of the ``decisions`` row of a decision, hand-off details flattened into columns."""
    handoff = decision.handoff
    return {
        "contact_id": decision.contact_id,
        "category": decision.category,
        "group": decision.group,
        "confidence": decision.confidence,
        "action": Action(decision.action).value,
        "tier": decision.tier,
        "reason": decision.reason,
        "reply": decision.reply,
        "article_id": decision.article_id,
        "article_url": decision.article_url,
        "retrieval_score": decision.retrieval_score,
        "answer_method": decision.answer_method,
        "injection": decision.injection,
        "latency_ms": decision.latency_ms,
        "decided_at": decision.decided_at,
        "handoff_reason": handoff.reason if handoff else None,
        "summary": handoff.summary if handoff else None,
        "first_response_due": handoff.first_response_due if handoff else None,
        "resolution_due": handoff.resolution_due if handoff else None,
    }


def decision_from_row(row: Any) -> Decision:
    """Rebuild a :class:`Decision` from a joined ``contacts`` + ``decisions`` row (``passages`` stay empty).

    The hand-off's tier is the decision's tier: the schema stores it once.
    """
    handoff = None
    if row.first_response_due is not None and row.resolution_due is not None:
        handoff = Handoff(
            tier=row.tier,
            reason=row.handoff_reason or "",
            summary=row.summary or "",
            first_response_due=row.first_response_due,
            resolution_due=row.resolution_due,
        )
    return Decision(
        contact_id=row.id,
        channel=Channel(row.channel),
        text=row.text,
        category=row.category,
        group=row.group,
        confidence=row.confidence,
        action=Action(row.action),
        tier=row.tier,
        reason=row.reason,
        decided_at=row.decided_at,
        customer_id=row.customer_id,
        conversation_id=row.conversation_id,
        source=row.source,
        reply=row.reply,
        article_id=row.article_id,
        answer_method=row.answer_method,
        article_url=row.article_url,
        retrieval_score=row.retrieval_score,
        handoff=handoff,
        injection=bool(row.injection),
        latency_ms=row.latency_ms,
    )


def outcome_from_row(row: Any) -> OutcomeRecord:
    """Build an :class:`OutcomeRecord` from an ``outcomes`` row."""
    return OutcomeRecord(
        contact_id=row.contact_id,
        customer_id=row.customer_id,
        category=row.category,
        group=row.group,
        state=OutcomeState(row.state),
        decided_at=row.decided_at,
        updated_at=row.updated_at,
        reason=row.reason,
    )


def transition_from_row(row: Any) -> OutcomeTransition:
    """Build an :class:`OutcomeTransition` from an ``outcome_transitions`` row."""
    return OutcomeTransition(
        contact_id=row.contact_id,
        from_state=None if row.from_state is None else OutcomeState(row.from_state),
        to_state=OutcomeState(row.to_state),
        at=row.at,
        reason=row.reason,
    )


def feedback_from_row(row: Any) -> Feedback:
    """Build a :class:`Feedback` from a ``feedback`` row."""
    return Feedback(
        contact_id=row.contact_id,
        at=row.at,
        helpful=None if row.helpful is None else bool(row.helpful),
        csat=row.csat,
        source=row.source,
        comment=row.comment,
    )
