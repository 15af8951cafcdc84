"""Building :class:`Decision` records: what the pipeline decided, with its hand-off summary and SLA deadline."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from automations.handoff import build_handoff
from automations.models import Action, Classification, Contact, Deadline, Decision, Handoff, Passage
from automations.nondisclosure import NonDisclosure
from automations.obligations import Obligations
from automations.ports import Clock
from automations.taxonomy import Taxonomy

__all__ = ["DecisionMaker", "Prepared"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A contact after redaction and instruction removal, as the pipeline decides on it."""

    contact: Contact
    text: str
    clean: str
    injection: bool
    started: float
    only_instructions: bool = False


class DecisionMaker:
    """Stamps decisions with the taxonomy's driver group, the clock's time and the regulatory clocks started; with
    a ``nondisclosure`` policy, an AML or compliance hand-off reminds agents not to tip the customer off."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        clock: Clock,
        obligations: Obligations | None = None,
        jurisdiction: str = "US",
        nondisclosure: NonDisclosure | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.clock = clock
        self.obligations = obligations
        self.jurisdiction = jurisdiction
        self.nondisclosure = nondisclosure

    def deadlines(self, contact: Contact, category: str, text: str, at: datetime) -> tuple[Deadline, ...]:
        """The regulatory clocks ``contact`` starts, from its receipt (else ``at``) in its jurisdiction (else the
        default)."""
        if self.obligations is None:
            return ()
        received, jurisdiction = contact.received_at or at, contact.jurisdiction or self.jurisdiction
        return tuple(self.obligations.deadlines(category, (), text, received, jurisdiction))

    def restamp(self, decision: Decision, contact: Contact) -> Decision:
        """A decision recorded earlier, with its regulatory clocks (the event store does not keep them yet)."""
        if decision.deadlines or self.obligations is None:
            return decision
        return replace(
            decision, deadlines=self.deadlines(contact, decision.category, decision.text, decision.decided_at)
        )

    def handoff(
        self,
        item: Prepared,
        classification: Classification | None,
        tier: str,
        reason: str,
        tried: str,
        category: str,
        *,
        note: str = "",
        watched: bool = False,
    ) -> Decision:
        """A hand-off to ``tier`` with the agent-facing summary (headed by ``note``, what the safety layer found),
        SLA deadline and regulatory clocks; ``watched``: the customer has an internal clock (a SAR decision)."""
        now = self.clock.now()
        deadlines = self.deadlines(item.contact, category, item.text, now)
        guard = self.nondisclosure
        handoff = build_handoff(
            taxonomy=self.taxonomy, category=category, tier=tier, reason=reason, text=item.text,
            classification=classification, tried=tried, now=now, note=note, deadlines=deadlines,
            no_tipping_off=guard is not None and guard.covers(category, deadlines, watched=watched),
        )  # fmt: skip
        return self.decision(
            item, classification, category, Action.HANDOFF, tier, reason, handoff=handoff, deadlines=deadlines
        )

    def decision(
        self,
        item: Prepared,
        classification: Classification | None,
        category: str,
        action: Action,
        tier: str,
        reason: str,
        *,
        reply: str | None = None,
        passage: Passage | None = None,
        passages: tuple[Passage, ...] = (),
        handoff: Handoff | None = None,
        method: str | None = None,
        deadlines: tuple[Deadline, ...] | None = None,
    ) -> Decision:
        """The decision record for ``item`` (``deadlines``: its regulatory clocks, when already computed)."""
        contact, now = item.contact, self.clock.now()
        if deadlines is None:
            deadlines = self.deadlines(contact, category, item.text, now)
        return Decision(
            contact_id=contact.id, channel=contact.channel, text=item.text, category=category,
            group=str(self.taxonomy.category(category).group),
            confidence=classification.confidence if classification else 0.0, action=action, tier=tier, reason=reason,
            decided_at=now, customer_id=contact.customer_id, conversation_id=contact.conversation_id,
            source=contact.source, reply=reply, article_id=passage.article_id if passage else None,
            article_url=passage.url if passage else None, retrieval_score=passage.score if passage else None,
            answer_method=method, handoff=handoff,
            injection=item.injection, passages=passages, deadlines=deadlines,
        )  # fmt: skip
