"""The safety layer: rules that run beside the classifier and that no customer text can switch off.

Legal, regulatory, fraud, AML and privacy contacts are caught by two independent signals: curated patterns
(``automations/data/safety.yaml``) and the classifier's probability for those categories. Requests for a human are
caught by patterns too. Prompt-injection attempts are detected, cut out of the text before classification, and flag
the contact so that it can never be auto-answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.models import Classification, SafetyVerdict
from automations.taxonomy import SENSITIVE_CATEGORIES

__all__ = ["DEFAULT_RULES", "SafetyGate", "SafetyRules", "load_safety_rules"]

DEFAULT_RULES = Path(__file__).parent / "data" / "safety.yaml"
HUMAN = "human_request"
_SPLIT = re.compile(r"(?<=[.!?\n])\s+|\n+")
_BLOCK = re.compile(
    r"\{\{[^}\n]{0,300}\}\}|\[[^\]\n]{0,300}\]|<(\w+)[^>]{0,40}>.{0,300}?</\1\s*>|<!--.{0,300}?-->", re.DOTALL
)


def _one(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:  # reported by pydantic with the pattern's own location, hence file and line
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return pattern


Pattern = Annotated[str, AfterValidator(_one)]


class SafetyRules(BaseModel):
    """Validated contents of the safety rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    classifier_min_probability: float = Field(ge=0.0, le=1.0)
    sentence_min_probability: float = Field(default=1.01, ge=0.0, le=1.01)
    priority: dict[str, list[Pattern]] = Field(default_factory=dict)
    categories: dict[str, list[Pattern]]
    human_request: list[Pattern]
    injection: list[Pattern]


def _check(rules: SafetyRules) -> Iterator[Issue]:
    for section, groups in (("priority", rules.priority), ("categories", rules.categories)):
        for name in groups:
            if name not in SENSITIVE_CATEGORIES:
                yield (section, name), f"{name} is not a protected category ({', '.join(SENSITIVE_CATEGORIES)})"
    for name in SENSITIVE_CATEGORIES:
        if not rules.categories.get(name):
            yield ("categories",), f"protected category {name} has no patterns"


def load_safety_rules(path: Path | str = DEFAULT_RULES) -> SafetyRules:
    """Load and validate a safety rules file; errors name the file and line."""
    return load_yaml_model(path, SafetyRules, _check)


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE)


class SafetyGate:
    """Applies :class:`SafetyRules` to a redacted message and the classifier's view of it."""

    def __init__(self, rules: SafetyRules | None = None) -> None:
        self.rules = rules or load_safety_rules()
        ordered = [*self.rules.priority.items(), *self.rules.categories.items()]
        self._categories = [(name, _any(patterns)) for name, patterns in ordered]
        self._human = _any(self.rules.human_request)
        self._injection = _any(self.rules.injection)

    def neutralize(self, text: str) -> tuple[str, bool]:
        """Drop the sentences or lines that carry embedded instructions; returns (clean text, injection found).

        The clean text is empty when every sentence was an instruction."""
        if not self._injection.search(text):
            return text, False
        # delimited instruction blocks ([...], <tag>...</tag>, <!-- -->) are cut out on their own, keeping the rest
        text = _BLOCK.sub(lambda m: " " if self._injection.search(m.group(0)) else m.group(0), text)
        kept = [part for part in _SPLIT.split(text) if part.strip() and not self._injection.search(part)]
        clean = " ".join(kept).strip()
        return clean, True

    def strip(self, text: str) -> str:
        """``text`` without the instruction spans themselves, for messages where request and instruction share a
        sentence: what remains may still carry a protected request, but the instruction can no longer pick it."""
        return " ".join(self._injection.sub(" ", _BLOCK.sub(" ", text)).split())

    def sentences(self, text: str) -> list[str]:
        """The sentences of a longer message, classified one by one so a request buried after another is seen."""
        parts = [p.strip() for p in _SPLIT.split(text) if len(p.split()) >= 3]
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
        classifier's view of each sentence (``sentences``) is checked with a stricter floor.
        """
        for name, pattern in self._categories:
            match = pattern.search(text)
            if match is not None:
                return SafetyVerdict(name, (f"pattern:{name}:{match.group(0)[:40]!r}",), injection)
        match = self._human.search(text)
        if match is not None:
            return SafetyVerdict(HUMAN, (f"pattern:{HUMAN}:{match.group(0)[:40]!r}",), injection)
        if classification is not None:
            floor = self.rules.classifier_min_probability
            for label, probability in classification.ranked:
                if label in SENSITIVE_CATEGORIES and probability >= floor:
                    return SafetyVerdict(label, (f"classifier:{label}:{probability:.2f}",), injection)
        for sentence in sentences:
            if sentence.category in SENSITIVE_CATEGORIES and sentence.confidence >= self.rules.sentence_min_probability:
                label = sentence.category
                return SafetyVerdict(label, (f"sentence:{label}:{sentence.confidence:.2f}",), injection)
        if classification is not None and classification.category == HUMAN:
            return SafetyVerdict(HUMAN, (f"classifier:{HUMAN}:{classification.confidence:.2f}",), injection)
        return SafetyVerdict(None, (), injection)
