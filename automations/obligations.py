"""Regulatory clocks: which obligations a contact starts, and when each falls due.

The rules live in ``automations/data/obligations.yaml`` (validated with ``file:line`` errors, like the taxonomy).
:meth:`Obligations.deadlines` turns a decided contact (its category, the request kinds found in it, its text, when it
was received and where the customer is) into :class:`~automations.models.Deadline` values, each due at the end of
its due day in the offset of ``received_at``. Business days skip weekends and the jurisdiction's public holidays
(the ``holidays`` package).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import holidays
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

from automations.configfile import Issue, load_yaml_model
from automations.models import Deadline
from automations.resources import data_path
from automations.statedates import stated_dates

__all__ = [
    "DEFAULT_OBLIGATIONS",
    "Clock",
    "Obligations",
    "Rule",
    "Unit",
    "add_business_days",
    "add_months",
    "covers",
    "load_obligations",
]

DEFAULT_OBLIGATIONS = data_path("obligations.yaml")
_CODE = re.compile(r"^(?:\*|[A-Z]{2}(?:-[A-Z0-9]{1,3})?)$")


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return value


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166 code like US, US-CA, GB or ZA (or *)")
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]
Code = Annotated[str, AfterValidator(_code)]


class Unit(StrEnum):
    """How a clock counts."""

    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    CALENDAR_MONTHS = "calendar_months"
    STATED_DATE = "stated_date"


class Clock(BaseModel):
    """One way a rule's clock runs, in the jurisdictions it lists."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    jurisdictions: tuple[Code, ...] = Field(min_length=1)
    unit: Unit
    count: int = Field(default=0, ge=0)
    calendar: Code | None = None
    """The business-day calendar (a jurisdiction); the contact's own jurisdiction when unset."""
    otherwise: str | None = None
    """For ``stated_date``: the rule that applies when the text states no date."""
    basis: str = Field(min_length=1)


class Rule(BaseModel):
    """One obligation: what starts it, its clocks, the owning tier and when to warn."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    tier: str
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    internal: bool = False
    warn_at: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = ()
    clocks: tuple[Clock, ...] = Field(min_length=1)


def covers(code: str, jurisdiction: str) -> bool:
    """Whether a rule's ``code`` applies in ``jurisdiction``: ``*``, the same code, or its country (``US`` covers
    ``US-CA``)."""
    return code in ("*", jurisdiction) or jurisdiction.startswith(f"{code}-")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month when it has no such day (Jan 31 → Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@lru_cache(maxsize=64)
def _calendar(code: str) -> holidays.HolidayBase:
    country, _, subdivision = code.partition("-")
    try:
        return holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:  # an unknown subdivision keeps its country's holidays; an unknown country, none
        try:
            return holidays.country_holidays(country)
        except NotImplementedError:
            return holidays.HolidayBase()


def add_business_days(day: date, count: int, calendar: str) -> date:
    """The ``count``-th business day after ``day``: Monday to Friday, less ``calendar``'s public holidays."""
    off = _calendar(calendar)
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            count -= 1
    return day


class Obligations(BaseModel):
    """Every rule of the obligations file, with the request kinds it detects in text."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    kinds: dict[str, tuple[Pattern, ...]] = {}
    rules: tuple[Rule, ...]
    _kinds: dict[str, tuple[re.Pattern[str], ...]] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, Rule] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Compile the kind patterns and index the rules once (the model is frozen)."""
        self._kinds = {k: tuple(re.compile(p, re.IGNORECASE) for p in ps) for k, ps in self.kinds.items()}
        self._by_id = {rule.id: rule for rule in self.rules}

    def rule(self, rule_id: str) -> Rule:
        """The rule named ``rule_id``."""
        return self._by_id[rule_id]

    def detect(self, text: str) -> frozenset[str]:
        """The request kinds whose patterns match ``text``."""
        return frozenset(k for k, patterns in self._kinds.items() if any(p.search(text) for p in patterns))

    def deadlines(
        self,
        decision_category: str,
        request_kinds: Iterable[str],
        text: str,
        received_at: datetime,
        jurisdiction: str,
    ) -> list[Deadline]:
        """The clocks this contact starts, earliest due first. ``received_at`` without an offset is taken as UTC."""
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        kinds = self.detect(text) | set(request_kinds)
        found: list[Deadline] = []
        for rule in self.rules:
            if decision_category in rule.categories or kinds & set(rule.kinds):
                deadline = self._deadline(rule, text, received_at, jurisdiction)
                if deadline is not None:
                    found.append(deadline)
        return sorted(found, key=lambda d: (d.due, d.id))

    def _deadline(self, rule: Rule, text: str, received_at: datetime, jurisdiction: str) -> Deadline | None:
        clock = next((c for c in rule.clocks if any(covers(j, jurisdiction) for j in c.jurisdictions)), None)
        if clock is None:
            return None
        day, basis = received_at.date(), clock.basis
        if clock.unit is Unit.CALENDAR_DAYS:
            due = day + timedelta(days=clock.count)
        elif clock.unit is Unit.CALENDAR_MONTHS:
            due = add_months(day, clock.count)
        elif clock.unit is Unit.BUSINESS_DAYS:
            due = add_business_days(day, clock.count, clock.calendar or jurisdiction)
        else:
            stated = stated_dates(text, after=day, month_first=covers("US", jurisdiction))
            if not stated:
                fallback = self._by_id[clock.otherwise] if clock.otherwise else None
                return self._deadline(fallback, text, received_at, jurisdiction) if fallback else None
            due, basis = stated[0], f"{basis}: {stated[0].isoformat()}."
        end = datetime.combine(due, time(23, 59, 59), tzinfo=received_at.tzinfo)
        return Deadline(rule.id, end, basis, internal=rule.internal, tier=rule.tier)


def _check(obligations: Obligations) -> Iterator[Issue]:
    ids = [rule.id for rule in obligations.rules]
    for i, rule in enumerate(obligations.rules):
        if rule.id in ids[:i]:
            yield ("rules", i, "id"), f"duplicate rule id {rule.id!r}"
        for kind in rule.kinds:
            if kind not in obligations.kinds:
                yield ("rules", i, "kinds"), f"unknown kind {kind!r}; kinds are {', '.join(obligations.kinds)}"
        for j, clock in enumerate(rule.clocks):
            where: tuple[int | str, ...] = ("rules", i, "clocks", j)
            if clock.unit is Unit.STATED_DATE and clock.otherwise is not None and clock.otherwise not in ids:
                yield (*where, "otherwise"), f"unknown rule {clock.otherwise!r}"
            if clock.unit is not Unit.STATED_DATE and clock.count < 1:
                yield (*where, "count"), f"a {clock.unit} clock needs a count of at least 1"
            if clock.calendar is not None and clock.calendar != "*":
                country = clock.calendar.partition("-")[0]
                if country not in holidays.list_supported_countries():
                    yield (*where, "calendar"), f"no holiday calendar for {clock.calendar!r}"


def load_obligations(path: Path | str = DEFAULT_OBLIGATIONS) -> Obligations:
    """Load and validate the obligations file; errors name the file and line."""
    return load_yaml_model(path, Obligations, check=_check)
