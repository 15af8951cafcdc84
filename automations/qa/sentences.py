"""Sentence splitting and compiled sentence rules for QA scoring."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from automations.qa.scorecard import Rule

__all__ = ["CompiledRule", "Patterns", "sentences"]

_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|St|Mt|No|Nr|Ref|approx|incl|e\.g|i\.e|vs|etc)|\b[A-Z])\.$"
)


def sentences(text: str) -> list[str]:
    """The sentences of one message; a period after a title ("Mr."), an initial ("J.") or "e.g." ends none."""
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group().startswith(".") and _ABBREVIATION.search(text[start : match.start() + 1]):
            continue
        out.append(text[start : match.start() + len(match.group().rstrip())])
        start = match.end()
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


class Patterns:
    """A list of case-insensitive regular expressions; :meth:`search` returns whether any matches."""

    def __init__(self, patterns: Iterable[str]) -> None:
        """Compile ``patterns``."""
        self.compiled = tuple(re.compile(p, re.IGNORECASE) for p in patterns)

    def search(self, text: str) -> bool:
        """Whether any pattern matches ``text``."""
        return any(p.search(text) for p in self.compiled)

    def __bool__(self) -> bool:
        """Whether there are any patterns."""
        return bool(self.compiled)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A :class:`~automations.qa.scorecard.Rule` ready to test sentences."""

    id: str
    authors: frozenset[str]
    request: bool
    strong: Patterns
    match: Patterns
    unless: Patterns
    negations: Patterns

    @classmethod
    def of(cls, rule: Rule) -> CompiledRule:
        """Compile a scorecard rule."""
        return cls(
            rule.id, frozenset(rule.authors), rule.request, Patterns(rule.strong), Patterns(rule.match),
            Patterns(rule.unless), Patterns(rule.negations),
        )  # fmt: skip

    def fires(self, sentence: str, requests: Patterns) -> bool:
        """Whether this sentence commits the rule's fault."""
        if self.negations.search(sentence):
            return False
        if self.request and not requests.search(sentence):
            return False
        if self.strong.search(sentence):
            return True
        return self.match.search(sentence) and not self.unless.search(sentence)

    def first(self, texts: Sequence[str], requests: Patterns) -> str | None:
        """The first sentence of ``texts`` that fires, or ``None``."""
        for text in texts:
            for sentence in sentences(text):
                if self.fires(sentence, requests):
                    return sentence
        return None
