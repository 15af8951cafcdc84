"""The pipeline's regulatory duties: keep each decision's clocks running, and let no reply tip a customer off.

:class:`Regulatory` is the one place every customer reply passes after it is decided and before it is recorded,
whatever wrote it (a help-centre article, an LLM draft, a taxonomy template, a follow-up acknowledgement): the
screen of :mod:`automations.nondisclosure` runs there, and a reply that fails it becomes a hand-off with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace

from automations.deadlines import RegulatoryClocks
from automations.decisions import DecisionMaker, Prepared
from automations.handoff import with_clocks
from automations.models import Contact, Decision
from automations.nondisclosure import AGENTS_ONLY, REASON, REMINDER, NonDisclosure
from automations.taxonomy import Taxonomy

__all__ = ["Regulatory"]

log = logging.getLogger("autopilot.pipeline")


class Regulatory:
    """Regulatory clocks and no tipping off, for :class:`~automations.pipeline.Pipeline`."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        make: DecisionMaker,
        clocks: RegulatoryClocks | None = None,
        nondisclosure: NonDisclosure | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.make = make
        self.clocks = clocks
        self.nondisclosure = nondisclosure

    async def watched(self, customers: Iterable[str | None]) -> set[str]:
        """Those of ``customers`` with a SAR clock (every reply to them is screened, whatever the topic). When that
        cannot be read, every one of them counts as watched: a reply is screened rather than risked."""
        ids = {c for c in customers if c}
        if self.clocks is None or self.nondisclosure is None or not ids:
            return set()
        try:
            return await self.clocks.watched(ids)
        except Exception:
            log.exception("could not read which customers have a SAR clock; screening every reply of the batch")
            return ids

    def screen(self, decisions: Sequence[Decision], items: Sequence[Prepared], watched: set[str]) -> list[Decision]:
        """No tipping off: a reply to an AML or compliance contact (or to a ``watched`` customer) that would tip the
        customer off is withheld, and the contact handed to a person with the reason; a watched customer's hand-off
        reminds the agent."""
        guard = self.nondisclosure
        if guard is None:
            return list(decisions)
        out = []
        for decision, item in zip(decisions, items, strict=True):
            is_watched = decision.customer_id in watched
            sentence = guard.screen(decision, watched=is_watched)
            if sentence is not None:
                log.warning("reply to %s withheld: it would tip the customer off; handing off", decision.contact_id)
                tier = guard.handoff_tier(decision, self.taxonomy.category(decision.category).tier)
                note = f"{AGENTS_ONLY} the drafted reply was withheld: it would tip the customer off (“{sentence}”)"
                withheld = self.make.handoff(
                    item, None, tier, REASON, "an answer, withheld (tipping off)", decision.category, note=note,
                    watched=True,
                )  # fmt: skip
                decision = replace(withheld, confidence=decision.confidence, latency_ms=decision.latency_ms)
            elif is_watched and decision.handoff is not None and REMINDER not in decision.handoff.summary:
                summary = with_reminder(decision.handoff.summary)
                decision = replace(decision, handoff=replace(decision.handoff, summary=summary))
            out.append(decision)
        return out

    @staticmethod
    def kept(decision: Decision, summary: str) -> str:
        """A rewritten hand-off summary (an LLM gist) still shows the reminder and every regulatory clock."""
        original = decision.handoff.summary if decision.handoff is not None else ""
        if REMINDER in original and REMINDER not in summary:
            summary = with_reminder(summary)
        return with_clocks(summary, decision.deadlines)

    async def start_clocks(self, decisions: Sequence[Decision], contacts: Sequence[Contact]) -> None:
        """Keep each decision's regulatory clocks running (a clock already started is left alone, so a redelivered
        contact starts what a crash may have missed); a failure is logged, never fatal to the contact."""
        if self.clocks is None:
            return
        due = [(d, c.received_at) for d, c in zip(decisions, contacts, strict=True) if d.deadlines]
        if len(due) > 1:  # together, in one transaction; should that fail, each on its own below
            try:
                await self.clocks.start_many(due)
                return
            except Exception:
                log.warning("could not start %d decisions' regulatory clocks together; one by one", len(due))
        for decision, received_at in due:
            try:
                await self.clocks.start(decision, received_at=received_at)
            except Exception:
                log.exception("could not start the regulatory clocks of %s", decision.contact_id)


def with_reminder(summary: str) -> str:
    """``summary`` with the no-tipping-off reminder first (after the "Why a person" line, when there is one)."""
    lines = summary.splitlines()
    at = 1 if lines and lines[0].startswith("Why a person:") else 0
    return "\n".join([*lines[:at], REMINDER, *lines[at:]])
