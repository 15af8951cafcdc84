"""The safety layer: rules that run beside the classifier and that no customer text can switch off.

Legal, regulatory, fraud, AML and privacy contacts are caught by two independent signals: curated patterns
(``automations/data/safety.yaml``) and the classifier's probability for those categories. Requests for a human are
caught by patterns too. Prompt-injection attempts are detected, cut out of the text before classification (clause by
clause, so a request sharing a sentence with an instruction survives while the instruction cannot pick a team), and
flag the contact so that it can never be auto-answered. Questions about another company's product asked in banking
words ("reset my Capitec app PIN", "cancel Netflix on the Netflix website") are recognised so that they get the
out-of-scope reply rather than a Lumen article; naming their own product ("my Chase card's PIN", "my Monzo pots",
"the screen time passcode on my iPhone") makes it theirs even in banking words, unless the message ties it to Lumen.

Instructions are found and cut out by :class:`automations.injection.InstructionFilter` (in what the customer wrote and
in what it spells once undisguised). With instructions in a message, a weak classifier guess cannot pick a protected
team: only a pattern or a confident classifier can.

The classifier reads English only. A message mainly in another language (``automations/language.py``) is judged by
the patterns alone, which carry the protected topics' key terms in Spanish, Portuguese, French, German, Dutch,
Afrikaans and Italian too; Spanish and Portuguese are also read by the English patterns and signals through a
word-for-word gloss (``automations/gloss.py``, :meth:`SafetyGate.check_foreign`). Without a protected finding such a
message goes to a person (see :meth:`SafetyGate.language`).

Beside the patterns, two more signals pick a protected team: *signals* (``automations/signals.py``: every part of a
combination present, such as a lost card **and** money gone) and the *learned risk layer* (``automations/risk.py``: a
head over the message's embedding, scored by the classifier on the same vector, per kind with a calibrated threshold).
The risk layer never routes a message that carried instructions: only patterns and a confident classifier do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from automations.gloss import Glossary
from automations.injection import SENTENCE_BREAK, InstructionFilter
from automations.language import foreign_language
from automations.models import Classification, SafetyVerdict
from automations.prefilter import ScreenedPattern
from automations.risk_kinds import ATM_CASH_CATEGORY, KIND_CATEGORY
from automations.safety_rules import DEFAULT_RULES, SafetyRules, ThirdParty, load_safety_rules
from automations.signals import compile_signals, route
from automations.taxonomy import SENSITIVE_CATEGORIES

__all__ = ["DEFAULT_RULES", "HUMAN", "SafetyGate", "SafetyRules", "ThirdParty", "load_safety_rules"]

HUMAN = "human_request"
FRAUD = KIND_CATEGORY["fraud"]
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_NEGATED = re.compile(r"\b(not|isn.?t|no|never)\b (a |an |my |about a )?(formal )?(complaint|complaining)\b", re.I)


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE)


def _screened(patterns: list[str]) -> ScreenedPattern:
    return ScreenedPattern(patterns, re.IGNORECASE | re.MULTILINE)  # the same answers, faster (automations.prefilter)


_PROTECTED = 3


def _rank(verdict: SafetyVerdict) -> int:
    """How much a verdict routes: nothing, a person, another team (t2, payments), a protected team."""
    category = verdict.category
    return 0 if category is None else 1 if category == HUMAN else _PROTECTED if category in SENSITIVE_CATEGORIES else 2


def _screened_some(patterns: list[str]) -> ScreenedPattern | None:
    return _screened(patterns) if patterns else None


class SafetyGate:
    """Applies :class:`SafetyRules` to a redacted message and the classifier's view of it."""

    def __init__(self, rules: SafetyRules) -> None:
        """Compile ``rules`` (loaded once by the composition root with :func:`load_safety_rules`). The learned risk
        layer's findings arrive with each :class:`Classification` (``risk``)."""
        self.rules = rules
        self._gloss = Glossary(rules.language.glossary)
        self._status = _any(rules.status_questions) if rules.status_questions else None  # used with .sub
        self._signals, self._atm = compile_signals(rules.signals)
        ordered = [*self.rules.priority.items(), *self.rules.categories.items()]
        self._categories = [(name, _screened(patterns)) for name, patterns in ordered]
        self._human = _screened(self.rules.human_request)
        protected = [s for s in self._signals if s.kind != "identity_change"]
        self._instructions = InstructionFilter(self.rules.injection, [p for _, p in self._categories], protected)
        third = self.rules.third_party
        brand = "(?:" + "|".join(f"(?:{b})" for b in third.brands) + ")" if third.brands else "(?!)"
        cues = [rf"\b{brand}(?=\W|$)"] if third.brands else []
        self._third_party = _screened_some([*cues, *(c.replace("{brand}", brand) for c in third.context)])
        self._service = _screened_some([c.replace("{brand}", brand) for c in third.service])
        self._lumen, self._ours = _screened_some(third.lumen), _screened_some(third.ours)

    def neutralize(self, text: str) -> tuple[str, bool]:
        """Drop the clauses (sentences, lines, or parts of a sentence between colons) that carry embedded
        instructions; returns (clean text, injection found). See :class:`InstructionFilter`."""
        return self._instructions.neutralize(text)

    def strip(self, text: str) -> str:
        """``text`` without the instruction spans themselves (see :meth:`InstructionFilter.strip`)."""
        return self._instructions.strip(text)

    def third_party(self, text: str) -> str | None:
        """The cue that ``text`` asks about another company's product or a non-Lumen errand (their app, website,
        subscription; photos to a new phone; a shop's returns) with nothing tying it to a Lumen account, card or
        payment; ``None`` otherwise. Naming their own product (``service``: "my Monzo pots", "the PIN on my Chase
        card") outweighs banking words; only a tie in ``ours`` (a top-up from it, a transfer to it) keeps that in
        scope. Such questions get the out-of-scope reply, never a Lumen article."""
        ours = self._ours is not None and self._ours.search(text) is not None
        service = self._service.search(text) if self._service is not None and not ours else None
        if service is not None:  # their card, pots, flight, phone settings: banking words do not make it ours
            return service.group(0)
        match = self._third_party.search(text) if self._third_party is not None else None
        if match is None or (self._lumen is not None and self._lumen.search(text)):
            return None
        return match.group(0)

    def _route(self, kind: str, text: str) -> str:
        return route(kind, text, self._atm)

    def _signals_in(
        self, text: str, classification: Classification | None, injection: bool
    ) -> tuple[SafetyVerdict | None, SafetyVerdict | None]:
        """The first signal of ``safety.yaml`` found in ``text`` that routes to a protected category, and the first
        that routes elsewhere (never for a message with instructions: those go to a person in t1)."""
        other: SafetyVerdict | None = None
        for signal in self._signals:
            found = signal.match(text)
            if found is not None:
                atm = signal.at_cash_machine and not self._atm.denied(text)
                label = ATM_CASH_CATEGORY if atm else self._route(signal.kind, text)
                verdict = SafetyVerdict(label, (f"signal:{signal.name}:{found[:60]!r}",), injection, signal.note)
                if label in SENSITIVE_CATEGORIES:
                    return verdict, None
                other = other or (None if injection else verdict)
        return None, other

    def language(self, text: str) -> str | None:
        """The code of the language ``text`` is mainly written in when the classifier cannot read it (``None`` for
        English, or text too short or mixed to tell). The classifier's view of such a message is not to be trusted:
        pass ``None`` to :meth:`check`, so that only the patterns route it; unrouted, it goes to a person."""
        return foreign_language(text, self.rules.language)

    def check_foreign(self, text: str, language: str, *, injection: bool = False) -> SafetyVerdict:
        """:meth:`check` for a message written in ``language``: the patterns on what it says, then on its English
        gloss (``automations/gloss.py``), whose finding counts where it outranks the first (a protected team over
        another team, either over a request for a person, any of them over nothing)."""
        verdict = self.check(text, None, injection=injection)
        if _rank(verdict) == _PROTECTED:
            return verdict
        glossed = self._gloss.gloss(text, language)
        if glossed is None:
            return verdict
        read = self.check(glossed, None, injection=injection)
        if _rank(read) <= _rank(verdict):
            return verdict
        reasons = tuple(f"gloss:{reason}" for reason in read.reasons)
        return SafetyVerdict(read.category, reasons, injection, read.note, read.probability)

    def sentences(self, text: str) -> list[str]:
        """The sentences of a longer message, classified one by one so a request buried after another is seen."""
        parts = [p.strip() for p in SENTENCE_BREAK.split(text) if len(p.split()) >= 3]
        return parts if len(parts) >= 2 else []

    def check(
        self,
        text: str,
        classification: Classification | None,
        *,
        injection: bool = False,
        sentences: Sequence[Classification] = (),
    ) -> SafetyVerdict:
        """Return the protected category (or ``human_request``) this message must go to, if any.

        Patterns are checked on the whole redacted text, so nothing placed around a request can hide it; the
        classifier's view of each sentence (``sentences``) is checked with a stricter floor. A complaint that is
        disclaimed ("not a complaint, just a question") does not count as one. When the message carried instructions
        (``injection``), the classifier picks a protected team only at ``injection_min_probability``; what a weaker
        guess means is for the pipeline to decide (a person in t1 unless the classifier is confident).
        """
        text = _DECIMAL.sub(",", _NEGATED.sub(" ", text))  # "189.00 GBP" does not end a sentence for a pattern
        text = self._status.sub(" ", text) if self._status is not None else text
        for name, pattern in self._categories:
            match = pattern.search(text)
            if match is not None:
                return SafetyVerdict(name, (f"pattern:{name}:{match.group(0)[:40]!r}",), injection)
        # a signal for a protected team decides now; one for another team (identity data: t2, an ATM that paid out
        # short: payments) only when no protected team is found, and it outranks a request for a person
        protected, other = self._signals_in(text, classification, injection)
        if protected is not None:
            return protected
        human = self._human.search(text)
        if human is not None and other is None:
            return SafetyVerdict(HUMAN, (f"pattern:{HUMAN}:{human.group(0)[:40]!r}",), injection)
        learned = self._learned(text, classification, injection, asked_for_person=human is not None)
        weak = learned is None or learned.probability < self.rules.sentence_min_probability
        cash = other is not None and other.category == ATM_CASH_CATEGORY  # the learned "error notice" family
        if other is not None and (weak or (cash and learned is not None and learned.category == FRAUD)):
            return other  # a signal in so many words (identity data, an ATM) beats a weak protected guess
        if learned is not None:
            return learned
        if human is not None:
            return SafetyVerdict(HUMAN, (f"pattern:{HUMAN}:{human.group(0)[:40]!r}",), injection)
        if classification is not None and classification.category in self.rules.lean_to_person:
            leaned = self.lean(text, classification, injection=injection)  # a lost card that leans to fraud
            if leaned is not None:
                return leaned
        for sentence in sentences:
            if sentence.category in SENSITIVE_CATEGORIES and sentence.confidence >= self.rules.sentence_min_probability:
                label = sentence.category
                return SafetyVerdict(label, (f"sentence:{label}:{sentence.confidence:.2f}",), injection)
        if classification is not None and classification.category == HUMAN:
            return SafetyVerdict(HUMAN, (f"classifier:{HUMAN}:{classification.confidence:.2f}",), injection)
        return SafetyVerdict(None, (), injection)

    def lean(self, text: str, classification: Classification | None, *, injection: bool) -> SafetyVerdict | None:
        """The protected team a contact that goes to a person for another reason (the classifier unsure, no article)
        should reach: the risk layer's leaning (:attr:`Classification.leaning`), routed like its kind. Never for a
        message with instructions, whose words may not pick a team."""
        if classification is None or classification.leaning is None or injection:
            return None
        kind, score = classification.leaning
        note = f"learned risk layer leans to {kind.replace('_', ' ')} ({score:.2f})"
        return SafetyVerdict(self._route(kind, text), (f"lean:{kind}:{score:.2f}",), injection, note, score)

    def _learned(
        self, text: str, classification: Classification | None, injection: bool, *, asked_for_person: bool
    ) -> SafetyVerdict | None:
        """The classifier's protected category at its floor, else the risk layer's strongest kind (for what is left of
        a message with instructions, only at ``injection_risk_min_probability``; never over a request for a person in so
        many words)."""
        if classification is None:
            return None
        floor = self.rules.classifier_min_probability
        if injection:  # the text was written to steer routing: a weak guess may not pick a protected team
            stricter = self.rules.injection_min_probability
            floor = max(floor, stricter) if stricter is not None else floor
        for label, probability in classification.ranked:
            if label in SENSITIVE_CATEGORIES and probability >= floor:
                return SafetyVerdict(
                    label, (f"classifier:{label}:{probability:.2f}",), injection, probability=probability
                )
        if not classification.risk or asked_for_person:
            return None
        kind, score = classification.risk[0]
        if injection and score < (self.rules.injection_risk_min_probability or 0.0):
            return None  # what is left of a message with instructions: only a strong reading may pick the team
        note = f"learned risk layer: {kind.replace('_', ' ')} ({score:.2f})"
        return SafetyVerdict(self._route(kind, text), (f"risk:{kind}:{score:.2f}",), injection, note, score)
