"""QA input and output lines at the edge: pydantic models for ``autopilot qa score`` and the evaluation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from automations.qa import QaResult, Transcript, Turn
from automations.redaction import redact

__all__ = ["QaLine", "QaMessage", "result_line"]


class QaMessage(BaseModel):
    """One message of an input conversation."""

    model_config = ConfigDict(extra="ignore")

    author: Literal["customer", "agent", "bot"]
    text: str = Field(max_length=20_000)
    at: datetime | None = None


class QaLine(BaseModel):
    """One input line: ``{"id", "agent_id", "messages": [...]}`` (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    agent_id: str | None = None
    messages: list[QaMessage] = Field(min_length=1)
    first_response_due: datetime | None = None
    expected_tier: str | None = None

    def transcript(self) -> Transcript:
        """The redacted transcript the scorer reads (raw personal data never reaches it)."""
        turns = tuple(Turn(m.author, redact(m.text), m.at) for m in self.messages)
        return Transcript(self.id, self.agent_id, turns, self.expected_tier, self.first_response_due)


def result_line(result: QaResult) -> dict[str, object]:
    """The output line: ``{"id", "agent_id", "score", "critical_fails", "criteria", "evidence"}``."""
    return {
        "id": result.id,
        "agent_id": result.agent_id,
        "score": result.score,
        "critical_fails": list(result.critical_fails),
        "criteria": result.criteria,
        "evidence": result.evidence,
    }
