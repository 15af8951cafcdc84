"""The append-only audit trail: every regulatory clock start, stop, met or breach, and every privacy action.

Rows are only ever appended; nothing here updates or deletes one. The SQL implementation lives in ``store/``;
:class:`MemoryAuditTrail` is the in-memory fake for unit tests and the testbot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["AuditEvent", "AuditTrail", "MemoryAuditTrail"]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited fact.

    ``kind`` is dotted, for example ``clock.started``, ``clock.met``, ``clock.breached``, ``clock.stopped``,
    ``privacy.exported``, ``privacy.erased``, ``retention.purged`` or ``retention.held``. ``subject`` is what it is
    about (a clock id, a contact id, a customer id); ``detail`` is redacted, human-readable text.
    """

    kind: str
    subject: str
    at: datetime
    actor: str = "system"
    detail: str = ""


class AuditTrail(Protocol):
    """Append-only storage of :class:`AuditEvent` rows."""

    async def append(self, event: AuditEvent) -> None:
        """Append one event (never updates or removes an earlier one)."""
        ...

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in their order, in one transaction (all or none)."""
        ...

    async def events(
        self, *, subject: str | None = None, kind_prefix: str = "", since: datetime | None = None
    ) -> list[AuditEvent]:
        """Events oldest first, optionally only one subject's, kinds starting with ``kind_prefix``, from ``since``."""
        ...


class MemoryAuditTrail:
    """In-memory :class:`AuditTrail` (the fake shipped beside the port)."""

    def __init__(self) -> None:
        """Start empty."""
        self.rows: list[AuditEvent] = []

    async def append(self, event: AuditEvent) -> None:
        """Append one event."""
        self.rows.append(event)

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        """Append several events in order."""
        self.rows.extend(events)

    async def events(
        self, *, subject: str | None = None, kind_prefix: str = "", since: datetime | None = None
    ) -> list[AuditEvent]:
        """Events oldest first, filtered like the SQL implementation."""
        rows = [
            e
            for e in self.rows
            if (subject is None or e.subject == subject)
            and e.kind.startswith(kind_prefix)
            and (since is None or e.at >= since)
        ]
        return sorted(rows, key=lambda e: e.at)
