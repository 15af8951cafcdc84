"""SQL implementation of the :class:`~automations.deadlines.RegulatoryClocks` port (SQLite or PostgreSQL).

Each transition is one transaction that changes a row only from the state it expects (a compare-and-set), so two
processes never both record it; the audit event is appended after the commit, once per change made.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.audit import AuditTrail
from automations.deadlines import (
    RUNNING,
    ClockCount,
    ClockState,
    RegulatoryClock,
    audit_event,
    clocks_of,
    outcome_of,
)
from automations.models import Decision
from store.clock_tables import ClockRow
from store.sql import READONLY_OPTION
from store.tables import Base

__all__ = ["SqlRegulatoryClocks"]

_clocks = Base.metadata.tables[ClockRow.__tablename__]
_RUNNING = [s.value for s in RUNNING]


def _values(clock: RegulatoryClock) -> dict[str, Any]:
    offset = clock.due.utcoffset() or timedelta(0)
    return {
        "contact_id": clock.contact_id, "rule": clock.rule, "customer_id": clock.customer_id,
        "conversation_id": clock.conversation_id, "category": clock.category, "tier": clock.tier,
        "internal": clock.internal, "basis": clock.basis, "started_at": clock.started_at, "due": clock.due,
        "due_offset_min": int(offset.total_seconds() // 60), "state": clock.state.value,
        "breached_at": clock.breached_at, "closed_at": clock.closed_at, "reason": clock.reason,
    }  # fmt: skip


def _clock(row: Any) -> RegulatoryClock:
    zone = timezone(timedelta(minutes=row.due_offset_min))
    return RegulatoryClock(
        contact_id=row.contact_id, rule=row.rule, started_at=row.started_at, due=row.due.astimezone(zone),
        basis=row.basis, tier=row.tier, internal=row.internal, customer_id=row.customer_id,
        conversation_id=row.conversation_id, category=row.category, state=ClockState(row.state),
        breached_at=row.breached_at, closed_at=row.closed_at, reason=row.reason,
    )  # fmt: skip


def _key(contact_id: str, rule: str) -> ColumnElement[bool]:
    return and_(_clocks.c.contact_id == contact_id, _clocks.c.rule == rule)


class SqlRegulatoryClocks:
    """Regulatory clocks in the ``regulatory_clocks`` table of the event store's database."""

    def __init__(self, engine: AsyncEngine, audit: AuditTrail | None = None) -> None:
        """Use ``engine`` (already migrated, e.g. ``SqlEventStore.engine``); transitions go to ``audit``."""
        self._engine = engine
        self._reader = engine.execution_options(**{READONLY_OPTION: True})  # reads never take SQLite's write lock
        self.audit = audit

    async def _log(self, kind: str, clocks: Sequence[RegulatoryClock], at: datetime, **extra: str) -> None:
        if self.audit is not None:
            for clock in clocks:
                await self.audit.append(audit_event(kind, clock, at, **extra))

    async def _select(self, *where: ColumnElement[bool]) -> list[RegulatoryClock]:
        query = select(_clocks).where(*where).order_by(_clocks.c.due, _clocks.c.contact_id, _clocks.c.rule)
        async with self._reader.connect() as conn:
            return [_clock(r) for r in (await conn.execute(query)).all()]

    async def start(self, decision: Decision, *, received_at: datetime | None = None) -> list[RegulatoryClock]:
        """Insert the clocks ``decision`` does not have yet (a concurrent writer's rows are left as they are)."""
        wanted = clocks_of(decision, received_at=received_at)
        if not wanted:
            return []
        started = []
        for clock in wanted:  # one transaction each: a duplicate key must not undo the others on PostgreSQL
            try:
                async with self._engine.begin() as conn:
                    known = await conn.scalar(select(_clocks.c.rule).where(_key(clock.contact_id, clock.rule)))
                    if known is None:
                        await conn.execute(insert(_clocks).values(_values(clock)))
                        started.append(clock)
            except IntegrityError:
                continue  # another process started it first
        for clock in started:
            await self._log("started", [clock], decision.decided_at, detail=clock.basis)
        return started

    async def start_many(self, decisions: Sequence[tuple[Decision, datetime | None]]) -> list[RegulatoryClock]:
        """Insert every missing clock of ``decisions`` in one statement (rows another process inserted first are left
        as they are: ``ON CONFLICT DO NOTHING``), then audit those this call inserted, in one append."""
        wanted = {(c.contact_id, c.rule): (c, d) for d, at in decisions for c in clocks_of(d, received_at=at)}
        if not wanted:
            return []
        insert_ = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert_(_clocks).values([_values(c) for c, _ in wanted.values()]).on_conflict_do_nothing()
        ).returning(_clocks.c.contact_id, _clocks.c.rule)
        async with self._engine.begin() as conn:
            inserted = {(row.contact_id, row.rule) for row in await conn.execute(statement)}
        started = [(c, d) for key, (c, d) in wanted.items() if key in inserted]
        if self.audit is not None and started:
            await self.audit.append_many([audit_event("started", c, d.decided_at, detail=c.basis) for c, d in started])
        return [c for c, _ in started]

    async def open(self, now: datetime) -> list[RegulatoryClock]:
        """Running clocks started by ``now``, due first."""
        return await self._select(_clocks.c.state.in_(_RUNNING), _clocks.c.started_at <= now)

    async def _locked(self, conn: AsyncConnection, *where: ColumnElement[bool]) -> list[RegulatoryClock]:
        query = select(_clocks).where(*where).order_by(_clocks.c.due, _clocks.c.contact_id, _clocks.c.rule)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return [_clock(r) for r in (await conn.execute(query)).all()]

    async def met(self, contact_id: str, rule: str, *, at: datetime, actor: str = "system") -> RegulatoryClock | None:
        """``met`` by the due time, else ``missed`` (recording the breach first when it had not been)."""
        async with self._engine.begin() as conn:
            found = await self._locked(conn, _key(contact_id, rule), _clocks.c.state.in_(_RUNNING))
            if not found:
                return None
            before = found[0]
            late = at > before.due
            state = ClockState.MISSED if late else ClockState.MET
            values: dict[str, Any] = {"state": state.value, "closed_at": at}
            newly_breached = late and before.state is ClockState.OPEN
            if newly_breached:
                values["breached_at"] = at
            await conn.execute(
                update(_clocks).where(_key(contact_id, rule), _clocks.c.state == before.state.value).values(values)
            )
        if newly_breached:
            await self._log("breached", [before], at)
        after = replace(before, state=state, closed_at=at, breached_at=at if newly_breached else before.breached_at)
        await self._log("met", [after], at, actor=actor, detail="late" if late else "in time")
        return after

    async def breached(self, now: datetime) -> list[RegulatoryClock]:
        """Mark the open clocks due before ``now`` (each once, however many processes ask)."""
        marked = []
        async with self._engine.begin() as conn:
            for clock in await self._locked(conn, _clocks.c.state == ClockState.OPEN.value, _clocks.c.due < now):
                result = await conn.execute(
                    update(_clocks)
                    .where(_key(clock.contact_id, clock.rule), _clocks.c.state == ClockState.OPEN.value)
                    .values(state=ClockState.BREACHED.value, breached_at=now)
                )
                if result.rowcount:
                    marked.append(replace(clock, state=ClockState.BREACHED, breached_at=now))
        await self._log("breached", marked, now)
        return marked

    async def stop_for_customer(self, customer_id: str, rule: str, *, at: datetime, reason: str) -> int:
        """Stop the customer's running ``rule`` clocks."""
        stopped = []
        async with self._engine.begin() as conn:
            where = (_clocks.c.customer_id == customer_id, _clocks.c.rule == rule, _clocks.c.state.in_(_RUNNING))
            for clock in await self._locked(conn, *where):
                result = await conn.execute(
                    update(_clocks)
                    .where(_key(clock.contact_id, rule), _clocks.c.state == clock.state.value)
                    .values(state=ClockState.STOPPED.value, closed_at=at, reason=reason)
                )
                if result.rowcount:
                    stopped.append(replace(clock, state=ClockState.STOPPED, closed_at=at, reason=reason))
        await self._log("stopped", stopped, at, detail=reason)
        return len(stopped)

    async def find(
        self, *, contact_id: str | None = None, customer_id: str | None = None, conversation_id: str | None = None
    ) -> list[RegulatoryClock]:
        """Clocks matching every given filter, due first."""
        where = [
            column == value
            for column, value in (
                (_clocks.c.contact_id, contact_id),
                (_clocks.c.customer_id, customer_id),
                (_clocks.c.conversation_id, conversation_id),
            )
            if value is not None
        ]
        return await self._select(*where)

    async def watched(self, customer_ids: Collection[str]) -> set[str]:
        """Customers among ``customer_ids`` with an internal clock in any state."""
        ids = sorted(set(customer_ids))
        if not ids:
            return set()
        query = select(_clocks.c.customer_id).where(_clocks.c.customer_id.in_(ids), _clocks.c.internal.is_(True))
        async with self._reader.connect() as conn:
            return {str(c) for c in (await conn.scalars(query.distinct())).all()}

    async def counts(self, start: datetime, end: datetime, *, now: datetime) -> list[ClockCount]:
        """Counts by rule, grouped in the database (a report over a long period loads no clock rows)."""
        in_time = _clocks.c.closed_at <= _clocks.c.due
        overdue = _clocks.c.due < now
        query = (
            select(_clocks.c.rule, _clocks.c.state, in_time.label("in_time"), overdue.label("overdue"), func.count())
            .where(_clocks.c.started_at >= start, _clocks.c.started_at < end)
            .group_by(_clocks.c.rule, _clocks.c.state, in_time, overdue)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        by_rule: dict[str, dict[str, int]] = {}
        for rule, state, closed_in_time, past_due, n in rows:
            counts = by_rule.setdefault(rule, {"met": 0, "missed": 0, "open": 0, "stopped": 0})
            counts[outcome_of(ClockState(state), closed_in_time=bool(closed_in_time), past_due=bool(past_due))] += n
            counts["stopped"] += n if state == ClockState.STOPPED.value else 0
        return [ClockCount(rule, **counts) for rule, counts in sorted(by_rule.items())]
