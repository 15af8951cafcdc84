"""Regulatory clocks at work: each decision's deadlines kept as clocks that are started, met, breached or stopped.

:class:`RegulatoryClocks` is the port (SQL in :mod:`store.clocks`, :class:`MemoryRegulatoryClocks` here for tests
and the test bot). A clock is one :class:`~automations.models.Deadline` of one contact, unique by contact and rule.
Every transition happens once (a compare-and-set on the clock's state) and is then appended to the audit trail
(:mod:`automations.audit`) as ``clock.started``, ``clock.met``, ``clock.breached`` or ``clock.stopped``.

States: ``open`` (running, not yet due), ``breached`` (its due time passed with the obligation not met; still to
be done), ``met`` (done by its due time), ``missed`` (done after it), ``stopped`` (ended by another action, e.g. a
privacy export or erasure, with the reason).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from automations.audit import AuditEvent, AuditTrail
from automations.models import Deadline, Decision

__all__ = [
    "RUNNING",
    "ClockCount",
    "ClockState",
    "MemoryRegulatoryClocks",
    "RegulatoryClock",
    "RegulatoryClocks",
    "audit_event",
    "clocks_of",
    "count_clocks",
    "outcome_of",
]


class ClockState(StrEnum):
    """Where a clock stands."""

    OPEN = "open"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"
    STOPPED = "stopped"


RUNNING = frozenset({ClockState.OPEN, ClockState.BREACHED})
"""States in which the obligation is still to be met."""


@dataclass(frozen=True, slots=True)
class RegulatoryClock:
    """One regulatory deadline of one contact (``started_at``: when the contact was received)."""

    contact_id: str
    rule: str
    started_at: datetime
    due: datetime
    basis: str = ""
    tier: str = ""
    internal: bool = False
    customer_id: str | None = None
    conversation_id: str | None = None
    category: str = ""
    state: ClockState = ClockState.OPEN
    breached_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str = ""

    @property
    def id(self) -> str:
        """The clock's audit subject: ``<contact id>:<rule>``."""
        return f"{self.contact_id}:{self.rule}"

    @property
    def running(self) -> bool:
        """Whether the obligation is still to be met (``open`` or ``breached``)."""
        return self.state in RUNNING

    def remaining_s(self, now: datetime) -> float:
        """Seconds left until due (negative once overdue)."""
        return (self.due - now).total_seconds()

    def elapsed(self, now: datetime) -> float:
        """Share of the clock used up at ``now`` (1.0 or more once due)."""
        window = (self.due - self.started_at).total_seconds()
        return 1.0 if window <= 0 else (now - self.started_at).total_seconds() / window

    def at_risk(self, now: datetime, warn_at: Iterable[float] = (0.8,)) -> bool:
        """Running and overdue, or past the last of its warning thresholds."""
        marks = tuple(warn_at) or (0.8,)
        return self.running and (now >= self.due or self.elapsed(now) >= max(marks))

    def outcome(self, now: datetime) -> str:
        """``met``, ``missed`` or ``open`` at ``now``; a clock stopped by the action it waited for counts as met
        when stopped by its due time, else missed."""
        in_time = self.closed_at is not None and self.closed_at <= self.due
        return outcome_of(self.state, closed_in_time=in_time, past_due=self.due < now)

    def deadline(self) -> Deadline:
        """The clock as the decision's :class:`~automations.models.Deadline`."""
        return Deadline(self.rule, self.due, self.basis, internal=self.internal, tier=self.tier)


@dataclass(frozen=True, slots=True)
class ClockCount:
    """Clocks of one rule started in a period: how many were met, missed, still open, and stopped (of those met
    or missed)."""

    rule: str
    met: int = 0
    missed: int = 0
    open: int = 0
    stopped: int = 0

    @property
    def total(self) -> int:
        """Every clock of the rule started in the period."""
        return self.met + self.missed + self.open


def outcome_of(state: ClockState, *, closed_in_time: bool, past_due: bool) -> str:
    """``met``, ``missed`` or ``open`` (see :meth:`RegulatoryClock.outcome`), from the state, whether the clock was
    closed by its due time and whether that time has passed."""
    if state is ClockState.MET:
        return "met"
    if state in (ClockState.MISSED, ClockState.BREACHED):
        return "missed"
    if state is ClockState.STOPPED:
        return "met" if closed_in_time else "missed"
    return "missed" if past_due else "open"


def clocks_of(decision: Decision, *, received_at: datetime | None = None) -> list[RegulatoryClock]:
    """The clocks ``decision``'s deadlines start, from ``received_at`` (else when it was decided)."""
    start, who = received_at or decision.decided_at, decision
    return [
        RegulatoryClock(
            who.contact_id,
            d.id,
            start,
            d.due,
            d.basis,
            d.tier,
            d.internal,
            who.customer_id,
            who.conversation_id,
            who.category,
        )
        for d in decision.deadlines
    ]


def audit_event(
    kind: str, clock: RegulatoryClock, at: datetime, *, actor: str = "system", detail: str = ""
) -> AuditEvent:
    """The audit row of one clock transition (``kind``: ``started``, ``met``, ``breached`` or ``stopped``)."""
    due = clock.due.isoformat(timespec="minutes")
    what = f"{clock.rule} ({'internal, ' if clock.internal else ''}tier {clock.tier or 'n/a'}), due {due}"
    return AuditEvent(f"clock.{kind}", clock.id, at, actor, f"{what}{'; ' + detail if detail else ''}")


def count_clocks(clocks: Iterable[RegulatoryClock], now: datetime) -> list[ClockCount]:
    """Met, missed and open counts by rule (rules in name order)."""
    by_rule: dict[str, dict[str, int]] = {}
    for clock in clocks:
        counts = by_rule.setdefault(clock.rule, {"met": 0, "missed": 0, "open": 0, "stopped": 0})
        counts[clock.outcome(now)] += 1
        counts["stopped"] += clock.state is ClockState.STOPPED
    return [ClockCount(rule, **counts) for rule, counts in sorted(by_rule.items())]


class RegulatoryClocks(Protocol):
    """Durable regulatory clocks; every transition is appended to the audit trail once."""

    async def start(self, decision: Decision, *, received_at: datetime | None = None) -> list[RegulatoryClock]:
        """Start a clock per deadline of ``decision`` (counted from ``received_at``, else its decision time); the
        clocks it already has are left alone. Returns those started by this call."""
        ...

    async def start_many(self, decisions: Sequence[tuple[Decision, datetime | None]]) -> list[RegulatoryClock]:
        """:meth:`start` for each ``(decision, received_at)``, in one transaction (and one audit append)."""
        ...

    async def open(self, now: datetime) -> list[RegulatoryClock]:
        """Running clocks (``open`` or ``breached``) started by ``now``, due first."""
        ...

    async def met(self, contact_id: str, rule: str, *, at: datetime, actor: str = "system") -> RegulatoryClock | None:
        """The obligation was met at ``at``: ``met`` by its due time, else ``missed`` (breached first, if the breach
        had not been recorded). ``None`` when the contact has no such running clock."""
        ...

    async def breached(self, now: datetime) -> list[RegulatoryClock]:
        """Mark every ``open`` clock due before ``now`` as breached; returns those this call marked."""
        ...

    async def stop_for_customer(self, customer_id: str, rule: str, *, at: datetime, reason: str) -> int:
        """Stop every running ``rule`` clock of ``customer_id`` (e.g. ``privacy_request`` after an export or an
        erasure) with ``reason``; returns how many were stopped."""
        ...

    async def find(
        self, *, contact_id: str | None = None, customer_id: str | None = None, conversation_id: str | None = None
    ) -> list[RegulatoryClock]:
        """Every clock (any state) matching all the given filters, due first."""
        ...

    async def watched(self, customer_ids: Collection[str]) -> set[str]:
        """Those of ``customer_ids`` with an internal clock (a SAR decision) in any state: nothing sent to them may
        tip them off."""
        ...

    async def counts(self, start: datetime, end: datetime, *, now: datetime) -> list[ClockCount]:
        """Met, missed and open clocks by rule, of the clocks started in ``[start, end)``, as they stand at ``now``."""
        ...


class MemoryRegulatoryClocks:
    """In-memory :class:`RegulatoryClocks` (the fake shipped beside the port)."""

    def __init__(self, audit: AuditTrail | None = None) -> None:
        """Start empty; transitions go to ``audit`` when given."""
        self.audit = audit
        self.rows: dict[tuple[str, str], RegulatoryClock] = {}

    async def _log(self, kind: str, clock: RegulatoryClock, at: datetime, **extra: str) -> None:
        if self.audit is not None:
            await self.audit.append(audit_event(kind, clock, at, **extra))

    async def start(self, decision: Decision, *, received_at: datetime | None = None) -> list[RegulatoryClock]:
        """Start the clocks ``decision`` does not have yet."""
        started = []
        for clock in clocks_of(decision, received_at=received_at):
            if (clock.contact_id, clock.rule) not in self.rows:
                self.rows[clock.contact_id, clock.rule] = clock
                started.append(clock)
        for clock in started:
            await self._log("started", clock, decision.decided_at, detail=clock.basis)
        return started

    async def start_many(self, decisions: Sequence[tuple[Decision, datetime | None]]) -> list[RegulatoryClock]:
        """Start each decision's missing clocks."""
        return [clock for decision, at in decisions for clock in await self.start(decision, received_at=at)]

    async def open(self, now: datetime) -> list[RegulatoryClock]:
        """Running clocks started by ``now``, due first."""
        return _ordered(c for c in self.rows.values() if c.running and c.started_at <= now)

    async def met(self, contact_id: str, rule: str, *, at: datetime, actor: str = "system") -> RegulatoryClock | None:
        """Record that the obligation was met at ``at``."""
        clock = self.rows.get((contact_id, rule))
        if clock is None or not clock.running:
            return None
        late = at > clock.due
        if late and clock.state is ClockState.OPEN:
            clock = self.rows[contact_id, rule] = replace(clock, state=ClockState.BREACHED, breached_at=at)
            await self._log("breached", clock, at)
        done = ClockState.MISSED if late else ClockState.MET
        clock = self.rows[contact_id, rule] = replace(clock, state=done, closed_at=at)
        await self._log("met", clock, at, actor=actor, detail="late" if late else "in time")
        return clock

    async def breached(self, now: datetime) -> list[RegulatoryClock]:
        """Mark the open clocks due before ``now``."""
        marked = []
        for key, clock in sorted(self.rows.items()):
            if clock.state is ClockState.OPEN and clock.due < now:
                self.rows[key] = replace(clock, state=ClockState.BREACHED, breached_at=now)
                marked.append(self.rows[key])
        for clock in marked:
            await self._log("breached", clock, now)
        return _ordered(marked)

    async def stop_for_customer(self, customer_id: str, rule: str, *, at: datetime, reason: str) -> int:
        """Stop the customer's running ``rule`` clocks."""
        stopped = []
        for key, clock in sorted(self.rows.items()):
            if clock.customer_id == customer_id and clock.rule == rule and clock.running:
                self.rows[key] = replace(clock, state=ClockState.STOPPED, closed_at=at, reason=reason)
                stopped.append(self.rows[key])
        for clock in stopped:
            await self._log("stopped", clock, at, detail=reason)
        return len(stopped)

    async def find(
        self, *, contact_id: str | None = None, customer_id: str | None = None, conversation_id: str | None = None
    ) -> list[RegulatoryClock]:
        """Clocks matching every given filter."""
        return _ordered(
            c
            for c in self.rows.values()
            if (contact_id is None or c.contact_id == contact_id)
            and (customer_id is None or c.customer_id == customer_id)
            and (conversation_id is None or c.conversation_id == conversation_id)
        )

    async def watched(self, customer_ids: Collection[str]) -> set[str]:
        """Customers among ``customer_ids`` with an internal clock."""
        wanted = set(customer_ids)
        return {c.customer_id for c in self.rows.values() if c.internal and c.customer_id in wanted and c.customer_id}

    async def counts(self, start: datetime, end: datetime, *, now: datetime) -> list[ClockCount]:
        """Counts by rule of the clocks started in ``[start, end)``."""
        return count_clocks((c for c in self.rows.values() if start <= c.started_at < end), now)


def _ordered(clocks: Iterable[RegulatoryClock]) -> list[RegulatoryClock]:
    return sorted(clocks, key=lambda c: (c.due, c.contact_id, c.rule))
