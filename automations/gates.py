"""The gates a customer's contact passes before the bot may answer it, in order: a protected topic or a request for
a person (the safety verdict), instructions in the message, a language the classifier cannot read, a follow-up to an
earlier answer, a category the bot may not answer, another company's product, and a classifier that is not sure."""

from __future__ import annotations

from collections.abc import Sequence

from automations.decisions import DecisionMaker, Prepared
from automations.followups import FollowUp, read_follow_up
from automations.models import Action, Classification, Decision, OutcomeRecord, SafetyVerdict
from automations.outcomes import OutcomeTracker
from automations.ports import Clock
from automations.safety import HUMAN, SafetyGate
from automations.taxonomy import FALLBACK_TIER, PROTECTED_TIERS, Taxonomy

__all__ = ["INJECTION_TIER", "LANGUAGE_TIER", "OUT_OF_SCOPE", "CustomerGates"]

OUT_OF_SCOPE = "out_of_scope"
INJECTION_TIER = FALLBACK_TIER
LANGUAGE_TIER = FALLBACK_TIER


class CustomerGates:
    """Decides, for a customer's contact, whether something other than an article answers it."""

    def __init__(
        self, taxonomy: Taxonomy, safety: SafetyGate, outcomes: OutcomeTracker, clock: Clock, make: DecisionMaker
    ) -> None:
        self.taxonomy = taxonomy
        self.safety = safety
        self.outcomes = outcomes
        self.clock = clock
        self._make = make

    def check(
        self,
        item: Prepared,
        classification: Classification,
        verdict: SafetyVerdict,
        category: str,
        history: Sequence[OutcomeRecord],
        *,
        confidence: float,
        language: str | None = None,
    ) -> Decision | None:
        """The decision a gate takes for this contact, or ``None`` when the bot may go on to answer it.

        ``confidence`` is the policy's classifier threshold; ``language`` is the code of the language the message is
        written in when the classifier cannot read it (see :meth:`SafetyGate.language`).
        """
        cat = self.taxonomy.category(category)
        prior = self.outcomes.open_answer_in(history, self.clock.now())
        follow_up = read_follow_up(item.text) if prior is not None else FollowUp.NEW
        # a thank-you for an open answer asks for no one: the classifier's guess of a request for a person on a few
        # words of thanks yields to the follow-up reading (a request in so many words, a pattern, still wins)
        guessed = verdict.category == HUMAN and all(r.startswith("classifier:") for r in verdict.reasons)
        if verdict.category is not None and not (guessed and follow_up is FollowUp.RESOLVED):
            reason = f"safety:{verdict.category}" + ("+injection" if item.injection else "")
            return self._make.handoff(
                item, classification, cat.tier, reason, "nothing: protected topic", category, note=verdict.note
            )
        if item.injection:  # only a confident classifier reading the rest of the message may pick the team
            confident = classification.confidence >= confidence and language is None and not item.only_instructions
            specific = confident and cat.tier in PROTECTED_TIERS and not cat.bot_may_answer
            tier = cat.tier if specific else INJECTION_TIER
            return self._make.handoff(
                item, classification, tier, "prompt_injection", "nothing: instructions in message", category
            )
        if language is not None:
            return self._make.handoff(
                item, classification, LANGUAGE_TIER, f"unsupported_language:{language}",
                f"nothing: the message is in another language ({language})", category,
            )  # fmt: skip
        if prior is not None and follow_up is FollowUp.UNRESOLVED:
            tier = self.taxonomy.category(prior.category).tier
            return self._make.handoff(
                item, classification, tier, "customer_still_needs_help",
                f"answered {prior.contact_id} ({prior.category}); the customer says it did not help", prior.category,
            )  # fmt: skip
        if prior is not None and follow_up is FollowUp.RESOLVED:
            return self._make.decision(
                item, classification, prior.category, Action.ANSWER, "bot", "customer_confirmed",
                reply="Glad that helped! Is there anything else I can do for you?",
            )  # fmt: skip
        if not cat.bot_may_answer:
            return self.handoff(item, classification, category, "not_bot_answerable", "nothing")
        if cat.reply is None and self.safety.third_party(item.clean) is not None:  # another company's product
            if self.safety.lean(item.clean, classification, injection=item.injection) is not None:
                # "Netflix billed me twice": another company named, but a protected matter: a person, not the reply
                tried = "nothing: another company is named, but the risk layer leans to a protected team"
                return self.handoff(item, classification, category, "third_party_leans_protected", tried)
            reply = self.taxonomy.category(OUT_OF_SCOPE).reply
            return self._make.decision(
                item, classification, OUT_OF_SCOPE, Action.ANSWER, "bot", "third_party", reply=reply
            )
        if classification.confidence < confidence and cat.reply is None:
            guess = f"{classification.category} at {classification.confidence:.2f}"
            tried = f"classified as {guess}, below {confidence:.2f}"
            return self.handoff(item, classification, category, "low_confidence", tried)
        return None

    def handoff(
        self, item: Prepared, classification: Classification, category: str, reason: str, tried: str
    ) -> Decision:
        """A hand-off to a person for ``reason`` (not a protected topic): to the protected team the risk layer leans
        to, if any (the choice is then between that team and a general queue, never an answer), else to the team of
        ``category``."""
        leaned = self.safety.lean(item.clean, classification, injection=item.injection)
        if leaned is not None and leaned.category is not None:
            tier = self.taxonomy.category(leaned.category).tier
            return self._make.handoff(item, classification, tier, reason, tried, leaned.category, note=leaned.note)
        return self._make.handoff(item, classification, self.taxonomy.category(category).tier, reason, tried, category)
