"""Conversation capture and QA records: the ports, and their in-memory fakes.

Every turn of a conversation (the customer's messages, the bot's replies, each human agent's replies, assignments,
the close and the rating) is appended once, redacted, under a stable key (the channel's part id), with the agent's
admin id and name. A closed conversation is scored once; its :class:`ScoredConversation` is what the reports, the
1:1 packs and the manager alerts read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from automations.qa.model import QaResult

__all__ = [
    "CapturedTurn",
    "ManagerGrade",
    "MemoryQaRecords",
    "QaRecords",
    "ScoredConversation",
    "TurnKind",
]


class TurnKind:
    """What a captured turn is."""

    MESSAGE = "message"
    ASSIGNMENT = "assignment"
    CLOSE = "close"
    RATING = "rating"


@dataclass(frozen=True, slots=True)
class CapturedTurn:
    """One captured event of a conversation; ``text`` is redacted."""

    key: str  # unique: the channel's part id (a redelivery appends nothing)
    conversation_id: str
    author: str  # customer | agent | bot
    at: datetime
    text: str = ""
    kind: str = TurnKind.MESSAGE
    actor_id: str | None = None
    actor_name: str | None = None
    contact_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredConversation:
    """A conversation's QA result with what the reports need beside it."""

    conversation_id: str
    result: QaResult
    scored_at: datetime
    closed_at: datetime | None = None
    agent_name: str | None = None
    category: str | None = None
    tier: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    alerted: bool = False


@dataclass(frozen=True, slots=True)
class ManagerGrade:
    """A manager's grade of one criterion (or critical fail) of a scored conversation, for calibration."""

    conversation_id: str
    grader: str
    criterion: str
    value: float | None
    at: datetime
    scorer_value: float | None = None


class QaRecords(Protocol):
    """Durable transcripts, QA scores and manager grades."""

    async def add_turn(self, turn: CapturedTurn) -> bool:
        """Append a turn; ``False`` (and nothing stored) when its key is already there."""
        ...

    async def add_turns(self, turns: Sequence[CapturedTurn]) -> list[bool]:
        """:meth:`add_turn` for each, in one write: ``False`` for a key already known (or repeated in ``turns``)."""
        ...

    async def turns(self, conversation_id: str) -> list[CapturedTurn]:
        """A conversation's turns, oldest first."""
        ...

    async def to_score(self, *, closed_before: datetime, limit: int = 100) -> list[str]:
        """Conversations with a close turn at or before ``closed_before`` and no score yet, oldest close first."""
        ...

    async def save_score(self, scored: ScoredConversation) -> bool:
        """Store a conversation's score; ``False`` when it was already scored (the first score stands)."""
        ...

    async def mark_alerted(self, conversation_id: str) -> None:
        """Remember that the manager was alerted about this conversation's critical fails."""
        ...

    async def scores(self, *, since: datetime, until: datetime) -> list[ScoredConversation]:
        """Scores of conversations scored in ``[since, until)``, oldest first."""
        ...

    async def add_grade(self, grade: ManagerGrade) -> None:
        """Append a manager's grade (a later grade of the same criterion by the same grader supersedes it)."""
        ...

    async def grades(self, *, since: datetime) -> list[ManagerGrade]:
        """Grades given at or after ``since``, oldest first (only the latest per grader, conversation, criterion)."""
        ...


@dataclass
class MemoryQaRecords:
    """In-memory :class:`QaRecords` (the fake shipped beside the port)."""

    turn_rows: list[CapturedTurn] = field(default_factory=list)
    score_rows: dict[str, ScoredConversation] = field(default_factory=dict)
    grade_rows: list[ManagerGrade] = field(default_factory=list)

    async def add_turn(self, turn: CapturedTurn) -> bool:
        """Append unless the key is known."""
        if any(t.key == turn.key for t in self.turn_rows):
            return False
        self.turn_rows.append(turn)
        return True

    async def add_turns(self, turns: Sequence[CapturedTurn]) -> list[bool]:
        """Each appended unless its key is known."""
        return [await self.add_turn(turn) for turn in turns]

    async def turns(self, conversation_id: str) -> list[CapturedTurn]:
        """Oldest first (stable for equal times)."""
        rows = [t for t in self.turn_rows if t.conversation_id == conversation_id]
        return sorted(rows, key=lambda t: t.at)

    async def to_score(self, *, closed_before: datetime, limit: int = 100) -> list[str]:
        """Closed, unscored conversations."""
        closes: dict[str, datetime] = {}
        for t in self.turn_rows:
            if t.kind == TurnKind.CLOSE and t.at <= closed_before and t.conversation_id not in self.score_rows:
                closes[t.conversation_id] = min(t.at, closes.get(t.conversation_id, t.at))
        return sorted(closes, key=lambda c: closes[c])[:limit]

    async def save_score(self, scored: ScoredConversation) -> bool:
        """First score stands."""
        if scored.conversation_id in self.score_rows:
            return False
        self.score_rows[scored.conversation_id] = scored
        return True

    async def mark_alerted(self, conversation_id: str) -> None:
        """Flag the score row."""
        row = self.score_rows.get(conversation_id)
        if row is not None:
            self.score_rows[conversation_id] = replace(row, alerted=True)

    async def scores(self, *, since: datetime, until: datetime) -> list[ScoredConversation]:
        """Scored in the window."""
        rows = [s for s in self.score_rows.values() if since <= s.scored_at < until]
        return sorted(rows, key=lambda s: s.scored_at)

    async def add_grade(self, grade: ManagerGrade) -> None:
        """Append."""
        self.grade_rows.append(grade)

    async def grades(self, *, since: datetime) -> list[ManagerGrade]:
        """Latest per (grader, conversation, criterion)."""
        latest: dict[tuple[str, str, str], ManagerGrade] = {}
        for g in sorted(self.grade_rows, key=lambda g: g.at):
            if g.at >= since:
                latest[(g.grader, g.conversation_id, g.criterion)] = g
        return sorted(latest.values(), key=lambda g: g.at)
