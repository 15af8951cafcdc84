"""The QA scorecard: critical fails and weighted quality criteria, loaded from YAML with ``file:line`` errors.

The shipped scorecard is ``automations/data/qa_scorecard.yaml``; a deployment may point at its own file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.resources import data_path

__all__ = [
    "CRITICAL_FAIL_IDS",
    "DEFAULT_SCORECARD",
    "Criterion",
    "CriterionKind",
    "Rule",
    "Scorecard",
    "load_scorecard",
]

DEFAULT_SCORECARD = data_path("qa_scorecard.yaml")
CRITICAL_FAIL_IDS = (
    "asked_for_card_number", "asked_for_secret", "tipping_off", "shared_third_party_data", "guaranteed_outcome",
)  # fmt: skip


def _pattern(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """A sentence rule: fires on a ``strong`` match, or a ``match`` without ``unless``; never with a negation."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    request: bool = False
    authors: tuple[str, ...] = ("agent", "bot")
    strong: tuple[Pattern, ...] = ()
    match: tuple[Pattern, ...] = ()
    unless: tuple[Pattern, ...] = ()
    negations: tuple[Pattern, ...] = ()


class CriterionKind(StrEnum):
    """How a quality criterion is scored."""

    PHRASE = "phrase"  # passes when an agent sentence matches
    ABSENCE = "absence"  # passes when no agent sentence matches
    MANNER = "manner"  # fails on a `fail` sentence or a curt message (`curt_words` or fewer, no `match`)
    CLOSING = "closing"  # fails when the last agent message matches `fail` (or, `required`, no sentence matches)
    RESOLUTION = "resolution"  # the agent's turns against the driver's KB article (and fail phrases)
    HANDOFF = "handoff"  # the team the agent handed to, against the team the driver needs
    SLA = "sla"  # the first human response against its deadline


class Criterion(_Strict):
    """A weighted quality criterion."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(gt=0)
    kind: CriterionKind
    match: tuple[Pattern, ...] = ()
    unless: tuple[Pattern, ...] = ()
    fail: tuple[Pattern, ...] = ()
    min_similarity: float = Field(default=0.35, ge=0, le=1)
    curt_words: int = Field(default=0, ge=0)
    required: bool = False  # `closing`: some sentence must match `match`


class Scorecard(_Strict):
    """The whole scorecard."""

    version: int = 1
    requests: tuple[Pattern, ...]
    critical_fails: tuple[Rule, ...]
    criteria: tuple[Criterion, ...]
    handover: tuple[Pattern, ...] = ()
    teams: dict[str, tuple[Pattern, ...]] = Field(default_factory=dict)

    def criterion(self, criterion_id: str) -> Criterion | None:
        """The criterion with this id, if the scorecard has it."""
        return next((c for c in self.criteria if c.id == criterion_id), None)


def _check(card: Scorecard) -> Iterator[Issue]:
    seen: set[str] = set()
    for i, rule in enumerate(card.critical_fails):
        if rule.id in seen:
            yield ("critical_fails", i, "id"), f"duplicate id {rule.id!r}"
        seen.add(rule.id)
        if not rule.strong and not rule.match:
            yield ("critical_fails", i), "a critical fail needs `strong` or `match` patterns"
    for i, criterion in enumerate(card.criteria):
        if criterion.id in seen:
            yield ("criteria", i, "id"), f"duplicate id {criterion.id!r}"
        seen.add(criterion.id)
        if (
            criterion.kind in (CriterionKind.PHRASE, CriterionKind.ABSENCE, CriterionKind.CLOSING)
            and not criterion.match
        ):
            yield ("criteria", i), f"a `{criterion.kind}` criterion needs `match` patterns"
    missing = [c for c in CRITICAL_FAIL_IDS if c not in seen]
    if missing:
        yield ("critical_fails",), f"missing the required critical fails: {', '.join(missing)}"


def load_scorecard(path: Path | str = DEFAULT_SCORECARD) -> Scorecard:
    """Load and validate a scorecard (raises :class:`~automations.configfile.ConfigError` with ``file:line``)."""
    return load_yaml_model(path, Scorecard, check=_check)
