"""Builders of Intercom webhook notifications shaped like the real thing, and their signatures.

``data.item`` is a ``conversation`` of ``../shared/specs/intercom-api-2.14.yaml`` (with ``conversation_source``,
``conversation_parts``, ``conversation_part``, ``conversation_rating``, ``contact_reference``...); the envelope is
Intercom's ``notification_event``. ``tests/test_intercom_webhooks.py`` validates every conversation built here against
the spec's schema, so the shapes cannot drift from it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from bot.intercom.signing import SIGNATURE_HEADER, sign

__all__ = [
    "APP_ID",
    "BOT_ADMIN_ID",
    "HUMAN_ADMIN_ID",
    "SECRET",
    "T0",
    "admin_assigned",
    "admin_closed",
    "admin_replied",
    "conversation",
    "notification",
    "part",
    "ping",
    "rating_added",
    "signed",
    "user_created",
    "user_replied",
]

SECRET = "test-client-secret"
APP_ID = "abc123de"
BOT_ADMIN_ID = "991267001"
HUMAN_ADMIN_ID = "991267002"
T0 = 1_767_000_000  # a fixed UNIX time (2025-12-29); tests add offsets to it
_ids = itertools.count(1)


def _next_id() -> str:
    return str(400_000_000 + next(_ids))


def author(kind: str, author_id: str) -> dict[str, Any]:
    """A ``conversation_part_author``."""
    name = "Customer" if kind in ("user", "lead") else "Agent"
    email = f"{kind}{author_id}@example.com"
    return {"type": kind, "id": author_id, "name": name, "email": email, "from_ai_agent": False, "is_ai_answer": False}


def part(
    body: str | None,
    *,
    part_id: str | None = None,
    author_type: str = "user",
    author_id: str = "6762f0f31bb69f9f2193bb8b",
    part_type: str = "comment",
    created_at: int = T0,
    assigned_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``conversation_part``."""
    return {
        "type": "conversation_part", "id": part_id or _next_id(), "part_type": part_type, "body": body,
        "created_at": created_at, "updated_at": created_at, "notified_at": created_at, "assigned_to": assigned_to,
        "author": author(author_type, author_id), "attachments": [], "external_id": None, "redacted": False,
        "state": "open", "tags": [],
    }  # fmt: skip


def conversation(
    conversation_id: str,
    *,
    contact_id: str = "6762f0f31bb69f9f2193bb8b",
    source_body: str = "<p>Hello</p>",
    source_id: str | None = None,
    source_author: str = "user",
    parts: list[dict[str, Any]] | None = None,
    teammates: list[str] | None = None,
    rating: dict[str, Any] | None = None,
    state: str = "open",
    admin_assignee_id: int | None = None,
    created_at: int = T0,
    custom_attributes: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``conversation`` as Intercom puts it in ``data.item``; ``contact`` adds fields of the ``contact`` model
    (``location``, ``custom_attributes``) to its contact reference."""
    parts = parts or []
    return {
        "type": "conversation", "id": conversation_id, "title": None, "created_at": created_at,
        "updated_at": max([created_at, *(p["created_at"] for p in parts)]), "waiting_since": None,
        "snoozed_until": None, "open": state == "open", "state": state, "read": False, "priority": "not_priority",
        "admin_assignee_id": admin_assignee_id, "team_assignee_id": None,
        "tags": {"type": "tag.list", "tags": []},
        "conversation_rating": rating,
        "source": {
            "type": "conversation", "id": source_id or _next_id(), "delivered_as": "customer_initiated",
            "subject": "", "body": source_body,
            "author": author(source_author, contact_id if source_author == "user" else BOT_ADMIN_ID),
            "attachments": [], "url": None, "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": contact_id, "external_id": None, **(contact or {})}],
        },
        "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": t} for t in teammates or []]},
        "custom_attributes": custom_attributes or {}, "first_contact_reply": None, "sla_applied": None,
        "statistics": None,
        "conversation_parts": {
            "type": "conversation_part.list", "conversation_parts": parts, "total_count": len(parts),
        },
        "ai_agent_participated": False,
    }  # fmt: skip


def notification(
    topic: str, item: dict[str, Any], *, notification_id: str | None = None, created_at: int = T0, attempts: int = 1
) -> dict[str, Any]:
    """A ``notification_event`` envelope around ``item``."""
    return {
        "type": "notification_event", "app_id": APP_ID,
        "data": {"type": "notification_event_data", "item": item},
        "links": {}, "id": notification_id or f"notif_{_next_id()}", "topic": topic, "delivery_status": "pending",
        "delivery_attempts": attempts, "delivered_at": 0, "first_sent_at": created_at, "created_at": created_at,
        "self": None,
    }  # fmt: skip


def user_created(
    conversation_id: str, text: str, *, contact_id: str = "6762f0f31bb69f9f2193bb8b", message_id: str | None = None,
    created_at: int = T0, notification_id: str | None = None, custom_attributes: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.user.created``: the message is the conversation's ``source``."""
    item = conversation(
        conversation_id, contact_id=contact_id, source_body=f"<p>{text}</p>", source_id=message_id,
        created_at=created_at, custom_attributes=custom_attributes, contact=contact,
    )  # fmt: skip
    return notification("conversation.user.created", item, notification_id=notification_id, created_at=created_at)


def user_replied(
    conversation_id: str, text: str, *, part_id: str | None = None, contact_id: str = "6762f0f31bb69f9f2193bb8b",
    created_at: int = T0 + 60, teammates: list[str] | None = None, notification_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.user.replied``: the reply is the newest ``conversation_part``."""
    reply = part(f"<p>{text}</p>", part_id=part_id, author_id=contact_id, created_at=created_at)
    item = conversation(
        conversation_id, contact_id=contact_id, source_author="admin", parts=[reply], teammates=teammates,
        created_at=T0 - 3600,
    )  # fmt: skip
    return notification("conversation.user.replied", item, notification_id=notification_id, created_at=created_at)


def admin_replied(
    conversation_id: str, text: str = "Hi, I'm looking into this now.", *, admin_id: str = HUMAN_ADMIN_ID,
    created_at: int = T0 + 120, notification_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.admin.replied``."""
    reply = part(f"<p>{text}</p>", author_type="admin", author_id=admin_id, created_at=created_at)
    item = conversation(conversation_id, parts=[reply], teammates=[admin_id], created_at=T0 - 3600)
    return notification("conversation.admin.replied", item, notification_id=notification_id, created_at=created_at)


def admin_assigned(
    conversation_id: str, *, admin_id: str = HUMAN_ADMIN_ID, assignee_id: str = HUMAN_ADMIN_ID,
    created_at: int = T0 + 100, notification_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.admin.assigned``: an ``assignment`` part by ``admin_id``."""
    assignment = part(
        None, author_type="admin", author_id=admin_id, part_type="assignment", created_at=created_at,
        assigned_to={"type": "admin", "id": assignee_id},
    )  # fmt: skip
    item = conversation(conversation_id, parts=[assignment], admin_assignee_id=int(assignee_id), created_at=T0 - 3600)
    return notification("conversation.admin.assigned", item, notification_id=notification_id, created_at=created_at)


def admin_closed(
    conversation_id: str, *, admin_id: str = HUMAN_ADMIN_ID, created_at: int = T0 + 300,
    notification_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.admin.closed``: a ``close`` part by ``admin_id``."""
    close = part(None, author_type="admin", author_id=admin_id, part_type="close", created_at=created_at)
    item = conversation(conversation_id, parts=[close], state="closed", created_at=T0 - 3600)
    return notification("conversation.admin.closed", item, notification_id=notification_id, created_at=created_at)


def rating_added(
    conversation_id: str, score: int, remark: str = "", *, contact_id: str = "6762f0f31bb69f9f2193bb8b",
    created_at: int = T0 + 400, notification_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``conversation.rating.added``: the ``conversation_rating`` of the conversation."""
    rating = {
        "rating": score, "remark": remark, "created_at": created_at - 30, "updated_at": created_at,
        "contact": {"type": "contact", "id": contact_id, "external_id": None},
        "teammate": {"type": "admin", "id": HUMAN_ADMIN_ID},
    }  # fmt: skip
    item = conversation(conversation_id, contact_id=contact_id, rating=rating, state="closed", created_at=T0 - 3600)
    return notification("conversation.rating.added", item, notification_id=notification_id, created_at=created_at)


def ping(*, notification_id: str | None = None) -> dict[str, Any]:
    """The ``ping`` notification Intercom sends to a new or tested endpoint."""
    item = {"type": "ping", "message": "something something interzen"}
    return notification("ping", item, notification_id=notification_id)


def signed(payload: dict[str, Any] | bytes, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of a correctly signed delivery."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret), "User-Agent": "Intercom"}
    return body, headers
