"""SQL implementations of the inbox and outbox ports (SQLite or PostgreSQL); conversation state is in
:mod:`store.conversations`.

Claims lease rows by pushing ``available_at`` forward: a worker that dies mid-item simply lets the lease lapse and
another claims it again. PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so several workers never take the same
row; SQLite serialises writers with ``BEGIN IMMEDIATE`` (see :mod:`store.sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, Text, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from automations.queues import InboxItem, ItemStatus, OutboxAction
from store.batches import insert_unseen
from store.tables import AgentEventRow, Base, ConversationRow, InboxRow, OutboxRow

__all__ = ["SqlInbox", "SqlOutbox"]

_inbox = Base.metadata.tables[InboxRow.__tablename__]
_outbox = Base.metadata.tables[OutboxRow.__tablename__]
_conversations = Base.metadata.tables[ConversationRow.__tablename__]
_events = Base.metadata.tables[AgentEventRow.__tablename__]
PENDING, DONE, DEAD = ItemStatus.PENDING.value, ItemStatus.DONE.value, ItemStatus.DEAD.value
_SENT = (
    func.unnest(bindparam("keys", type_=ARRAY(String)), bindparam("results", type_=ARRAY(Text)))
    .table_valued("key", "result")
    .render_derived(name="sent")
)
_SENT_MANY_PG = (
    update(_outbox)
    .where(_outbox.c.key == _SENT.c.key)
    .values(status=DONE, sent_at=bindparam("now"), result=_SENT.c.result, error="")
)  # marking a batch sent on PostgreSQL (UPDATE ... FROM unnest): two array parameters, one statement for any batch


async def _claim(
    conn: AsyncConnection, table: Table, pk: str, *, now: datetime, lease: timedelta, limit: int, where: Any = None
) -> list[Any]:
    key = table.c[pk]
    order = table.c.received_at if "received_at" in table.c else table.c.created_at
    due = select(key).where(table.c.status == PENDING, table.c.available_at <= now)
    if where is not None:
        due = due.where(where)
    due = due.order_by(order, key).limit(limit)
    lease_it = {"available_at": now + lease, "attempts": table.c.attempts + 1}
    if conn.dialect.name == "postgresql":  # one statement: lease the due rows nobody else holds, return them
        claimed = update(table).where(key.in_(due.with_for_update(skip_locked=True).scalar_subquery()))
        rows = list((await conn.execute(claimed.values(**lease_it).returning(*table.c))).all())
        return sorted(rows, key=lambda row: (row._mapping[order.name], row._mapping[pk]))
    ids = list((await conn.execute(due)).scalars())
    if not ids:
        return []
    await conn.execute(update(table).where(key.in_(ids)).values(**lease_it))
    return list((await conn.execute(select(table).where(key.in_(ids)).order_by(order, key))).all())


async def _release(engine: AsyncEngine, table: Table, key: Any, ids: Sequence[str], now: datetime) -> None:
    """Pending rows among ``ids`` due again at ``now``, their last claim's attempt not counted."""
    if not ids:
        return
    undo = case((table.c.attempts > 0, table.c.attempts - 1), else_=0)
    async with engine.begin() as conn:
        await conn.execute(
            update(table).where(key.in_(list(ids)), table.c.status == PENDING).values(available_at=now, attempts=undo)
        )


class SqlInbox:
    """The :class:`~automations.queues.Inbox` port over the event store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated, e.g. ``SqlEventStore.engine``)."""
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        """The engine of the database holding the inbox."""
        return self._engine

    @staticmethod
    def _item(row: Any) -> InboxItem:
        return InboxItem(
            id=row.id, source=row.source, kind=row.kind, payload=row.payload, received_at=row.received_at,
            attempts=row.attempts, status=ItemStatus(row.status), error=row.error,
        )  # fmt: skip

    @staticmethod
    def _values(item: InboxItem) -> dict[str, Any]:
        return {
            "id": item.id, "source": item.source, "kind": item.kind, "payload": item.payload,
            "received_at": item.received_at, "status": PENDING, "attempts": 0, "available_at": item.received_at,
            "error": "", "done_at": None,
        }  # fmt: skip

    async def accept(self, item: InboxItem) -> bool:
        """Insert the item; a duplicate id is detected by the primary key and reported as ``False``."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(_inbox).values(self._values(item)))
        except IntegrityError:
            if await self.get(item.id) is not None:
                return False
            raise
        return True

    async def accept_many(self, items: Sequence[InboxItem]) -> list[bool]:
        """Insert a batch in one transaction (group commit); known or repeated ids are ``False``.

        On SQLite the write lock is taken first, so the existence check and the insert are atomic; on PostgreSQL a
        concurrent writer may win a race, and the batch then settles one item at a time on the primary key.
        """
        if not items:
            return []
        try:
            async with self._engine.begin() as conn:
                return await insert_unseen(conn, _inbox, _inbox.c.id, items, lambda i: i.id, self._values)
        except IntegrityError:
            return [await self.accept(i) for i in items]

    async def claim(self, *, now: datetime, lease: timedelta, limit: int = 16) -> list[InboxItem]:
        """Lease up to ``limit`` due items, oldest first."""
        async with self._engine.begin() as conn:
            rows = await _claim(conn, _inbox, "id", now=now, lease=lease, limit=limit)
        return [self._item(row) for row in rows]

    async def complete(self, item_id: str, *, now: datetime) -> None:
        """Mark an item processed."""
        async with self._engine.begin() as conn:
            await conn.execute(update(_inbox).where(_inbox.c.id == item_id).values(status=DONE, done_at=now))

    async def complete_many(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Mark several items processed in one statement."""
        if item_ids:
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(_inbox).where(_inbox.c.id.in_(list(item_ids))).values(status=DONE, done_at=now)
                )

    async def retry(self, item_id: str, *, error: str, at: datetime) -> None:
        """Release the item for another attempt at ``at``."""
        async with self._engine.begin() as conn:
            await conn.execute(update(_inbox).where(_inbox.c.id == item_id).values(available_at=at, error=error))

    async def kill(self, item_id: str, *, error: str, now: datetime) -> None:
        """Give up on the item; it stays visible with status ``dead``."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_inbox).where(_inbox.c.id == item_id).values(status=DEAD, error=error, done_at=now)
            )

    async def release(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Due again at ``now``, the claim's attempt not counted (pending items only)."""
        await _release(self._engine, _inbox, _inbox.c.id, item_ids, now)

    async def get(self, item_id: str) -> InboxItem | None:
        """Return one item."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(_inbox).where(_inbox.c.id == item_id))).first()
        return self._item(row) if row else None

    async def pending(self) -> int:
        """Items not yet processed."""
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).where(_inbox.c.status == PENDING)) or 0)


class SqlOutbox:
    """The :class:`~automations.queues.Outbox` port over the event store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated)."""
        self._engine = engine

    @staticmethod
    def _action(row: Any) -> OutboxAction:
        return OutboxAction(
            key=row.key, target=row.target, kind=row.kind, payload=row.payload, created_at=row.created_at,
            attempts=row.attempts, status=ItemStatus(row.status), error=row.error, available_at=row.available_at,
        )  # fmt: skip

    async def enqueue(self, actions: Sequence[OutboxAction]) -> list[bool]:
        """Queue new keys in one transaction; keys already present are skipped (``False``)."""
        if not actions:
            return []
        try:
            async with self._engine.begin() as conn:
                keys = [a.key for a in actions]
                seen = set((await conn.execute(select(_outbox.c.key).where(_outbox.c.key.in_(keys)))).scalars())
                accepted = []
                fresh = []
                for action in actions:
                    ok = action.key not in seen
                    seen.add(action.key)
                    accepted.append(ok)
                    if ok:
                        fresh.append(action)
                if fresh:
                    await conn.execute(insert(_outbox), [self._values(a) for a in fresh])
        except IntegrityError:  # a concurrent writer won a race on PostgreSQL: settle one key at a time
            if len(actions) == 1:
                return [False]
            return [(await self.enqueue([a]))[0] for a in actions]
        return accepted

    @staticmethod
    def _values(action: OutboxAction) -> dict[str, Any]:
        return {
            "key": action.key, "target": action.target, "kind": action.kind, "payload": action.payload,
            "created_at": action.created_at, "status": PENDING, "attempts": 0,
            "available_at": action.available_at or action.created_at, "error": "", "result": "", "sent_at": None,
        }  # fmt: skip

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 16, targets: Sequence[str] | None = None
    ) -> list[OutboxAction]:
        """Lease up to ``limit`` due actions, oldest first."""
        where = _outbox.c.target.in_(list(targets)) if targets is not None else None
        async with self._engine.begin() as conn:
            rows = await _claim(conn, _outbox, "key", now=now, lease=lease, limit=limit, where=where)
        return [self._action(row) for row in rows]

    async def _set(self, key: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(_outbox).where(_outbox.c.key == key).values(**values))

    async def sent(self, key: str, *, now: datetime, result: str = "") -> None:
        """Mark the action performed."""
        await self._set(key, status=DONE, sent_at=now, result=result, error="")

    async def sent_many(self, results: Sequence[tuple[str, str]], *, now: datetime) -> None:
        """Mark several actions performed in one transaction: one statement for the batch on PostgreSQL, one executed
        for each key elsewhere."""
        if not results:
            return
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one statement for the batch, whatever its size
                keys, done = [k for k, _ in results], [r for _, r in results]
                await conn.execute(_SENT_MANY_PG, {"keys": keys, "results": done, "now": now})
                return
            statement = (
                update(_outbox)
                .where(_outbox.c.key == bindparam("done_key"))
                .values(status=DONE, sent_at=now, result=bindparam("done_result"), error="")
            )
            await conn.execute(statement, [{"done_key": k, "done_result": r} for k, r in results])

    async def retry(self, key: str, *, error: str, at: datetime) -> None:
        """Schedule another attempt at ``at``."""
        await self._set(key, available_at=at, error=error)

    async def kill(self, key: str, *, error: str, now: datetime) -> None:
        """Give up on the action."""
        await self._set(key, status=DEAD, error=error, sent_at=None, available_at=now)

    async def release(self, keys: Sequence[str], *, now: datetime) -> None:
        """Due again at ``now``, the claim's attempt not counted (pending actions only)."""
        await _release(self._engine, _outbox, _outbox.c.key, keys, now)

    async def get(self, key: str) -> OutboxAction | None:
        """Return one action."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(_outbox).where(_outbox.c.key == key))).first()
        return self._action(row) if row else None

    async def result(self, key: str) -> str | None:
        """What the remote side returned for a performed action."""
        async with self._engine.connect() as conn:
            return await conn.scalar(select(_outbox.c.result).where(_outbox.c.key == key))

    async def pending(self, target: str | None = None) -> int:
        """Actions not yet performed."""
        query = select(func.count()).where(_outbox.c.status == PENDING)
        if target is not None:
            query = query.where(_outbox.c.target == target)
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)
