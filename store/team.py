"""SQL implementation of :class:`~automations.qa.team.AgentActivity` (SQLite or PostgreSQL).

One aggregate query over the hand-offs of a period: each contact's owner, first response and close come from
``agent_events`` (correlated look-ups on its ``(contact_id, kind)`` index), its CSAT from ``feedback`` and its
reopen from a later contact of the same customer and driver in ``outcomes``; rows are summed by owner and driver.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Interval, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.qa.team import OWNER_KINDS, AgentFigures
from store.reports.queries import SqlDialect, agent_events, contacts, count_if, decisions, feedback, outcomes, reader

__all__ = ["SqlAgentActivity"]


def _first_actor(kinds: tuple[str, ...]) -> Any:
    e = agent_events.c
    return (
        select(e.actor)
        .where(e.contact_id == decisions.c.contact_id, e.kind.in_(kinds), e.actor.is_not(None))
        .order_by(e.at, e.id)
        .limit(1)
        .scalar_subquery()
    )


def _first_at(kind: str) -> Any:
    e = agent_events.c
    return select(func.min(e.at)).where(e.contact_id == decisions.c.contact_id, e.kind == kind).scalar_subquery()


def _csat(expr: Any) -> Any:
    f = feedback.c
    return (
        select(func.coalesce(func.sum(expr), 0))
        .where(f.contact_id == decisions.c.contact_id, f.csat.is_not(None))
        .scalar_subquery()
    )


class SqlAgentActivity:
    """Per-agent figures over the event store's engine (reads only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated)."""
        self._engine = reader(engine)

    async def agent_figures(
        self, start: datetime, end: datetime, *, reopen_within: timedelta = timedelta(days=7)
    ) -> list[AgentFigures]:
        """Hand-offs decided in ``[start, end)`` by owner and driver."""
        owner = func.coalesce(*(_first_actor(tuple(str(k) for k in kinds)) for kinds in OWNER_KINDS))
        handoffs = (
            select(
                decisions.c.category,
                outcomes.c.customer_id,
                contacts.c.received_at,
                decisions.c.first_response_due,
                owner.label("owner"),
                _first_at("first_response").label("fr_at"),
                _first_at("closed").label("closed_at"),
                _csat(1).label("csat_n"),
                _csat(feedback.c.csat).label("csat_sum"),
                _csat(case((feedback.c.csat >= 4, 1), else_=0)).label("csat_sat"),
            )
            .select_from(
                decisions.join(contacts, contacts.c.id == decisions.c.contact_id).join(
                    outcomes, outcomes.c.contact_id == decisions.c.contact_id, isouter=True
                )
            )
            .where(
                decisions.c.decided_at >= start,
                decisions.c.decided_at < end,
                decisions.c.action == "handoff",
                contacts.c.channel == "customer",
            )
            .subquery("h")
        )
        async with self._engine.connect() as conn:
            sql = SqlDialect(conn.dialect.name)
            h = handoffs.c
            responded, closed = h.fr_at.is_not(None), h.closed_at.is_not(None)
            both = and_(responded, closed)
            due = h.first_response_due
            query = (
                select(
                    h.owner,
                    h.category,
                    func.count(),
                    count_if(responded),
                    func.coalesce(func.sum(case((responded, sql.seconds(h.fr_at, h.received_at)), else_=0.0)), 0.0),
                    count_if(closed),
                    func.coalesce(func.sum(case((closed, sql.seconds(h.closed_at, h.received_at)), else_=0.0)), 0.0),
                    count_if(both),
                    func.coalesce(func.sum(case((both, sql.seconds(h.closed_at, h.fr_at)), else_=0.0)), 0.0),
                    count_if(and_(closed, self._returned(sql, h, reopen_within))),
                    func.coalesce(func.sum(h.csat_n), 0),
                    func.coalesce(func.sum(h.csat_sum), 0),
                    func.coalesce(func.sum(h.csat_sat), 0),
                    count_if(and_(responded, due.is_not(None), h.fr_at <= due)),
                    count_if(and_(responded, due.is_not(None), h.fr_at > due)),
                )
                .where(h.owner.is_not(None))
                .group_by(h.owner, h.category)
            )
            rows = (await conn.execute(query)).all()
        return [
            AgentFigures(str(r[0]), str(r[1]), int(r[2]), int(r[3]), float(r[4]), int(r[5]), float(r[6]), int(r[7]),
                         float(r[8]), int(r[9]), int(r[10]), int(r[11]), int(r[12]), int(r[13]), int(r[14]))
            for r in rows
        ]  # fmt: skip

    @staticmethod
    def _returned(sql: SqlDialect, h: Any, within: timedelta) -> ColumnElement[bool]:
        """The customer came back on the same driver after the close, within ``within``."""
        later = outcomes.alias("later")
        if sql.name == "sqlite":  # naive UTC text: compare with text of the same shape
            until: Any = func.strftime("%Y-%m-%d %H:%M:%f", h.closed_at, f"+{int(within.total_seconds())} seconds")
        else:
            until = h.closed_at + literal(within, Interval())
        return (
            select(later.c.contact_id)
            .where(
                later.c.customer_id == h.customer_id,
                later.c.category == h.category,
                later.c.decided_at > h.closed_at,
                later.c.decided_at <= until,
            )
            .exists()
        )
