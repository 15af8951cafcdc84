"""SQL implementation of :class:`~automations.qa.records.QaRecords` (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.qa.model import QaResult
from automations.qa.records import CapturedTurn, ManagerGrade, ScoredConversation, TurnKind
from store.batches import insert_unseen
from store.qa_tables import QaGradeRow, QaScoreRow, TranscriptTurnRow
from store.tables import Base

__all__ = ["SqlQaRecords"]

_turns = Base.metadata.tables[TranscriptTurnRow.__tablename__]
_scores = Base.metadata.tables[QaScoreRow.__tablename__]
_grades = Base.metadata.tables[QaGradeRow.__tablename__]


class SqlQaRecords:
    """Transcripts, QA scores and manager grades over the event store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (already migrated)."""
        self._engine = engine

    @staticmethod
    def _values(turn: CapturedTurn) -> dict[str, Any]:
        return {
            "key": turn.key, "conversation_id": turn.conversation_id, "author": turn.author, "kind": turn.kind,
            "at": turn.at, "text": turn.text, "actor_id": turn.actor_id, "actor_name": turn.actor_name,
            "contact_id": turn.contact_id, "customer_id": turn.customer_id,
        }  # fmt: skip

    async def add_turn(self, turn: CapturedTurn) -> bool:
        """Append unless the key is known (a concurrent duplicate loses on the unique key)."""
        try:
            async with self._engine.begin() as conn:
                if await conn.scalar(select(_turns.c.id).where(_turns.c.key == turn.key)) is not None:
                    return False
                await conn.execute(insert(_turns).values(**self._values(turn)))
        except IntegrityError:
            return False
        return True

    async def add_turns(self, turns: Sequence[CapturedTurn]) -> list[bool]:
        """:meth:`add_turn` for each, in one transaction (``False`` for known or repeated keys); when a concurrent
        writer wins a race on a key, the batch settles one turn at a time."""
        if not turns:
            return []
        try:
            async with self._engine.begin() as conn:
                return await insert_unseen(conn, _turns, _turns.c.key, turns, lambda t: t.key, self._values)
        except IntegrityError:
            return [await self.add_turn(t) for t in turns]

    async def turns(self, conversation_id: str) -> list[CapturedTurn]:
        """Oldest first."""
        query = select(_turns).where(_turns.c.conversation_id == conversation_id).order_by(_turns.c.at, _turns.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            CapturedTurn(r.key, r.conversation_id, r.author, r.at, r.text, r.kind, r.actor_id, r.actor_name,
                         r.contact_id, r.customer_id)
            for r in rows
        ]  # fmt: skip

    async def to_score(self, *, closed_before: datetime, limit: int = 100) -> list[str]:
        """Closed, unscored conversations, oldest close first."""
        scored = select(_scores.c.conversation_id).where(_scores.c.conversation_id == _turns.c.conversation_id)
        first_close = func.min(_turns.c.at)
        query = (
            select(_turns.c.conversation_id)
            .where(_turns.c.kind == TurnKind.CLOSE, _turns.c.at <= closed_before, ~scored.exists())
            .group_by(_turns.c.conversation_id)
            .order_by(first_close)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.scalars(query)).all())

    async def save_score(self, scored: ScoredConversation) -> bool:
        """The first score stands."""
        r = scored.result
        values: dict[str, Any] = {
            "conversation_id": scored.conversation_id, "agent_id": r.agent_id, "agent_name": scored.agent_name,
            "score": r.score, "critical_fails": json.dumps(list(r.critical_fails)),
            "criteria": json.dumps(r.criteria), "evidence": json.dumps(r.evidence), "scored_at": scored.scored_at,
            "closed_at": scored.closed_at, "category": scored.category, "tier": scored.tier,
            "customer_id": scored.customer_id, "contact_id": scored.contact_id, "alerted": scored.alerted,
        }  # fmt: skip
        try:
            async with self._engine.begin() as conn:
                known = select(_scores.c.conversation_id).where(_scores.c.conversation_id == scored.conversation_id)
                if await conn.scalar(known) is not None:
                    return False
                await conn.execute(insert(_scores).values(**values))
        except IntegrityError:
            return False
        return True

    async def mark_alerted(self, conversation_id: str) -> None:
        """Flag the score row."""
        async with self._engine.begin() as conn:
            await conn.execute(update(_scores).where(_scores.c.conversation_id == conversation_id).values(alerted=True))

    async def scores(self, *, since: datetime, until: datetime) -> list[ScoredConversation]:
        """Scored in ``[since, until)``."""
        query = (
            select(_scores)
            .where(_scores.c.scored_at >= since, _scores.c.scored_at < until)
            .order_by(_scores.c.scored_at, _scores.c.conversation_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ScoredConversation(
                r.conversation_id,
                QaResult(
                    r.conversation_id,
                    r.agent_id,
                    r.score,
                    tuple(json.loads(r.critical_fails)),
                    json.loads(r.criteria),
                    json.loads(r.evidence),
                ),
                r.scored_at,
                r.closed_at,
                r.agent_name,
                r.category,
                r.tier,
                r.customer_id,
                r.contact_id,
                r.alerted,
            )
            for r in rows
        ]

    async def add_grade(self, grade: ManagerGrade) -> None:
        """Append."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(_grades).values(
                    conversation_id=grade.conversation_id, grader=grade.grader, criterion=grade.criterion,
                    value=grade.value, scorer_value=grade.scorer_value, at=grade.at,
                )
            )  # fmt: skip

    async def grades(self, *, since: datetime) -> list[ManagerGrade]:
        """Latest per (grader, conversation, criterion), oldest first."""
        query = select(_grades).where(_grades.c.at >= since).order_by(_grades.c.at, _grades.c.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        latest: dict[tuple[str, str, str], ManagerGrade] = {}
        for r in rows:
            latest[(r.grader, r.conversation_id, r.criterion)] = ManagerGrade(
                r.conversation_id, r.grader, r.criterion, r.value, r.at, r.scorer_value
            )
        return sorted(latest.values(), key=lambda g: g.at)
