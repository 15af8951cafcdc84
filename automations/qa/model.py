"""Value types of QA scoring: transcripts in, results out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

__all__ = ["QaReference", "QaResult", "Reference", "Transcript", "Turn"]

AUTHORS = ("customer", "agent", "bot")


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation: who wrote it (``customer``, ``agent`` or ``bot``), its (redacted) text."""

    author: str
    text: str
    at: datetime | None = None
    actor: str | None = None  # the agent's admin id, for agent turns


@dataclass(frozen=True, slots=True)
class Transcript:
    """A conversation to score; ``expected_tier`` and ``first_response_due`` come from the bot's decision, if any."""

    id: str
    agent_id: str | None
    turns: tuple[Turn, ...]
    expected_tier: str | None = None
    first_response_due: datetime | None = None

    def texts(self, *authors: str) -> list[str]:
        """The texts of the turns written by ``authors``, in order."""
        return [t.text for t in self.turns if t.author in authors]

    @property
    def question(self) -> str:
        """The customer's opening message (the turns before the first agent or bot turn)."""
        opening: list[str] = []
        for turn in self.turns:
            if turn.author != "customer":
                break
            opening.append(turn.text)
        return " ".join(opening) or " ".join(self.texts("customer")[:1])


@dataclass(frozen=True, slots=True)
class Reference:
    """What the knowledge base and the taxonomy say about a conversation's question."""

    tier: str | None
    passages: tuple[str, ...] = ()
    category: str | None = None


class QaReference(Protocol):
    """Looks up the reference for conversations' questions (the driver's team and its KB passages)."""

    async def references(self, questions: list[str]) -> list[Reference]:
        """One reference per question, in order."""
        ...


@dataclass(frozen=True, slots=True)
class QaResult:
    """A scored conversation: 0-100 (0 with any critical fail), criteria 0..1 or ``None`` when not applicable."""

    id: str
    agent_id: str | None
    score: int
    critical_fails: tuple[str, ...]
    criteria: dict[str, float | None] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
