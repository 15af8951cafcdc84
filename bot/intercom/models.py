"""Intercom webhook payloads as pydantic models, and the redacted event we keep in the inbox.

The wire models follow ``../shared/specs/intercom-api-2.14.yaml``: ``conversation``, ``conversation_source``,
``conversation_parts``/``conversation_part``, ``conversation_part_author``, ``conversation_rating``,
``contact_reference`` (with ``contact_location`` and ``custom_attributes`` when present), ``reference`` and
``conversation_teammates``. The notification envelope
(``type: notification_event``, ``id``, ``topic``, ``data.item``, ``delivery_attempts``...) is not in that spec; it
follows Intercom's documented webhook model. Only fields we use are declared; the rest are ignored.

:class:`IntercomEvent` is what the edge persists: the fields the handler needs, with message bodies stripped of HTML
and redacted, and no names or email addresses at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from automations.redaction import Redactor
from bot.intercom.jurisdiction import jurisdiction_of

__all__ = [
    "CONVERSATION_TOPICS",
    "CUSTOMER_TOPICS",
    "Conversation",
    "ConversationPart",
    "ConversationRating",
    "IntercomEvent",
    "IntercomMessage",
    "Notification",
    "html_to_text",
    "to_event",
]

CUSTOMER_TOPICS = frozenset({"conversation.user.created", "conversation.user.replied"})
"""Topics that carry a customer message for the core."""
CONVERSATION_TOPICS = CUSTOMER_TOPICS | {
    "conversation.admin.replied",
    "conversation.admin.assigned",
    "conversation.admin.closed",
    "conversation.rating.added",
}
"""Every topic the adapter persists and processes; any other topic is acknowledged and ignored."""
_CUSTOMER_AUTHORS = frozenset({"user", "lead", "contact"})
_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Reference(_Wire):
    """``reference``: a typed id (an admin, a team, a contact)."""

    type: str | None = None
    id: str | None = None


class ContactLocation(_Wire):
    """``contact_location``: where Intercom places a contact (names, e.g. ``United States``, ``California``)."""

    country: str | None = None
    region: str | None = None


class ContactReference(_Wire):
    """``contact_reference``; ``location`` and ``custom_attributes`` are the full ``contact``'s, when present."""

    type: str = "contact"
    id: str
    external_id: str | None = None
    location: ContactLocation | None = None
    custom_attributes: dict[str, Any] | None = None


class ConversationContacts(_Wire):
    """``conversation_contacts``."""

    contacts: list[ContactReference] = Field(default_factory=list)


class Teammates(_Wire):
    """``conversation_teammates``: admins who wrote at least one part."""

    teammates: list[Reference] = Field(default_factory=list)


class PartAuthor(_Wire):
    """``conversation_part_author``; the name is kept only for teammates (QA names the agent), never the email."""

    type: str
    id: str | None = None
    name: str | None = None


class ConversationPart(_Wire):
    """``conversation_part``: one message, note or action in a conversation."""

    id: str
    part_type: str = "comment"
    body: str | None = None
    created_at: int | None = None
    author: PartAuthor | None = None
    assigned_to: Reference | None = None


class ConversationParts(_Wire):
    """``conversation_parts``."""

    conversation_parts: list[ConversationPart] = Field(default_factory=list)


class ConversationSource(_Wire):
    """``conversation_source``: the message that started the conversation."""

    id: str | None = None
    type: str | None = None
    delivered_as: str | None = None
    body: str | None = None
    author: PartAuthor | None = None


class ConversationRating(_Wire):
    """``conversation_rating``: a 1..5 rating and remark from the contact."""

    rating: int | None = None
    remark: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    contact: ContactReference | None = None
    teammate: Reference | None = None


class Conversation(_Wire):
    """``conversation``, as carried in ``data.item`` of conversation topics."""

    type: str = "conversation"
    id: str
    created_at: int | None = None
    updated_at: int | None = None
    state: str | None = None
    admin_assignee_id: int | str | None = None
    team_assignee_id: int | str | None = None
    source: ConversationSource | None = None
    contacts: ConversationContacts | None = None
    teammates: Teammates | None = None
    conversation_rating: ConversationRating | None = None
    conversation_parts: ConversationParts | None = None
    custom_attributes: dict[str, Any] | None = None


class NotificationData(_Wire):
    """``data`` of a notification: the item is parsed by topic (see :meth:`Notification.conversation`)."""

    type: str | None = None
    item: dict[str, Any] = Field(default_factory=dict)


class Notification(_Wire):
    """A webhook notification (``notification_event``)."""

    type: str = "notification_event"
    id: str = Field(min_length=1, max_length=200)
    topic: str = Field(min_length=1, max_length=200)
    app_id: str | None = None
    created_at: int | None = None
    delivery_attempts: int | None = None
    first_sent_at: int | None = None
    data: NotificationData = Field(default_factory=NotificationData)

    def conversation(self) -> Conversation:
        """``data.item`` as a conversation (raises ``pydantic.ValidationError`` when it is not one)."""
        return Conversation.model_validate(self.data.item)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(body: str | None) -> str:
    """Plain text of an Intercom message body (HTML): tags dropped, entities decoded, whitespace collapsed."""
    if not body:
        return ""
    parser = _TextExtractor()
    parser.feed(body)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class IntercomMessage(BaseModel):
    """One customer message of a notification (text already stripped of HTML and redacted)."""

    model_config = ConfigDict(frozen=True)

    part_id: str
    text: str
    created_at: datetime | None = None


class IntercomEvent(BaseModel):
    """What the edge persists for one notification: redacted, minimal, enough for the handler."""

    model_config = ConfigDict(frozen=True)

    notification_id: str
    topic: str
    conversation_id: str
    customer_id: str | None = None
    messages: tuple[IntercomMessage, ...] = ()
    actor_id: str | None = None
    actor_type: str | None = None
    assignee_id: str | None = None
    humans: tuple[str, ...] = ()
    rating: int | None = None
    remark: str = ""
    at: datetime | None = None
    reply: str = ""
    """The teammate's reply (redacted text) on ``conversation.admin.replied``, captured for QA."""
    reply_part_id: str | None = None
    actor_name: str | None = None
    jurisdiction: str | None = None
    """The customer's ISO 3166 code (:func:`bot.intercom.jurisdiction.jurisdiction_of`); never the place itself."""


def _when(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


def _customer_messages(conversation: Conversation, redactor: Redactor) -> tuple[IntercomMessage, ...]:
    found: list[tuple[str, str, int | None]] = []
    source = conversation.source
    if source and source.id and source.author and source.author.type in _CUSTOMER_AUTHORS:
        found.append((source.id, source.body or "", conversation.created_at))
    parts = conversation.conversation_parts.conversation_parts if conversation.conversation_parts else []
    for part in parts:
        if part.author and part.author.type in _CUSTOMER_AUTHORS and part.part_type in ("comment", "open"):
            found.append((part.id, part.body or "", part.created_at))
    messages = []
    for part_id, body, created in found:
        text = html_to_text(body)
        if text:
            clean = redactor.redact(text).text
            messages.append(IntercomMessage(part_id=part_id, text=clean, created_at=_when(created)))
    return tuple(messages)


def _last_admin_part(conversation: Conversation) -> ConversationPart | None:
    parts = conversation.conversation_parts.conversation_parts if conversation.conversation_parts else []
    admin = [p for p in parts if p.author and p.author.type in ("admin", "bot", "team")]
    return admin[-1] if admin else None


def to_event(notification: Notification, redactor: Redactor) -> IntercomEvent:
    """The redacted event for a conversation notification (raises ``pydantic.ValidationError`` on a bad item)."""
    conversation = notification.conversation()
    contacts = conversation.contacts.contacts if conversation.contacts else []
    messages = _customer_messages(conversation, redactor)
    customer = contacts[0].id if contacts else None
    if customer is None and conversation.source and conversation.source.author:
        customer = conversation.source.author.id
    admin = _last_admin_part(conversation)
    rating = conversation.conversation_rating
    teammates = conversation.teammates.teammates if conversation.teammates else []
    at = _when(notification.created_at)
    if admin is not None and admin.created_at is not None:
        at = _when(admin.created_at)
    if notification.topic == "conversation.rating.added" and rating is not None:
        at = _when(rating.updated_at or rating.created_at) or at
    assignee = admin.assigned_to.id if admin and admin.assigned_to else None
    if assignee is None and conversation.admin_assignee_id is not None:
        assignee = str(conversation.admin_assignee_id)
    return IntercomEvent(
        notification_id=notification.id,
        topic=notification.topic,
        conversation_id=conversation.id,
        customer_id=customer,
        messages=messages,
        actor_id=admin.author.id if admin and admin.author else None,
        actor_type=admin.author.type if admin and admin.author else None,
        reply=redactor.redact(html_to_text(admin.body)).text if admin and admin.part_type == "comment" else "",
        reply_part_id=admin.id if admin else None,
        actor_name=admin.author.name if admin and admin.author and admin.author.type == "admin" else None,
        assignee_id=assignee,
        humans=tuple(t.id for t in teammates if t.id),
        rating=rating.rating if rating else None,
        remark=redactor.redact(rating.remark).text if rating and rating.remark else "",
        at=at,
        jurisdiction=jurisdiction_of(conversation),
    )
