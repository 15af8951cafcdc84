"""No tipping off: which contacts are covered, the check on their outgoing customer text, and the agents' reminder.

A contact is covered when its driver belongs to a covered tier (``compliance``: AML, source of funds, regulatory
complaints, privacy requests), when it starts an internal clock (a SAR decision), or when its customer already has
one (:meth:`~automations.deadlines.RegulatoryClocks.watched`). For a covered contact no text that reaches the customer
may mention suspicion, an investigation, a SAR or the like (:func:`automations.tipping.tipping_off`): the pipeline
screens every reply it decides (:meth:`NonDisclosure.screen`), whatever wrote it (an article, an LLM draft, a
template), and hands the contact to a person with the reason instead; the outbox planner checks again before
anything is queued (:class:`automations.effects.EffectPlanner`).

Lines of a hand-off summary meant for agents only (an internal clock, the reminder) carry :data:`AGENTS_ONLY`, so a
view that a customer might see drops them with :func:`agents_only_removed`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from automations.models import Action, Channel, Deadline, Decision
from automations.qa.scorecard import Scorecard
from automations.taxonomy import Taxonomy
from automations.tipping import TippingOffCheck, tipping_off

__all__ = ["AGENTS_ONLY", "COVERED_TIERS", "REASON", "REMINDER", "NonDisclosure", "agents_only_removed"]

AGENTS_ONLY = "[agents only]"
COVERED_TIERS = ("compliance",)
REASON = "tipping_off"
"""The hand-off reason when a reply was withheld because it would have tipped the customer off."""
REMINDER = (
    f"{AGENTS_ONLY} No tipping off: never tell the customer about any suspicion, investigation or review of their "
    "activity, or any report to the authorities (a SAR), in a reply, a macro or a template. Say only that we are "
    "looking into their request."
)


def agents_only_removed(text: str) -> str:
    """``text`` without its agents-only lines (for anything a customer may see)."""
    return "\n".join(line for line in text.splitlines() if AGENTS_ONLY not in line)


class NonDisclosure:
    """The no-tipping-off policy over one taxonomy."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        tiers: Collection[str] = COVERED_TIERS,
        check: Callable[[str], str | None] = tipping_off,
        tier: str = "compliance",
    ) -> None:
        """Cover the drivers of ``tiers``; ``check`` returns the offending sentence of a text (or ``None``);
        ``tier`` takes the contacts whose reply was withheld when their own driver is not covered."""
        self.categories = frozenset(c.id for c in taxonomy if c.tier in tiers)
        self.check = check
        self.tier = tier

    @classmethod
    def of(cls, taxonomy: Taxonomy, scorecard: Scorecard | None = None) -> NonDisclosure:
        """The policy with the QA scorecard's ``tipping_off`` rule (the shipped scorecard's when none is given), so
        the check on every outgoing customer text and the QA score of a human reply agree."""
        return cls(taxonomy, check=TippingOffCheck(scorecard) if scorecard is not None else tipping_off)

    def covers(self, category: str, deadlines: Iterable[Deadline] = (), *, watched: bool = False) -> bool:
        """Whether a contact of ``category`` with these clocks (and a ``watched`` customer) is covered."""
        return watched or category in self.categories or any(d.internal for d in deadlines)

    def screen(self, decision: Decision, *, watched: bool = False) -> str | None:
        """The sentence that makes ``decision``'s customer reply unsendable, or ``None`` when it may go out (or says
        nothing to a customer, or the contact is not covered)."""
        if decision.channel is not Channel.CUSTOMER or decision.action is not Action.ANSWER or not decision.reply:
            return None
        if not self.covers(decision.category, decision.deadlines, watched=watched):
            return None
        return self.check(decision.reply)

    def handoff_tier(self, decision: Decision, own_tier: str) -> str:
        """Who takes a contact whose reply was withheld: its driver's tier when that is covered, else :attr:`tier`."""
        return own_tier if decision.category in self.categories else self.tier
