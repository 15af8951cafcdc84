"""Domain values of the automation core.

They are plain frozen dataclasses: pydantic stays at the edges (config files, HTTP payloads), and the core never
sees raw dicts. Every text held here has already been redacted by :mod:`automations.redaction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Action",
    "Answer",
    "Channel",
    "Classification",
    "Contact",
    "Deadline",
    "Decision",
    "Feedback",
    "Handoff",
    "OutcomeRecord",
    "OutcomeState",
    "Passage",
    "SafetyVerdict",
    "Visibility",
]


class Channel(StrEnum):
    """Who the reply is for: customers see public articles only; agents may also see internal ones."""

    CUSTOMER = "customer"
    AGENT = "agent"


class Visibility(StrEnum):
    """Audience of a knowledge-base article."""

    PUBLIC = "public"
    INTERNAL = "internal"


class Action(StrEnum):
    """What the pipeline decided to do with a contact."""

    ANSWER = "answer"
    HANDOFF = "handoff"


class OutcomeState(StrEnum):
    """States of the deflection outcome state machine (see :mod:`automations.outcomes`)."""

    ANSWERED = "answered"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    HANDED_OFF = "handed_off"


@dataclass(frozen=True, slots=True)
class Contact:
    """One inbound customer or agent message, as the edge parsed it (text not yet redacted)."""

    id: str
    text: str
    channel: Channel = Channel.CUSTOMER
    received_at: datetime | None = None
    customer_id: str | None = None
    conversation_id: str | None = None
    source: str = "cli"
    jurisdiction: str | None = None
    """ISO 3166 country or subdivision of the customer (``US``, ``US-CA``, ``GB``); the configured default if unset."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """A regulatory clock a contact started (:mod:`automations.obligations`): due at the end of its due day, in the
    offset of the contact's ``received_at``. An ``internal`` one (a SAR decision) is never shown to the customer."""

    id: str
    due: datetime
    basis: str
    internal: bool = False
    tier: str = ""
    """The owning tier of the rule (who must meet it)."""


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's calibrated view of a text: best category first."""

    category: str
    confidence: float
    ranked: tuple[tuple[str, float], ...] = ()
    risk: tuple[tuple[str, float], ...] = ()
    """Protected kinds the learned risk layer (:mod:`automations.risk`) found in the same embedding, with their
    probabilities, the strongest first; empty when none reached its threshold (or there is no risk layer)."""
    leaning: tuple[str, float] | None = None
    """The protected kind the risk layer finds most probable, at its lean floor or more; it picks the team of a
    contact handed to a person for another reason (the classifier unsure, no article), never a hand-off itself."""


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    """What the safety layer found, independent of the classifier."""

    category: str | None = None
    reasons: tuple[str, ...] = ()
    injection: bool = False
    note: str = ""
    """What an agent should know first (a signal's or the risk layer's finding), for the hand-off summary."""
    probability: float = 1.0
    """The classifier's or the risk layer's probability behind a learned verdict; 1.0 for a pattern or a signal."""


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved knowledge-base section, with its cosine similarity to the query (0..1)."""

    article_id: str
    title: str
    section: str
    text: str
    url: str
    visibility: Visibility
    categories: tuple[str, ...]
    score: float = 0.0
    intro: bool | None = None
    """The article's introduction (text before its first heading, in an article that has headings); ``None`` when the
    index predates the flag (then a section headed by the article's title is taken for one)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply drafted from one or more passages; ``passage`` is the cited one."""

    text: str
    passage: Passage
    method: str = "extractive"


@dataclass(frozen=True, slots=True)
class Handoff:
    """Everything an agent needs to pick a contact up."""

    tier: str
    reason: str
    summary: str
    first_response_due: datetime
    resolution_due: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """The pipeline's verdict on one contact: what to say and to whom, not how to say it."""

    contact_id: str
    channel: Channel
    text: str
    category: str
    group: str
    confidence: float
    action: Action
    tier: str
    reason: str
    decided_at: datetime
    customer_id: str | None = None
    conversation_id: str | None = None
    source: str = "cli"
    reply: str | None = None
    article_id: str | None = None
    article_url: str | None = None
    retrieval_score: float | None = None
    answer_method: str | None = None
    handoff: Handoff | None = None
    injection: bool = False
    latency_ms: float = 0.0
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    deadlines: tuple[Deadline, ...] = ()
    """The regulatory clocks this contact started (none for a plain question)."""


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """The deflection outcome of one decision."""

    contact_id: str
    customer_id: str | None
    category: str
    group: str
    state: OutcomeState
    decided_at: datetime
    updated_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Feedback:
    """Customer or agent feedback on a decision: helpful yes/no and/or a CSAT score from 1 to 5."""

    contact_id: str
    at: datetime
    helpful: bool | None = None
    csat: int | None = None
    source: str = "customer"
    comment: str = ""
