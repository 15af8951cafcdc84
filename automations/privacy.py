"""Data-subject rights and retention (POPIA, GDPR, CCPA): export, erasure and the retention policy.

:class:`Privacy` is the pure orchestration: it asks a :class:`DataSubjectStore` to export, erase or purge, stops the
customer's ``privacy_request`` clock through :class:`CustomerClocks`, and records every action in the
:class:`~automations.audit.AuditTrail` (``privacy.exported``, ``privacy.erased``, ``retention.purged``,
``retention.held``).

Erasure anonymises rather than deletes: every identifier (customer, contact and conversation ids) is replaced by an
irreversible random token (:func:`new_token`, the mapping is never stored) and every free text is blanked, while the
rows, their categories, tiers, outcomes, times and scores stay. Deleting rows would change every count the reports
have already shown (contacts, deflection, SLA, CSAT); with one token per erased customer, even the derived figures
that link contacts (repeat contacts) come out the same when the report facts are rebuilt.

A :class:`LegalHold` keeps records that an open legal process or an AML case still needs (retention and erasure
both skip them, and report them as held): a contact in the legal or compliance tier, or filed under legal process or
AML, whose outcome is not closed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from automations.audit import AuditEvent, AuditTrail
from automations.ports import Clock

__all__ = [
    "ANON_PREFIX",
    "PRIVACY_RULE",
    "CustomerClocks",
    "DataSubjectStore",
    "Erasure",
    "Held",
    "LegalHold",
    "MemoryCustomerClocks",
    "Privacy",
    "Purge",
    "RetentionPolicy",
    "SubjectExport",
    "id_pattern",
    "new_token",
]

ANON_PREFIX = "anon:"
"""Every token starts with this, so an anonymised identifier is recognisable (and never anonymised twice)."""
_WORD = r"A-Za-z0-9_\-"
PRIVACY_RULE = "privacy_request"
"""The obligation rule whose clock an export or an erasure answers."""


def new_token() -> str:
    """A fresh irreversible token: random, derived from nothing, so no one can get back to the identifier."""
    return f"{ANON_PREFIX}{secrets.token_hex(12)}"


def id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    """Matches any of ``ids`` as a whole word (not inside a longer id: ``c-1`` is not found in ``c-12``), longest
    first; ``None`` for no ids."""
    words = sorted({i for i in ids if i}, key=lambda i: (-len(i), i))
    if not words:
        return None
    return re.compile(f"(?<![{_WORD}])(?:{'|'.join(map(re.escape, words))})(?![{_WORD}])")


@dataclass(frozen=True, slots=True)
class LegalHold:
    """Which records are under a legal hold: an open contact in one of ``tiers`` (unless its category is
    ``exempt``: a privacy request does not hold itself) or in one of ``categories``, whatever its tier."""

    tiers: frozenset[str] = frozenset({"legal", "compliance"})
    categories: frozenset[str] = frozenset({"legal_request", "aml_compliance"})
    exempt: frozenset[str] = frozenset({"data_privacy_request"})

    def applies(self, *, tier: str, category: str, is_open: bool) -> bool:
        """Whether a contact with this decision and outcome is held."""
        if not is_open:
            return False
        return category in self.categories or (tier in self.tiers and category not in self.exempt)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long records are kept: contact texts ``text_days``, identifiers ``identifier_days`` after the contact
    was received; 0 keeps them for ever."""

    text_days: int = 0
    identifier_days: int = 0

    def __post_init__(self) -> None:
        if self.text_days < 0 or self.identifier_days < 0:
            raise ValueError("retention days must be 0 (keep) or more")

    @property
    def active(self) -> bool:
        """Whether anything is ever purged."""
        return self.text_days > 0 or self.identifier_days > 0

    def text_cutoff(self, now: datetime) -> datetime | None:
        """Texts of contacts received before this are removed (``None``: kept)."""
        return now - timedelta(days=self.text_days) if self.text_days else None

    def identifier_cutoff(self, now: datetime) -> datetime | None:
        """Identifiers of contacts received before this are anonymised (``None``: kept)."""
        return now - timedelta(days=self.identifier_days) if self.identifier_days else None


@dataclass(frozen=True, slots=True)
class Held:
    """A contact kept under a legal hold."""

    contact_id: str
    tier: str
    category: str


@dataclass(frozen=True, slots=True)
class SubjectExport:
    """Everything held about one customer: rows by table name, each a JSON-ready mapping of column to value."""

    customer_id: str
    exported_at: datetime
    records: Mapping[str, list[dict[str, Any]]]
    held: tuple[Held, ...] = ()

    @property
    def count(self) -> int:
        """Rows exported."""
        return sum(len(rows) for rows in self.records.values())

    def to_json(self) -> dict[str, Any]:
        """The export document (held contacts are listed: review them before disclosure, see tipping-off)."""
        return {
            "customer_id": self.customer_id,
            "exported_at": self.exported_at.isoformat(),
            "records": dict(sorted(self.records.items())),
            "legal_hold": [{"contact_id": h.contact_id, "tier": h.tier, "category": h.category} for h in self.held],
        }


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did: the customer's token, the rows anonymised by table, and the contacts kept (held)."""

    token: str
    rows: Mapping[str, int]
    held: tuple[Held, ...] = ()

    @property
    def count(self) -> int:
        """Rows anonymised."""
        return sum(self.rows.values())


@dataclass(frozen=True, slots=True)
class Purge:
    """What a retention run did: contacts whose texts were removed, contacts whose identifiers were anonymised,
    rows changed by table, and the contacts kept under a legal hold."""

    texts: int = 0
    identifiers: int = 0
    rows: Mapping[str, int] = field(default_factory=dict)
    held: tuple[Held, ...] = ()


class DataSubjectStore(Protocol):
    """Where personal data lives: finds, exports and anonymises one customer's records, and applies retention."""

    async def export(self, customer_id: str, *, at: datetime, hold: LegalHold) -> SubjectExport:
        """Every record about ``customer_id`` (their contacts, the rest of their conversations, and every row that
        names them), with the contacts under ``hold`` listed."""
        ...

    async def erase(self, customer_id: str, *, token: str, hold: LegalHold) -> Erasure:
        """Anonymise every record about ``customer_id`` except those under ``hold``: identifiers become tokens
        (``token`` for the customer id), free texts are blanked."""
        ...

    async def purge(self, policy: RetentionPolicy, *, now: datetime, hold: LegalHold) -> Purge:
        """Blank the texts and anonymise the identifiers that ``policy`` no longer keeps, except under ``hold``."""
        ...


class CustomerClocks(Protocol):
    """The regulatory clocks of a customer (the port of :mod:`automations.deadlines`)."""

    async def stop_for_customer(self, customer_id: str, rule: str, *, at: datetime, reason: str) -> int:
        """Stop the customer's running clocks of ``rule``; how many were stopped."""
        ...


class MemoryCustomerClocks:
    """In-memory :class:`CustomerClocks`: running clocks as ``(customer_id, rule)`` pairs; remembers each stop."""

    def __init__(self, running: Mapping[tuple[str, str], int] | None = None) -> None:
        """Start with ``running`` clocks (count per customer and rule)."""
        self.running: dict[tuple[str, str], int] = dict(running or {})
        self.stops: list[tuple[str, str, datetime, str]] = []

    async def stop_for_customer(self, customer_id: str, rule: str, *, at: datetime, reason: str) -> int:
        """Stop them all; record the call."""
        self.stops.append((customer_id, rule, at, reason))
        return self.running.pop((customer_id, rule), 0)


def _tables(rows: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(rows.items()) if n) or "nothing"


class Privacy:
    """Exports, erasures and retention runs, each stopped on the clock and written to the audit trail."""

    def __init__(
        self,
        store: DataSubjectStore,
        audit: AuditTrail,
        clock: Clock,
        *,
        clocks: CustomerClocks | None = None,
        policy: RetentionPolicy | None = None,
        hold: LegalHold | None = None,
    ) -> None:
        """Wire the ports; without ``clocks`` no clock is stopped (none is kept)."""
        self._store, self._audit, self._clock, self._clocks = store, audit, clock, clocks
        self.policy = policy or RetentionPolicy()
        self.hold = hold or LegalHold()

    async def _stop_clock(self, customer_id: str, at: datetime, reason: str) -> int:
        if self._clocks is None:
            return 0
        return await self._clocks.stop_for_customer(customer_id, PRIVACY_RULE, at=at, reason=reason)

    async def export(self, customer_id: str, *, actor: str = "system") -> SubjectExport:
        """Export everything about ``customer_id``, audit it and stop their ``privacy_request`` clock."""
        now = self._clock.now()
        result = await self._store.export(customer_id, at=now, hold=self.hold)
        stopped = await self._stop_clock(customer_id, now, "data exported")
        detail = f"{result.count} records ({_tables({k: len(v) for k, v in result.records.items()})})"
        detail += f"; {len(result.held)} under legal hold; {stopped} clock(s) stopped"
        await self._audit.append(AuditEvent("privacy.exported", customer_id, now, actor, detail))
        return result

    async def erase(self, customer_id: str, *, actor: str = "system") -> Erasure:
        """Erase ``customer_id`` everywhere, except records under a legal hold; audit it under the customer's new
        token (the trail keeps no identifier of an erased customer).

        The ``privacy_request`` clock is stopped first: once the records are anonymised it can no longer be found
        by the customer's id."""
        now = self._clock.now()
        stopped = await self._stop_clock(customer_id, now, "data erased")
        result = await self._store.erase(customer_id, token=new_token(), hold=self.hold)
        detail = f"{result.count} rows anonymised ({_tables(result.rows)}); {len(result.held)} kept under legal hold"
        detail += f"; {stopped} clock(s) stopped"
        await self._audit.append(AuditEvent("privacy.erased", result.token, now, actor, detail))
        return result

    async def retain(self, now: datetime | None = None) -> Purge:
        """One retention run (the scheduler's job): purge what the policy no longer keeps, audit it, and report
        each held contact once (``retention.held``, the first run that finds it)."""
        now = now or self._clock.now()
        if not self.policy.active:
            return Purge()
        result = await self._store.purge(self.policy, now=now, hold=self.hold)
        if result.texts or result.identifiers:
            detail = (
                f"texts of {result.texts} contacts removed, identifiers of {result.identifiers} anonymised "
                f"({_tables(result.rows)}); policy: texts {self.policy.text_days} d, identifiers "
                f"{self.policy.identifier_days} d"
            )
            await self._audit.append(AuditEvent("retention.purged", "retention", now, "scheduler", detail))
        for held in result.held:
            if not await self._audit.events(subject=held.contact_id, kind_prefix="retention.held"):
                detail = f"legal hold: {held.category} in tier {held.tier}, still open"
                await self._audit.append(AuditEvent("retention.held", held.contact_id, now, "scheduler", detail))
        return result
