"""Score conversations against the QA scorecard, without an LLM: sentence rules, the taxonomy and embeddings.

- Each critical fail is a sentence rule over the agent's and the bot's turns; any one zeroes the score.
- ``phrase`` and ``absence`` criteria are sentence rules too.
- ``resolution`` fails on a dismissive sentence; with a reference (the driver's KB passages and an embedder) it
  also needs an agent turn similar enough to what the article says, unless the contact went to a specialist team.
- ``handoff`` compares the team the agent handed to with the team the driver needs (when either is known).
- ``sla`` compares the first human response with its deadline (when both are known).
The score is the weighted mean of the applicable criteria, 0-100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from automations.ports import Embedder
from automations.qa.head import CriticalHead
from automations.qa.model import QaReference, QaResult, Reference, Transcript
from automations.qa.scorecard import Criterion, CriterionKind, Scorecard
from automations.qa.sentences import CompiledRule, Patterns, sentences
from automations.taxonomy import PROTECTED_TIERS

__all__ = ["QaJudge", "QaScorer"]

_SUBSTANTIVE_WORDS = 8


class QaJudge(Protocol):
    """An optional grader of quality criteria (an LLM): verdicts by criterion id, possibly none."""

    async def judge(self, transcript: Transcript) -> dict[str, float]:
        """0/1 verdicts for the criteria it grades."""
        ...


class QaScorer:
    """Scores :class:`~automations.qa.model.Transcript` values with a :class:`Scorecard`."""

    def __init__(
        self,
        scorecard: Scorecard,
        *,
        reference: QaReference | None = None,
        embedder: Embedder | None = None,
        judge: QaJudge | None = None,
        head: CriticalHead | None = None,
    ) -> None:
        """Compile the scorecard; ``reference`` and ``embedder`` enable the KB checks of ``resolution``; ``judge``
        (an LLM) grades the quality criteria it covers, the rules standing where it gives no verdict; ``head`` (with
        ``embedder``) finds critical fails the rules' words miss."""
        self.judge, self.head = judge, head
        self.scorecard = scorecard
        self.requests = Patterns(scorecard.requests)
        self.critical = [CompiledRule.of(r) for r in scorecard.critical_fails]
        self.reference, self.embedder = reference, embedder
        self.handover = Patterns(scorecard.handover)
        self.teams = {tier: Patterns(p) for tier, p in scorecard.teams.items()}
        # each criterion's patterns, compiled once (not per conversation)
        self.patterns = {c.id: (Patterns(c.match), Patterns(c.unless), Patterns(c.fail)) for c in scorecard.criteria}

    async def score_many(self, transcripts: Sequence[Transcript]) -> list[QaResult]:
        """Score each transcript, looking up the references of all their questions in one call."""
        refs: list[Reference | None] = [None] * len(transcripts)
        if self.reference is not None and transcripts:
            refs = list(await self.reference.references([t.question for t in transcripts]))
        sims = await self._similarities(transcripts, refs)
        learned = await self._learned(transcripts)
        results = [self._score(t, r, s, h) for t, r, s, h in zip(transcripts, refs, sims, learned, strict=True)]
        if self.judge is None:
            return results
        return [self._judged(r, await self.judge.judge(t)) for t, r in zip(transcripts, results, strict=True)]

    def _judged(self, result: QaResult, verdicts: Mapping[str, float]) -> QaResult:
        criteria = dict(result.criteria)
        evidence = dict(result.evidence)
        for key, value in verdicts.items():
            if key in criteria and criteria[key] is not None:
                criteria[key] = value
                evidence[key] = "LLM judge"
        score = self._weighted(criteria, result.critical_fails)
        return replace(result, criteria=criteria, evidence=evidence, score=score)

    def _weighted(self, criteria: Mapping[str, float | None], fails: Sequence[str]) -> int:
        if fails:
            return 0
        weights = {c.id: c.weight for c in self.scorecard.criteria}
        applicable = {k: v for k, v in criteria.items() if v is not None}
        total = sum(weights[k] for k in applicable)
        return round(100 * sum(weights[k] * v for k, v in applicable.items()) / total) if total else 0

    async def score(self, transcript: Transcript) -> QaResult:
        """Score one transcript."""
        return (await self.score_many([transcript]))[0]

    async def _learned(self, transcripts: Sequence[Transcript]) -> list[dict[str, str]]:
        """Per transcript, the critical fails the head finds (fail → its sentence), gated by each rule."""
        out: list[dict[str, str]] = [{} for _ in transcripts]
        if self.head is None or self.embedder is None:
            return out
        rules = {rule.id: rule for rule in self.critical}
        found = [(i, s) for i, t in enumerate(transcripts) for x in t.texts("agent", "bot") for s in sentences(x)]
        if not found:
            return out
        probabilities = self.head.probabilities(await self.embedder.embed([s for _, s in found]))
        for (i, sentence), probs in zip(found, probabilities, strict=True):
            for fail in self.head.fired(probs):
                rule = rules.get(fail)
                if rule is None or rule.negations.search(sentence) or rule.unless.search(sentence):
                    continue  # the head stands in for the rule's words, so the rule's exceptions apply to it
                if rule.request and not self.requests.search(sentence):
                    continue
                out[i].setdefault(fail, sentence)
        return out

    def _score(
        self, t: Transcript, ref: Reference | None, similarity: tuple[float, str] | None, learned: dict[str, str]
    ) -> QaResult:
        staff = t.texts("agent", "bot")
        fails: list[str] = []
        evidence: dict[str, str] = {}
        for rule in self.critical:
            hit = rule.first(t.texts(*rule.authors), self.requests) or learned.get(rule.id)
            if hit is not None:
                fails.append(rule.id)
                evidence[rule.id] = hit
        criteria: dict[str, float | None] = {}
        for c in self.scorecard.criteria:
            value, why = self._criterion(c, t, staff, ref, similarity)
            criteria[c.id] = value
            if why:
                evidence[c.id] = why
        return QaResult(t.id, t.agent_id, self._weighted(criteria, fails), tuple(fails), criteria, evidence)

    def _criterion(
        self, c: Criterion, t: Transcript, staff: list[str], ref: Reference | None, sim: tuple[float, str] | None
    ) -> tuple[float | None, str]:
        if not staff:
            return None, ""
        if c.kind in (CriterionKind.PHRASE, CriterionKind.ABSENCE):
            match, unless, _ = self.patterns[c.id]
            hit = _first(staff, match, unless)
            if c.kind is CriterionKind.PHRASE:
                return (1.0, hit) if hit else (0.0, "no agent sentence does it")
            return (0.0, hit) if hit else (1.0, "")
        if c.kind is CriterionKind.MANNER:
            match, _, fail = self.patterns[c.id]
            return _manner(c, staff, match, fail)
        if c.kind is CriterionKind.CLOSING:
            match, unless, fail = self.patterns[c.id]
            last = _first(staff[-1:], fail, _NONE)
            if last:
                return 0.0, last
            step = _first(staff, match, unless)
            return (1.0, step) if step or not c.required else (0.0, "no clear next step")
        if c.kind is CriterionKind.RESOLUTION:
            return self._resolution(c, t, staff, ref, sim)
        if c.kind is CriterionKind.HANDOFF:
            return self._handoff(staff, t.expected_tier or (ref.tier if ref else None))
        return _sla(t)

    def _resolution(
        self, c: Criterion, t: Transcript, staff: list[str], ref: Reference | None, sim: tuple[float, str] | None
    ) -> tuple[float | None, str]:
        bad = _first(staff, self.patterns[c.id][2], _NONE)
        if bad:
            return 0.0, bad
        tier = t.expected_tier or (ref.tier if ref else None)
        handed = self._handed_to(staff)
        if tier in PROTECTED_TIERS or handed:
            return (1.0, handed[1]) if handed else (0.0, "a specialist contact was not handed over")
        if sim is not None:
            score, sentence = sim
            if score < c.min_similarity:
                return 0.0, f"no agent turn matches the article (best {score:.2f}): {sentence}"
            return 1.0, sentence
        substantive = [s for text in staff for s in sentences(text) if len(s.split()) >= _SUBSTANTIVE_WORDS]
        return (1.0, substantive[0]) if substantive else (0.0, "no substantive answer")

    async def _similarities(
        self, transcripts: Sequence[Transcript], refs: Sequence[Reference | None]
    ) -> list[tuple[float, str] | None]:
        out: list[tuple[float, str] | None] = [None] * len(transcripts)
        if self.embedder is None:
            return out
        jobs = []
        for i, (t, r) in enumerate(zip(transcripts, refs, strict=True)):
            sents = [s for x in t.texts("agent", "bot") for s in sentences(x)]
            if r is not None and r.passages and sents:
                jobs.append((i, sents, r.passages))
        texts = [s for _, sents, passages in jobs for s in (*sents, *passages)]
        if not texts:
            return out
        vectors = iter(await self.embedder.embed(texts))
        for i, sents, passages in jobs:
            sv = [next(vectors) for _ in sents]
            pv = [next(vectors) for _ in passages]
            best = max(((_cos(a, b), s) for a, s in zip(sv, sents, strict=True) for b in pv), key=lambda x: x[0])
            out[i] = best
        return out

    def _handed_to(self, staff: list[str]) -> tuple[str, str] | None:
        for text in staff:
            for sentence in sentences(text):
                if self.handover.search(sentence):
                    team = next((tier for tier, p in self.teams.items() if p.search(sentence)), "")
                    return team, sentence
        return None

    def _handoff(self, staff: list[str], expected: str | None) -> tuple[float | None, str]:
        handed = self._handed_to(staff)
        if handed is None:
            if expected in PROTECTED_TIERS:
                return 0.0, f"not handed to the {expected} team"
            return None, ""
        team, sentence = handed
        if expected is None or not team or expected in ("bot", "t1"):
            return (1.0, sentence) if expected not in PROTECTED_TIERS else (0.0, sentence)
        if team == expected:
            return 1.0, sentence
        return 0.0, f"handed to {team}, the driver needs {expected}: {sentence}"


_NONE = Patterns(())


def _manner(c: Criterion, staff: list[str], warm: Patterns, fail: Patterns) -> tuple[float, str]:
    bad = _first(staff, fail, _NONE)
    if bad:
        return 0.0, bad
    for text in staff:
        if len(text.split()) <= c.curt_words and not warm.search(text):
            return 0.0, text
    return 1.0, ""


def _first(texts: list[str], match: Patterns, unless: Patterns) -> str:
    for text in texts:
        for sentence in sentences(text):
            if match.search(sentence) and not unless.search(sentence):
                return sentence
    return ""


def _sla(t: Transcript) -> tuple[float | None, str]:
    if t.first_response_due is None:
        return None, ""
    first = next((turn.at for turn in t.turns if turn.author == "agent" and turn.at is not None), None)
    if first is None:
        return None, ""
    met = first <= t.first_response_due
    return (1.0 if met else 0.0), f"first response {first.isoformat()} (due {t.first_response_due.isoformat()})"


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
