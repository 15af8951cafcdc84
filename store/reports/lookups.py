"""Reporting reads on the event store itself (not the fact table): open SLA deadlines and contacts' texts.

A hand-off has two deadlines: first response (open until the first ``first_response`` agent event) and resolution
(open until the first ``closed`` event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from automations.reports.ports import GapQuestion
from automations.reports.values import KB_GAP_REASONS, SlaDeadline
from store.reports.queries import agent_events, contacts, decisions

__all__ = ["contact_texts", "customer_contacts_between", "kb_gap_questions", "open_deadlines"]

_EVENT = {"first_response": "first_response", "resolution": "closed"}


def customer_contacts_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Filter for customer contacts decided in ``[start, end)`` (``decisions`` joined with ``contacts``)."""
    return and_(decisions.c.decided_at >= start, decisions.c.decided_at < end, contacts.c.channel == "customer")


def _joined() -> Any:
    return decisions.join(contacts, contacts.c.id == decisions.c.contact_id)


def _open(kind: str, due_after: datetime, now: datetime) -> Any:
    due = decisions.c.first_response_due if kind == "first_response" else decisions.c.resolution_due
    done = exists().where(agent_events.c.contact_id == decisions.c.contact_id, agent_events.c.kind == _EVENT[kind])
    return select(
        decisions.c.contact_id, decisions.c.tier, decisions.c.category, literal(kind).label("kind"),
        decisions.c.decided_at, due.label("due"),
    ).where(decisions.c.action == "handoff", due >= due_after, decisions.c.decided_at <= now, ~done)  # fmt: skip


async def open_deadlines(conn: AsyncConnection, now: datetime, *, due_after: datetime) -> list[SlaDeadline]:
    """Hand-off deadlines decided by ``now``, due at or after ``due_after``, with no completing event yet."""
    query = union_all(_open("first_response", due_after, now), _open("resolution", due_after, now))
    rows = (await conn.execute(query)).all()
    return [SlaDeadline(r[0], r[1], r[2], r[3], r[4], r[5], now) for r in rows]


async def kb_gap_questions(conn: AsyncConnection, start: datetime, end: datetime, *, limit: int) -> list[GapQuestion]:
    """Texts and drivers of the contacts decided in ``[start, end)`` and handed off for a KB gap, latest first (texts
    erased or past retention, now empty, are left out)."""
    query = (
        select(contacts.c.text, decisions.c.category)
        .select_from(_joined())
        .where(customer_contacts_between(start, end), decisions.c.reason.in_(KB_GAP_REASONS), contacts.c.text != "")
        .order_by(decisions.c.decided_at.desc())
        .limit(limit)
    )
    return [GapQuestion(str(r[0]), str(r[1])) for r in (await conn.execute(query)).all()]


async def contact_texts(
    conn: AsyncConnection, category: str, start: datetime, end: datetime, *, limit: int
) -> list[str]:
    """Redacted texts of ``category`` customer contacts decided in ``[start, end)``, latest first (empty ones, erased
    or past retention, left out)."""
    query = (
        select(contacts.c.text)
        .select_from(_joined())
        .where(customer_contacts_between(start, end), decisions.c.category == category, contacts.c.text != "")
        .order_by(decisions.c.decided_at.desc())
        .limit(limit)
    )
    return [str(t) for t in (await conn.scalars(query)).all()]
