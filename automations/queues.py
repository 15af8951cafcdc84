"""Durable work queues: the inbox of received deliveries and the outbox of effects to perform.

Adapters write an :class:`InboxItem` *before* acknowledging a delivery, and background workers claim items with a
lease, so a crash at any moment loses nothing: an unfinished item is claimed again once its lease expires. Effects
(Intercom replies, Slack posts) are :class:`OutboxAction` rows keyed by an idempotency key, so planning the same effect
twice queues it once; a delivery worker sends them with bounded, backed-off retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

__all__ = ["Inbox", "InboxItem", "ItemStatus", "Outbox", "OutboxAction"]


class ItemStatus(StrEnum):
    """Lifecycle of an inbox item or outbox action."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One received delivery (a webhook notification, a Slack event): ``payload`` is redacted JSON text."""

    id: str
    source: str
    kind: str
    payload: str
    received_at: datetime
    attempts: int = 0
    status: ItemStatus = ItemStatus.PENDING
    error: str = ""


@dataclass(frozen=True, slots=True)
class OutboxAction:
    """One effect to perform on an external system, exactly once per ``key``."""

    key: str
    target: str
    kind: str
    payload: str
    created_at: datetime
    attempts: int = 0
    status: ItemStatus = ItemStatus.PENDING
    error: str = ""
    available_at: datetime | None = None


class Inbox(Protocol):
    """Received deliveries, unique by id, claimed by workers under a lease."""

    async def accept(self, item: InboxItem) -> bool:
        """Persist ``item``; ``False`` (and no change) when its id was already received."""
        ...

    async def accept_many(self, items: Sequence[InboxItem]) -> list[bool]:
        """Persist a batch in one transaction, like :meth:`accept` for each (``False`` for known or repeated ids)."""
        ...

    async def claim(self, *, now: datetime, lease: timedelta, limit: int = 16) -> list[InboxItem]:
        """Take up to ``limit`` pending items whose lease is free (oldest first), lease them until ``now + lease``
        and count the attempt."""
        ...

    async def complete(self, item_id: str, *, now: datetime) -> None:
        """Mark an item processed."""
        ...

    async def complete_many(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Mark several items processed, in one transaction."""
        ...

    async def retry(self, item_id: str, *, error: str, at: datetime) -> None:
        """Release an item for another attempt at ``at``, recording the error."""
        ...

    async def kill(self, item_id: str, *, error: str, now: datetime) -> None:
        """Give up on an item (it stays in the table, visible to operators)."""
        ...

    async def release(self, item_ids: Sequence[str], *, now: datetime) -> None:
        """Hand claimed, unprocessed items back at once (a graceful shutdown): due at ``now``, and the claim's
        attempt is not counted."""
        ...

    async def get(self, item_id: str) -> InboxItem | None:
        """Return one item by id."""
        ...

    async def pending(self) -> int:
        """Number of items not yet processed."""
        ...


class Outbox(Protocol):
    """Effects waiting to be performed, unique by idempotency key."""

    async def enqueue(self, actions: Sequence[OutboxAction]) -> list[bool]:
        """Queue ``actions`` atomically; ``False`` for each key already queued (or sent)."""
        ...

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 16, targets: Sequence[str] | None = None
    ) -> list[OutboxAction]:
        """Take up to ``limit`` due actions (oldest first; optionally only for ``targets``) under a lease."""
        ...

    async def sent(self, key: str, *, now: datetime, result: str = "") -> None:
        """Mark an action performed, with what the remote side returned (for example the created id)."""
        ...

    async def sent_many(self, results: Sequence[tuple[str, str]], *, now: datetime) -> None:
        """:meth:`sent` for several ``(key, result)`` pairs, in one transaction."""
        ...

    async def retry(self, key: str, *, error: str, at: datetime) -> None:
        """Schedule another attempt at ``at``, recording the error."""
        ...

    async def kill(self, key: str, *, error: str, now: datetime) -> None:
        """Give up on an action that can never succeed (for example a 4xx other than 429)."""
        ...

    async def release(self, keys: Sequence[str], *, now: datetime) -> None:
        """Hand claimed, unsent actions back at once (a graceful shutdown), without counting the attempt."""
        ...

    async def get(self, key: str) -> OutboxAction | None:
        """Return one action by key."""
        ...

    async def result(self, key: str) -> str | None:
        """What the remote side returned for a performed action (``None`` if unknown or not yet performed)."""
        ...

    async def pending(self, target: str | None = None) -> int:
        """Number of actions not yet performed (optionally for one target)."""
        ...
