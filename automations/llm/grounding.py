"""The grounding check: nothing a model drafted reaches a customer unless the retrieved passages support it.

Four checks, all of which must pass:

1. **Facts** (:mod:`automations.llm.facts`): every number, amount, time frame, link, contact token and speed or price
   claim of the draft appears in the passages.
2. **Leaks** (:mod:`automations.llm.leaks`): on the customer channel, no wording found only in internal articles, and
   on every channel no wording from the system prompt.
3. **Negation**: a sentence does not flip the polarity of the passage sentence that supports it best.
4. **Support**: every sentence of the draft is close, in the embedder's space, to a sentence (or two adjacent
   sentences) of the passages, and most of its content words occur in them; both thresholds are calibrated on a
   labelled development set (``autopilot eval answers``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from automations.llm.facts import unsupported_facts
from automations.llm.leaks import LeakGuard, prompt_overlap, words
from automations.models import Channel, Passage, Visibility
from automations.ports import Embedder

__all__ = ["Assessment", "GroundingChecker", "GroundingPolicy", "GroundingVerdict", "SentenceSupport", "sentences"]

_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_MARKUP = re.compile(r"^\s*(?:[-*•>#]+|\d+[.)])\s*|\*\*|__|`")
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "without", "neither", "nor", "none", "nothing"})
_STOP_WORDS = (
    "the a an and or but if then than that this these those there their them they you your yours we our us it its"
    " is are was were be been being to of in on at by for with from as into onto about over under up down out can"
    " could will would should may might must do does did have has had not no so such which who whom what when where"
    " why how any all each more most other some only own same too very just also after before once here again"
    " further while lumen get got let please"
)
_STOP = frozenset(_STOP_WORDS.split())


def sentences(text: str) -> list[str]:
    """Split a draft or passage into sentences and list items, markup removed."""
    out = []
    for part in _SPLIT.split(text):
        clean = _MARKUP.sub("", part).replace("**", "").strip()
        if clean:
            out.append(clean)
    return out


def _stem(word: str) -> str:
    word = word.replace("’", "'").removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _content(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if w not in _STOP and len(w) > 2 and not w.isdigit()}


def _negated(text: str) -> bool:
    return any(w in _NEGATIONS or w.endswith(("n't", "n’t")) for w in words(text))


@dataclass(frozen=True, slots=True)
class GroundingPolicy:
    """Calibrated operating point: a sentence is supported when its best passage sentence has cosine similarity
    ``>= similarity`` and ``>= coverage`` of its content words occur in the passages."""

    similarity: float = 0.68
    coverage: float = 0.65
    negation_margin: float = 0.05
    min_words: int = 3


@dataclass(frozen=True, slots=True)
class SentenceSupport:
    """How well the passages support one sentence of a draft."""

    sentence: str
    similarity: float
    lexical: float
    article_id: str | None
    same_polarity: float = 1.0

    def flipped(self, policy: GroundingPolicy) -> bool:
        """Whether the best support says the opposite: its polarity (negated or not) differs from the sentence's and
        the best passage sentence of the same polarity is more than the margin less similar."""
        return self.similarity - self.same_polarity > policy.negation_margin

    def supported(self, policy: GroundingPolicy) -> bool:
        """Whether both scores reach the policy's thresholds."""
        return self.similarity >= policy.similarity and self.lexical >= policy.coverage


@dataclass(frozen=True, slots=True)
class GroundingVerdict:
    """Whether a draft may be sent; ``reason`` is ``grounded`` or the first failed check."""

    grounded: bool
    reason: str
    detail: str
    support: float
    cited: str | None


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the checks found, independent of the threshold (so it can be calibrated)."""

    sentences: tuple[SentenceSupport, ...]
    facts: tuple[tuple[str, str], ...] = ()
    internal: tuple[str, ...] = ()
    prompt: tuple[str, ...] = ()

    @property
    def support(self) -> float:
        """The weakest sentence's similarity (1.0 for a draft with no sentence long enough to score)."""
        return min((s.similarity for s in self.sentences), default=1.0)

    def verdict(self, policy: GroundingPolicy) -> GroundingVerdict:
        """Apply ``policy``: the first failed check names the reason."""
        support = self.support
        cited = self._cited()
        if not self.sentences and not self.facts:
            return GroundingVerdict(False, "empty_draft", "", 0.0, None)
        if self.facts:
            kind, fact = self.facts[0]
            return GroundingVerdict(False, f"unsupported_{kind}", fact, support, cited)
        if self.internal:
            return GroundingVerdict(False, "internal_leak", self.internal[0], support, cited)
        if self.prompt:
            return GroundingVerdict(False, "prompt_leak", self.prompt[0], support, cited)
        flipped = [s for s in self.sentences if s.flipped(policy)]
        if flipped:
            return GroundingVerdict(False, "negation_mismatch", flipped[0].sentence[:80], support, cited)
        weak = [s for s in self.sentences if not s.supported(policy)]
        if weak:
            return GroundingVerdict(False, "unsupported_sentence", weak[0].sentence[:80], support, cited)
        return GroundingVerdict(True, "grounded", "", support, cited)

    def _cited(self) -> str | None:
        votes: dict[str, int] = {}
        for s in self.sentences:
            if s.article_id is not None:
                votes[s.article_id] = votes.get(s.article_id, 0) + 1
        return max(votes, key=lambda a: votes[a]) if votes else None


class GroundingChecker:
    """Checks drafts against the passages they were written from (see the module docstring)."""

    def __init__(self, embedder: Embedder, policy: GroundingPolicy | None = None, *, guard: LeakGuard | None = None):
        self.embedder = embedder
        self.policy = policy or GroundingPolicy()
        self.guard = guard

    async def check(
        self, draft: str, passages: Sequence[Passage], *, channel: Channel = Channel.CUSTOMER, system_prompt: str = ""
    ) -> GroundingVerdict:
        """Assess ``draft`` and apply the calibrated policy."""
        return (await self.assess(draft, passages, channel=channel, system_prompt=system_prompt)).verdict(self.policy)

    async def assess(
        self, draft: str, passages: Sequence[Passage], *, channel: Channel = Channel.CUSTOMER, system_prompt: str = ""
    ) -> Assessment:
        """Run every check on ``draft``; on the customer channel only public passages count as support."""
        allowed = [p for p in passages if channel is Channel.AGENT or p.visibility is Visibility.PUBLIC]
        sources = [f"{p.title}\n{p.section}\n{p.text}\n{p.url}" for p in allowed]
        facts = tuple(unsupported_facts(draft, sources))
        internal: tuple[str, ...] = ()
        if channel is Channel.CUSTOMER and self.guard is not None:
            internal = tuple(self.guard.internal_overlap(draft, sources))
        leaked = tuple(prompt_overlap(draft, system_prompt, sources)) if system_prompt else ()
        scored = [s for s in sentences(draft) if len(words(s)) >= self.policy.min_words]
        return Assessment(tuple(await self._support(scored, allowed)), facts, internal, leaked)

    async def _support(self, draft: list[str], passages: Sequence[Passage]) -> list[SentenceSupport]:
        if not draft:
            return []
        units: list[str] = []
        owners: list[str] = []
        for p in passages:
            parts = sentences(p.text)
            for i, part in enumerate(parts):
                units.append(part)
                owners.append(p.article_id)
                if i + 1 < len(parts):
                    units.append(f"{part} {parts[i + 1]}")
                    owners.append(p.article_id)
            units.append(p.section)
            owners.append(p.article_id)
        if not units:
            return [SentenceSupport(s, 0.0, 0.0, None) for s in draft]
        vocabulary = set().union(*(_content(f"{p.title} {p.section} {p.text}") for p in passages))
        negated = [_negated(u) for u in units]
        vectors = await self.embedder.embed([*draft, *units])
        sims = vectors[: len(draft)] @ vectors[len(draft) :].T
        out = []
        for row, sentence in enumerate(draft):
            best = int(np.argmax(sims[row]))
            content = _content(sentence)
            lexical = len(content & vocabulary) / len(content) if content else 1.0
            polarity = _negated(sentence)
            same = [float(sims[row, j]) for j in range(len(units)) if negated[j] == polarity]
            out.append(SentenceSupport(sentence, float(sims[row, best]), lexical, owners[best], max(same, default=0.0)))
        return out
