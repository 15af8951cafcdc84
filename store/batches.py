"""One insert for a batch of rows keyed by a unique column, skipping keys already stored or repeated in the batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["insert_unseen"]

T = TypeVar("T")


async def insert_unseen(
    conn: AsyncConnection,
    table: Table,
    key: Column[Any],
    items: Sequence[T],
    key_of: Callable[[T], str],
    values: Callable[[T], dict[str, Any]],
) -> list[bool]:
    """Insert the ``items`` whose key is neither in ``table`` nor earlier in ``items``, in one statement; for each
    item, whether it was inserted. A concurrent writer may still win a race: the insert then raises
    :class:`~sqlalchemy.exc.IntegrityError`, for the caller to settle one item at a time."""
    keys = sorted({key_of(item) for item in items})
    seen = set((await conn.scalars(select(key).where(key.in_(keys)))).all())
    added = []
    for item in items:
        added.append(key_of(item) not in seen)
        seen.add(key_of(item))
    fresh = [values(item) for item, ok in zip(items, added, strict=True) if ok]
    if fresh:
        await conn.execute(insert(table), fresh)
    return added
