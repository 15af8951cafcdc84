"""The safety rules file (``automations/data/safety.yaml``): its validated model and loader.

:mod:`automations.safety` applies these rules; it re-exports everything here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.language import LanguageRules, unknown_languages
from automations.resources import data_path
from automations.risk_kinds import KIND_CATEGORY
from automations.signals import SignalRules
from automations.taxonomy import SENSITIVE_CATEGORIES

__all__ = ["DEFAULT_RULES", "Pattern", "SafetyRules", "ThirdParty", "load_safety_rules"]

DEFAULT_RULES = data_path("safety.yaml")


def _one(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:  # reported by pydantic with the pattern's own location, hence file and line
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return pattern


Pattern = Annotated[str, AfterValidator(_one)]


class ThirdParty(BaseModel):
    """Cues that a question is about another company's product, and the words that make it about Lumen after all."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    brands: list[Pattern] = Field(default_factory=list)
    context: list[Pattern] = Field(default_factory=list)
    lumen: list[Pattern] = Field(default_factory=list)
    service: list[Pattern] = Field(default_factory=list)
    ours: list[Pattern] = Field(default_factory=list)


PRIORITY_ONLY = (KIND_CATEGORY["identity_change"],)
"""Categories that ``priority`` may name beside the protected ones: a change of identity data asked for in so many
words (with a court order, or after an identity theft) goes to t2 before any legal or fraud pattern reads it."""


class SafetyRules(BaseModel):
    """Validated contents of the safety rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    classifier_min_probability: float = Field(ge=0.0, le=1.0)
    sentence_min_probability: float = Field(default=1.01, ge=0.0, le=1.01)
    injection_min_probability: float | None = Field(default=None, ge=0.0, le=1.01)
    injection_risk_min_probability: float | None = Field(default=None, ge=0.0, le=1.01)
    priority: dict[str, list[Pattern]] = Field(default_factory=dict)
    categories: dict[str, list[Pattern]]
    human_request: list[Pattern]
    injection: list[Pattern]
    third_party: ThirdParty = Field(default_factory=ThirdParty)
    language: LanguageRules = Field(default_factory=LanguageRules)
    signals: SignalRules = Field(default_factory=SignalRules)
    status_questions: list[Pattern] = Field(default_factory=list)
    """Questions that name a regulator only to ask about Lumen's standing ("are you authorised by the FCA?", "what is
    your FSP number?"): blanked before the patterns run, so the name alone does not make a complaint."""
    lean_to_person: list[str] = Field(default_factory=list)
    """Answerable categories next to a protected kind (a lost card, a lost phone): when the risk layer leans to a
    protected kind on such a message, a person gets it rather than the article."""


def _check(rules: SafetyRules) -> Iterator[Issue]:
    for section, groups in (("priority", rules.priority), ("categories", rules.categories)):
        allowed = (*SENSITIVE_CATEGORIES, *(PRIORITY_ONLY if section == "priority" else ()))
        for name in groups:
            if name not in allowed:
                yield (section, name), f"{name} is not a protected category ({', '.join(allowed)})"
    for name in SENSITIVE_CATEGORIES:
        if not rules.categories.get(name):
            yield ("categories",), f"protected category {name} has no patterns"
    language = rules.language
    for field, codes in (("readable", language.readable), ("candidates", language.candidates)):
        for code in unknown_languages(codes):
            yield ("language", field), f"{code} is not a language the language model knows"
    if language.candidates and not set(language.readable) & set(language.candidates):
        yield ("language", "candidates"), "no readable language among the candidates"


def load_safety_rules(path: Path | str = DEFAULT_RULES) -> SafetyRules:
    """Load and validate a safety rules file; errors name the file and line."""
    return load_yaml_model(path, SafetyRules, _check)
