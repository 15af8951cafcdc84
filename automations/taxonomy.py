"""The contact taxonomy and routing table, loaded from ``automations/data/taxonomy.yaml``.

Each category has a driver group, the human tier that owns it, whether the bot may answer it, SLAs and articles.
Sensitive categories (legal, regulatory, fraud, AML, privacy) can never be made bot-answerable by configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from automations.configfile import Issue, load_yaml_model
from automations.resources import data_path
from automations.risk_kinds import ATM_CASH_CATEGORY, KIND_CATEGORY

__all__ = [
    "DEFAULT_TAXONOMY",
    "FALLBACK_TIER",
    "HUMAN_ONLY_CATEGORIES",
    "PROTECTED_TIERS",
    "SENSITIVE_CATEGORIES",
    "TIER_IDS",
    "Category",
    "DriverGroup",
    "Taxonomy",
    "Tier",
    "load_taxonomy",
]

DEFAULT_TAXONOMY = data_path("taxonomy.yaml")
TIER_IDS = ("bot", "t1", "t2", "payments", "fraud", "compliance", "legal")
FALLBACK_TIER = "t1"
"""The human tier that gets a contact no other rule places (failures, injections, other languages)."""
PROTECTED_TIERS = frozenset({"fraud", "compliance", "legal"})
"""Tiers whose contacts never reach a language model."""
SENSITIVE_CATEGORIES = {
    "legal_request": "legal",
    "regulatory_complaint": "compliance",
    "suspected_fraud": "fraud",
    "aml_compliance": "compliance",
    "data_privacy_request": "compliance",
}
HUMAN_ONLY_CATEGORIES = frozenset({*KIND_CATEGORY.values(), ATM_CASH_CATEGORY})
"""Categories the safety layer hands protected contacts to (signals and the learned risk layer): each must exist,
and the bot may never answer it."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: object) -> object:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"duration {value!r} must look like 30m, 4h or 5d")
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class DriverGroup(StrEnum):
    """Contact-driver groups used in reporting."""

    CARDS = "Cards"
    TRANSFERS = "Transfers"
    TOP_UPS = "Top-ups"
    PAYMENTS = "Payments"
    ACCOUNT = "Account & identity"
    FEES_FX = "Fees & FX"
    SECURITY = "Security & fraud"
    COMPLIANCE = "Compliance & legal"
    OTHER = "Other"


class Tier(BaseModel):
    """A team that owns hand-offs, with its default SLAs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    first_response: Duration
    resolution: Duration


class Category(BaseModel):
    """One contact driver and its routing."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    group: DriverGroup
    tier: str
    bot_may_answer: bool
    sensitive: bool = False
    articles: tuple[str, ...] = ()
    first_response: Duration | None = None
    resolution: Duration | None = None
    reply: str | None = None


class Taxonomy(BaseModel):
    """The whole routing table, with lookups."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    tiers: tuple[Tier, ...]
    categories: tuple[Category, ...]
    _by_id: dict[str, Category] = PrivateAttr(default_factory=dict)
    _tiers: dict[str, Tier] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Build the lookups once (the model is frozen, so they never go stale)."""
        self._by_id = {c.id: c for c in self.categories}
        self._tiers = {t.id: t for t in self.tiers}

    def __iter__(self) -> Iterator[Category]:  # type: ignore[override]
        return iter(self.categories)

    def category(self, category_id: str) -> Category:
        """Return a category by id (``KeyError`` if unknown)."""
        return self._by_id[category_id]

    def tier(self, tier_id: str) -> Tier:
        """Return a tier by id (``KeyError`` if unknown)."""
        return self._tiers[tier_id]

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def sla(self, category_id: str, tier_id: str | None = None) -> tuple[timedelta, timedelta]:
        """First-response and resolution SLA of a category (its own, else its tier's, else ``tier_id``'s)."""
        cat = self.category(category_id)
        tier = self.tier(tier_id or cat.tier)
        return cat.first_response or tier.first_response, cat.resolution or tier.resolution

    @property
    def ids(self) -> tuple[str, ...]:
        """All category ids, in file order."""
        return tuple(c.id for c in self.categories)

    def with_articles(self, extra: Mapping[str, Iterable[str]]) -> Taxonomy:
        """A copy where each category in ``extra`` also owns the given article ids (for example Help Center
        articles imported at run time); unknown categories are ignored."""
        categories = tuple(
            c.model_copy(update={"articles": tuple(dict.fromkeys((*c.articles, *extra.get(c.id, ()))))})
            for c in self.categories
        )
        return Taxonomy(version=self.version, tiers=self.tiers, categories=categories)


def _check(tax: Taxonomy) -> Iterator[Issue]:
    tier_ids = [t.id for t in tax.tiers]
    for i, tier in enumerate(tax.tiers):
        if tier.id not in TIER_IDS:
            yield ("tiers", i, "id"), f"unknown tier {tier.id!r}; tiers are exactly {', '.join(TIER_IDS)}"
    for missing in sorted(set(TIER_IDS) - set(tier_ids)):
        yield ("tiers",), f"tier {missing!r} is missing"
    seen: set[str] = set()
    for i, cat in enumerate(tax.categories):
        if cat.id in seen:
            yield ("categories", i, "id"), f"duplicate category {cat.id!r}"
        seen.add(cat.id)
        if cat.tier not in tier_ids:
            yield ("categories", i, "tier"), f"unknown tier {cat.tier!r}"
        required = SENSITIVE_CATEGORIES.get(cat.id)
        if required is not None and (cat.bot_may_answer or cat.tier != required or not cat.sensitive):
            yield (
                ("categories", i, "id"),
                f"{cat.id} is a protected category: it must have tier {required}, sensitive: true "
                "and bot_may_answer: false",
            )
        if cat.bot_may_answer and not cat.articles and not cat.reply:
            yield ("categories", i, "articles"), f"{cat.id} is answerable but has no article and no reply"
        if cat.sensitive and cat.bot_may_answer:
            yield ("categories", i, "bot_may_answer"), "sensitive categories are never answered by the bot"
        if cat.id in HUMAN_ONLY_CATEGORIES and cat.bot_may_answer:
            yield ("categories", i, "bot_may_answer"), f"{cat.id} receives protected contacts: bot_may_answer: false"
    for missing in sorted(HUMAN_ONLY_CATEGORIES - seen):
        yield ("categories",), f"category {missing!r} is missing: the safety layer hands contacts to it"


def load_taxonomy(path: Path | str = DEFAULT_TAXONOMY) -> Taxonomy:
    """Load and validate a taxonomy file; errors name the file and line."""
    return load_yaml_model(path, Taxonomy, _check)
