"""SQL implementation of the :class:`~automations.ports.EventStore` port (SQLite or PostgreSQL, async).

Every write is one transaction. On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so that concurrent
writers queue on ``busy_timeout`` instead of failing on a lock upgrade; reads use a plain deferred ``BEGIN``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, event, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from automations.models import Decision, Feedback, OutcomeRecord, OutcomeState
from store.migrate import ensure_sqlite_dir, normalize_url, upgrade_connection
from store.rows import (
    OutcomeTransition,
    contact_values,
    decision_from_row,
    decision_values,
    feedback_from_row,
    initial_outcome_values,
    outcome_from_row,
    transition_from_row,
)
from store.tables import Base, ContactRow, DecisionRow, FeedbackRow, OutcomeRow, OutcomeTransitionRow

__all__ = ["READONLY_OPTION", "SQLITE_BUSY_TIMEOUT_MS", "SqlEventStore", "configure_sqlite", "enable_wal"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY_OPTION = "autopilot_readonly"
"""Execution option: this connection only reads (SQLite then starts a deferred transaction, not the write lock)."""
_READONLY = READONLY_OPTION

_contacts = Base.metadata.tables[ContactRow.__tablename__]
_decisions = Base.metadata.tables[DecisionRow.__tablename__]
_outcomes = Base.metadata.tables[OutcomeRow.__tablename__]
_transitions = Base.metadata.tables[OutcomeTransitionRow.__tablename__]
_feedback = Base.metadata.tables[FeedbackRow.__tablename__]


def configure_sqlite(engine: AsyncEngine) -> None:
    """Busy timeout and foreign keys on every connection; SQLAlchemy (not sqlite3) emits ``BEGIN``.

    WAL is a property of the database file, switched on once by :func:`enable_wal`.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 stays out of transactions; "begin" below emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        readonly = connection.get_execution_options().get(_READONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


async def enable_wal(engine: AsyncEngine, *, attempts: int = 50) -> None:
    """Put a SQLite database in WAL mode (persistent). Retries while another process holds the lock, since
    changing the journal mode does not wait on ``busy_timeout``."""
    async with engine.connect() as conn:  # no statement is executed through SQLAlchemy, so no BEGIN is emitted
        raw = (await conn.get_raw_connection()).driver_connection
        if raw is None:  # pragma: no cover - only for a closed connection
            raise RuntimeError("no driver connection")
        for attempt in range(attempts):
            try:
                async with raw.execute("PRAGMA journal_mode = WAL") as cursor:
                    row = await cursor.fetchone()
            except sqlite3.OperationalError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
                continue
            mode = str(row[0]).lower() if row else ""
            if mode not in ("wal", "memory"):  # in-memory databases cannot use WAL
                raise RuntimeError(f"could not switch SQLite to WAL mode (journal_mode={mode!r})")
            return


class SqlEventStore:
    """Durable event store over an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` (stores redacted text only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Wrap ``engine`` as is; :meth:`open` also configures SQLite and applies the migrations."""
        self._engine = engine
        self._reader = engine.execution_options(**{_READONLY: True})

    @property
    def engine(self) -> AsyncEngine:
        """The underlying async engine (for reporting queries)."""
        return self._engine

    @classmethod
    async def open(cls, url: str, **engine_kwargs: Any) -> SqlEventStore:
        """Normalise ``url`` to an async driver, create the engine, migrate to head and return the store."""
        url = normalize_url(url)
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, **engine_kwargs)
        try:
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine)
                await enable_wal(engine)
            async with engine.begin() as connection:
                await upgrade_connection(connection)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        """Dispose of the engine's connection pool."""
        await self._engine.dispose()

    async def _rows(self, query: Select[Any]) -> list[Any]:
        async with self._reader.connect() as conn:
            return list((await conn.execute(query)).all())

    async def _contact_exists(self, contact_id: str) -> bool:
        return bool(await self._rows(select(_contacts.c.id).where(_contacts.c.id == contact_id)))

    async def record_decision(self, decision: Decision) -> bool:
        """Write contact, decision, initial outcome and first transition atomically; ``False`` on a duplicate.

        Duplicates are detected by the primary key of ``contacts``, so concurrent writers are safe too.
        """
        return (await self.record_decisions([decision]))[0]

    async def record_decisions(self, decisions: Sequence[Decision]) -> list[bool]:
        """Record a batch in one transaction; ``False`` for each contact id already recorded (or repeated).

        On SQLite the transaction takes the write lock first (``BEGIN IMMEDIATE``), so the existence check and the
        inserts are atomic. On PostgreSQL a concurrent writer may win the race: the batch then falls back to one
        transaction per decision, each settled by the primary key.
        """
        ids = [d.contact_id for d in decisions]
        try:
            async with self._engine.begin() as conn:
                found = await conn.execute(select(_contacts.c.id).where(_contacts.c.id.in_(ids)))
                seen = set(found.scalars())
                accepted = [False] * len(decisions)
                for position, decision in enumerate(decisions):
                    if decision.contact_id not in seen:
                        seen.add(decision.contact_id)
                        accepted[position] = True
                fresh = [d for d, ok in zip(decisions, accepted, strict=True) if ok]
                if fresh:
                    pairs = [initial_outcome_values(d) for d in fresh]
                    await conn.execute(insert(_contacts), [contact_values(d) for d in fresh])
                    await conn.execute(insert(_decisions), [decision_values(d) for d in fresh])
                    await conn.execute(insert(_outcomes), [outcome for outcome, _ in pairs])
                    await conn.execute(insert(_transitions), [transition for _, transition in pairs])
        except IntegrityError:
            if len(decisions) == 1:
                if await self._contact_exists(decisions[0].contact_id):
                    return [False]
                raise
            return [await self.record_decision(d) for d in decisions]
        return accepted

    async def get_decision(self, contact_id: str) -> Decision | None:
        """Rebuild the recorded :class:`Decision` (without its passages, which are not stored)."""
        return (await self.get_decisions([contact_id])).get(contact_id)

    async def get_decisions(self, contact_ids: Sequence[str]) -> dict[str, Decision]:
        """:meth:`get_decision` for several contacts in one query (unknown ids are left out)."""
        if not contact_ids:
            return {}
        query = (
            select(*_contacts.c, *(c for c in _decisions.c if c.name != "contact_id"))
            .join_from(_contacts, _decisions, _decisions.c.contact_id == _contacts.c.id)
            .where(_contacts.c.id.in_(sorted(set(contact_ids))))
        )
        return {row.id: decision_from_row(row) for row in await self._rows(query)}

    async def outcomes_for_customer(
        self, customer_id: str, *, since: datetime, states: Collection[OutcomeState]
    ) -> list[OutcomeRecord]:
        """Outcomes of one customer's contacts decided at or after ``since`` and in one of ``states``, oldest first."""
        return (await self.outcomes_for_customers([customer_id], since=since, states=states))[customer_id]

    async def outcomes_for_customers(
        self, customer_ids: Collection[str], *, since: datetime, states: Collection[OutcomeState]
    ) -> dict[str, list[OutcomeRecord]]:
        """:meth:`outcomes_for_customer` for several customers in one query (each id a key, maybe of ``[]``)."""
        found: dict[str, list[OutcomeRecord]] = {customer: [] for customer in customer_ids}
        if not found or not states:
            return found
        query = (
            select(_outcomes)
            .where(
                _outcomes.c.customer_id.in_(sorted(found)),
                _outcomes.c.decided_at >= since,
                _outcomes.c.state.in_(sorted(OutcomeState(s).value for s in states)),
            )
            .order_by(_outcomes.c.decided_at, _outcomes.c.contact_id)
        )
        for row in await self._rows(query):
            found[row.customer_id].append(outcome_from_row(row))
        return found

    async def outcomes_due(self, *, decided_before: datetime, state: OutcomeState) -> list[OutcomeRecord]:
        """Outcomes still in ``state`` whose decision was made before ``decided_before``, oldest first."""
        query = (
            select(_outcomes)
            .where(_outcomes.c.state == OutcomeState(state).value, _outcomes.c.decided_at < decided_before)
            .order_by(_outcomes.c.decided_at, _outcomes.c.contact_id)
        )
        return [outcome_from_row(row) for row in await self._rows(query)]

    async def set_outcome(self, contact_id: str, state: OutcomeState, *, at: datetime, reason: str) -> None:
        """Move a contact's outcome to ``state`` and append the transition, in one transaction.

        Raises :class:`KeyError` when the contact has no recorded decision. Whether the move is allowed is the
        outcome state machine's business, not the store's.
        """
        to_state = OutcomeState(state).value
        async with self._engine.begin() as conn:
            current = await conn.scalar(
                select(_outcomes.c.state).where(_outcomes.c.contact_id == contact_id).with_for_update()
            )
            if current is None:
                raise KeyError(contact_id)
            await conn.execute(
                update(_outcomes)
                .where(_outcomes.c.contact_id == contact_id)
                .values(state=to_state, updated_at=at, reason=reason)
            )
            await conn.execute(
                insert(_transitions).values(
                    contact_id=contact_id, from_state=current, to_state=to_state, at=at, reason=reason
                )
            )

    async def get_outcome(self, contact_id: str) -> OutcomeRecord | None:
        """Return the current outcome of a contact, or ``None`` when nothing was recorded for it."""
        rows = await self._rows(select(_outcomes).where(_outcomes.c.contact_id == contact_id))
        return outcome_from_row(rows[0]) if rows else None

    async def outcome_history(self, contact_id: str) -> list[OutcomeTransition]:
        """Every transition of a contact's outcome, in the order they were recorded."""
        query = select(_transitions).where(_transitions.c.contact_id == contact_id).order_by(_transitions.c.id)
        return [transition_from_row(row) for row in await self._rows(query)]

    async def record_feedback(self, feedback: Feedback) -> None:
        """Append feedback on a contact's decision.

        Raises :class:`ValueError` for a CSAT outside 1..5 and :class:`KeyError` when the contact has no decision.
        """
        if feedback.csat is not None and not 1 <= feedback.csat <= 5:
            raise ValueError(f"CSAT must be between 1 and 5, got {feedback.csat}")
        values = {
            "contact_id": feedback.contact_id,
            "at": feedback.at,
            "helpful": feedback.helpful,
            "csat": feedback.csat,
            "source": feedback.source,
            "comment": feedback.comment,
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(_feedback).values(values))
        except IntegrityError as exc:
            if not await self._contact_exists(feedback.contact_id):
                raise KeyError(feedback.contact_id) from exc
            raise

    async def ping(self) -> None:
        """One round trip to the database."""
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def feedback_for(self, contact_id: str) -> list[Feedback]:
        """All feedback recorded on a contact, in the order it was recorded."""
        query = select(_feedback).where(_feedback.c.contact_id == contact_id).order_by(_feedback.c.id)
        return [feedback_from_row(row) for row in await self._rows(query)]
