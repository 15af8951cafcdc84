"""SQL implementation of :class:`~automations.privacy.DataSubjectStore`: export, erasure and retention over every
table of the event store (and of the inbox's own database, when it has one).

Whose rows: a customer's contacts (``contacts.customer_id``) and every contact of their conversations, those
conversations, and the customer id itself; :mod:`store.anonymise` finds their rows in every table and anonymises
them (see :mod:`automations.privacy` for why anonymise rather than delete). A legal hold covers a whole
conversation: an open legal or AML contact keeps every contact of its conversation, and then the customer id too.

Retention works in bounded runs (:data:`RUN_LIMIT` contacts per kind), oldest first; a contact's blanked text marks
its text purged, a tokenised id (:data:`~automations.privacy.ANON_PREFIX`) its identifiers. The queues keep no
records: their done and dead rows past the text cutoff lose their payloads, and past the identifier cutoff they
are deleted (rows naming a held contact or conversation are kept).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.privacy import ANON_PREFIX, Erasure, Held, LegalHold, Purge, RetentionPolicy, SubjectExport, new_token
from store.anonymise import QUEUES, Scope, anonymise, chunks, jsonable, subject_rows
from store.schema import METADATA
from store.tables import AgentEventRow, ContactRow, DecisionRow, OutcomeRow

__all__ = ["RUN_LIMIT", "SqlDataSubjectStore"]

RUN_LIMIT = 2000
_contacts = METADATA.tables[ContactRow.__tablename__]
_decisions = METADATA.tables[DecisionRow.__tablename__]
_outcomes = METADATA.tables[OutcomeRow.__tablename__]
_events = METADATA.tables[AgentEventRow.__tablename__]
_QUEUE_TIME = {"inbox": "received_at", "outbox": "created_at"}


def _held_clause(hold: LegalHold, contact_id: Any) -> ColumnElement[bool]:
    """The contact ``contact_id`` is itself under ``hold``: in a held tier or category, and still open."""
    d, o, e = _decisions, _outcomes, _events
    rule = or_(
        d.c.category.in_(sorted(hold.categories)),
        and_(d.c.tier.in_(sorted(hold.tiers)), d.c.category.not_in(sorted(hold.exempt))),
    )
    closed = exists().where(e.c.contact_id == d.c.contact_id, e.c.kind == "closed")
    return exists(
        select(d.c.contact_id)
        .join(o, o.c.contact_id == d.c.contact_id)
        .where(d.c.contact_id == contact_id, rule, o.c.state != "resolved", ~closed)
    )


def _held_anywhere(hold: LegalHold) -> ColumnElement[bool]:
    """The contact (``contacts`` row) is held itself or by a contact of its conversation."""
    mate = _contacts.alias("mate")
    same = or_(mate.c.id == _contacts.c.id, and_(_contacts.c.conversation_id.is_not(None),
                                                 mate.c.conversation_id == _contacts.c.conversation_id))  # fmt: skip
    return exists(select(mate.c.id).where(same, _held_clause(hold, mate.c.id)))


class SqlDataSubjectStore:
    """Personal data in the event store's database (``engine``) and the inbox's (``inbox_engine``, when apart)."""

    def __init__(self, engine: AsyncEngine, *, inbox_engine: AsyncEngine | None = None) -> None:
        """Use the migrated databases."""
        self._engine = engine
        self._others = [inbox_engine] if inbox_engine is not None and inbox_engine is not engine else []

    async def _held(self, conn: AsyncConnection, contact_ids: Collection[str], hold: LegalHold) -> list[Held]:
        """Those of ``contact_ids`` under ``hold``, each with the tier and category of the contact that holds it
        (itself, or an open legal or AML contact of its conversation)."""
        mate = _contacts.alias("mate")
        in_conversation = and_(_contacts.c.conversation_id.is_not(None),
                               mate.c.conversation_id == _contacts.c.conversation_id)  # fmt: skip
        same = or_(mate.c.id == _contacts.c.id, in_conversation)
        found: dict[str, Held] = {}
        for part in chunks(contact_ids):
            query = (
                select(_contacts.c.id, mate.c.id.label("by"), _decisions.c.tier, _decisions.c.category)
                .join(mate, same)
                .join(_decisions, _decisions.c.contact_id == mate.c.id)
                .where(_contacts.c.id.in_(part), _held_clause(hold, mate.c.id))
                .order_by(_contacts.c.id, mate.c.id)
            )
            for r in await conn.execute(query):
                if r.id not in found or r.by == r.id:
                    found[r.id] = Held(r.id, r.tier, r.category)
        return [found[k] for k in sorted(found)]

    async def _conversations(self, conn: AsyncConnection, contact_ids: Collection[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for part in chunks(contact_ids):
            query = select(_contacts.c.id, _contacts.c.conversation_id).where(_contacts.c.id.in_(part))
            found.update({r.id: r.conversation_id for r in await conn.execute(query)})
        return found

    async def _subject(self, conn: AsyncConnection, customer_id: str) -> tuple[set[str], set[str]]:
        """The customer's contact ids (theirs and every contact of their conversations) and conversation ids."""
        own = select(_contacts.c.conversation_id).where(
            _contacts.c.customer_id == customer_id, _contacts.c.conversation_id.is_not(None)
        )
        conversations = {str(v) for v in (await conn.execute(own.distinct())).scalars()}
        query = select(_contacts.c.id).where(
            or_(_contacts.c.customer_id == customer_id, _contacts.c.conversation_id.in_(own))
        )
        return set((await conn.execute(query)).scalars()), conversations

    async def _scope(self, conn: AsyncConnection, customer_id: str, hold: LegalHold) -> tuple[Scope, list[Held]]:
        contacts, conversations = await self._subject(conn, customer_id)
        held = await self._held(conn, contacts, hold)
        held_ids = {h.contact_id for h in held}
        convs = await self._conversations(conn, held_ids)
        held_convs = {v for v in convs.values() if v is not None}
        keep = frozenset(held_ids | held_convs)
        scope = Scope(
            contacts=frozenset(contacts - held_ids),
            conversations=frozenset(conversations - held_convs),
            customers=frozenset() if held else frozenset({customer_id}),
            excluded=keep,
        )
        return scope, held

    async def export(self, customer_id: str, *, at: datetime, hold: LegalHold) -> SubjectExport:
        """Every row about the customer, by table (the inbox database's queue rows included)."""
        records: dict[str, list[dict[str, Any]]] = {}
        async with self._engine.connect() as conn:
            contacts, conversations = await self._subject(conn, customer_id)
            held = await self._held(conn, contacts, hold)
        scope = Scope(frozenset(contacts), frozenset(conversations), frozenset({customer_id}))
        for engine in (self._engine, *self._others):
            async with engine.connect() as conn:
                for table in METADATA.sorted_tables:
                    if engine is not self._engine and table.name not in QUEUES:
                        continue
                    rows = await subject_rows(conn, table, scope)
                    if rows:
                        records.setdefault(table.name, []).extend(jsonable(r) for r in rows)
        return SubjectExport(customer_id, at, records, tuple(held))

    async def erase(self, customer_id: str, *, token: str, hold: LegalHold) -> Erasure:
        """Anonymise the customer everywhere but under a legal hold: the inbox database first (so a failure there
        leaves the main database, where the customer is found, untouched and the erasure can run again)."""
        async with self._engine.connect() as conn:
            scope, held = await self._scope(conn, customer_id, hold)
        ids = scope.contacts | scope.conversations
        tokens = {customer_id: token, **{i: new_token() for i in sorted(ids)}}
        scope = Scope(scope.contacts, scope.conversations, scope.customers, tokens, blank=True,
                      excluded=scope.excluded)  # fmt: skip
        rows: dict[str, int] = {}
        queues = [t for t in METADATA.sorted_tables if t.name in QUEUES]
        for engine in self._others:
            async with engine.begin() as conn:
                for name, n in (await anonymise(conn, scope, queues)).items():
                    rows[name] = rows.get(name, 0) + n
        async with self._engine.begin() as conn:
            for name, n in (await anonymise(conn, scope)).items():
                rows[name] = rows.get(name, 0) + n
        return Erasure(token, rows, tuple(held))

    async def _due(self, conn: AsyncConnection, cutoff: datetime, pending: ColumnElement[bool]) -> list[str]:
        query = (
            select(_contacts.c.id)
            .where(_contacts.c.received_at < cutoff, pending)
            .order_by(_contacts.c.received_at, _contacts.c.id)
            .limit(RUN_LIMIT)
        )
        return list((await conn.execute(query)).scalars())

    async def _complete(
        self, conn: AsyncConnection, column: str, members: set[str], done: ColumnElement[bool]
    ) -> tuple[set[str], dict[str, str]]:
        """Values of ``contacts.<column>`` among ``members`` whose every contact is a member or ``done``, and each
        member's value."""
        of: dict[str, str] = {}
        for part in chunks(members):
            query = select(_contacts.c.id, _contacts.c[column]).where(_contacts.c.id.in_(part))
            of.update({r.id: r[1] for r in await conn.execute(query) if r[1] is not None})
        complete = set()
        for part in chunks(set(of.values())):
            query = select(_contacts.c.id, _contacts.c[column], done.label("done")).where(_contacts.c[column].in_(part))
            rows = (await conn.execute(query)).all()
            outside = {r[1] for r in rows if r.id not in members and not r.done}
            complete |= {r[1] for r in rows} - outside
        return complete, of

    async def _purge_scope(
        self, conn: AsyncConnection, cutoff: datetime, hold: LegalHold, *, identifiers: bool
    ) -> tuple[Scope, list[Held]]:
        marked = _contacts.c.id.like(f"{ANON_PREFIX}%") if identifiers else _contacts.c.text == ""
        held_clause = _held_anywhere(hold)
        due = set(await self._due(conn, cutoff, and_(~marked, ~held_clause)))
        held_ids = await self._due(conn, cutoff, and_(~marked, held_clause))
        held = await self._held(conn, held_ids, hold)
        conversations, _ = await self._complete(conn, "conversation_id", due, marked)
        customers, cust_of = await self._complete(conn, "customer_id", due, marked)
        tokens: dict[str, str] = {}
        if identifiers:
            for value in sorted({*due, *conversations, *cust_of.values()}):
                tokens[value] = new_token()
        held_convs = {v for v in (await self._conversations(conn, held_ids)).values() if v is not None}
        scope = Scope(frozenset(due), frozenset(conversations - held_convs), frozenset(customers), tokens,
                      blank=not identifiers, excluded=frozenset({*held_ids, *held_convs}), scan=False)  # fmt: skip
        return scope, held

    async def purge(self, policy: RetentionPolicy, *, now: datetime, hold: LegalHold) -> Purge:
        """One bounded retention run: texts past their cutoff, then identifiers past theirs, then the queues."""
        counts: dict[str, int] = {}
        held: dict[str, Held] = {}
        done = {"texts": 0, "identifiers": 0}
        for kind, cutoff in (("texts", policy.text_cutoff(now)), ("identifiers", policy.identifier_cutoff(now))):
            if cutoff is None:
                continue
            async with self._engine.begin() as conn:
                scope, found = await self._purge_scope(conn, cutoff, hold, identifiers=kind == "identifiers")
                held.update({h.contact_id: h for h in found})
                done[kind] = len(scope.contacts)
                tables = [t for t in METADATA.sorted_tables if t.name not in QUEUES]
                for name, n in (await anonymise(conn, scope, tables)).items():
                    counts[name] = counts.get(name, 0) + n
        keep = {*held}
        async with self._engine.connect() as conn:
            keep |= {v for v in (await self._conversations(conn, held)).values() if v is not None}
        for engine in (self._engine, *self._others):
            for name, n in (await self._purge_queues(engine, policy, now, keep)).items():
                counts[name] = counts.get(name, 0) + n
        return Purge(done["texts"], done["identifiers"], counts, tuple(held[k] for k in sorted(held)))

    async def _purge_queues(
        self, engine: AsyncEngine, policy: RetentionPolicy, now: datetime, keep: Collection[str]
    ) -> dict[str, int]:
        """Done and dead queue rows: payloads emptied past the text cutoff, rows deleted past the identifier one;
        rows mentioning a held contact or conversation are kept."""
        counts: dict[str, int] = {}
        text_cut, id_cut = policy.text_cutoff(now), policy.identifier_cutoff(now)
        held_scope = Scope(contacts=frozenset(keep))
        async with engine.begin() as conn:
            for table in (t for t in METADATA.sorted_tables if t.name in QUEUES):
                pk, when = table.primary_key.columns[0], table.c[_QUEUE_TIME[table.name]]
                finished = table.c.status.in_(("done", "dead"))
                kept = {r[pk.name] for r in await subject_rows(conn, table, held_scope)} if keep else set()
                blanks = {c.name: "" for c in table.columns if c.name in ("payload", "result", "error")}
                steps: Sequence[tuple[datetime | None, Any]] = (
                    (text_cut, update(table).values(blanks).where(table.c.payload != "")),
                    (id_cut, delete(table)),
                )
                for cutoff, statement in steps:
                    if cutoff is None:
                        continue
                    statement = statement.where(finished, when < cutoff)
                    for part in chunks(kept) if kept else [[]]:
                        statement = statement.where(pk.not_in(part)) if part else statement
                    result = await conn.execute(statement)
                    counts[table.name] = counts.get(table.name, 0) + int(result.rowcount or 0)
        return counts
