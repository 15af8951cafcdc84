"""Performs Intercom outbox actions (reply, note, assign, tag) through the official ``python-intercom`` async client.

The SDK's own retries are switched off on every request (``max_retries=0``: 5.0.1 counts retries from 2, so its
``max_retries`` is off by two); the :class:`~automations.delivery.OutboxDispatcher` retries instead, with bounded
backoff. Failures are mapped onto the delivery contract: 429, 5xx, 408/409/425, 401 (a rotated token is fixed by an
operator, not by dropping the reply), timeouts and connection errors raise :class:`RetryLater` (with the server's
``Retry-After`` or ``X-RateLimit-Reset`` when given); any other 4xx raises :class:`PermanentFailure`.

The sender is a :class:`~automations.delivery.Reconciler`: before an action is attempted again after an attempt whose
outcome was never heard (a worker killed mid-send, a timeout), :meth:`IntercomSender.performed` reads the
conversation, and a reply or note by the bot admin with the same text (posted since the decision), the assignment
to the same team, or the tag already on it, counts as done: a customer never gets the same reply twice.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from intercom import AdminReplyConversationRequest, AsyncIntercom, CreateOrUpdateTagRequest
from intercom.conversations import ConversationsManageRequestBody_Assignment
from intercom.core.api_error import ApiError
from intercom.core.request_options import RequestOptions

from automations.delivery import PermanentFailure, RetryLater
from automations.queues import OutboxAction
from bot.intercom.actions import IntercomPayload
from bot.intercom.transport import AiohttpTransport
from bot.settings import SettingError, Settings

__all__ = ["API_VERSION", "NO_SDK_RETRIES", "IntercomSender", "delivery_error", "intercom_client", "retry_after"]

API_VERSION = "2.14"
NO_SDK_RETRIES: RequestOptions = {"max_retries": 0}
_RETRYABLE_4XX = frozenset({401, 408, 409, 425, 429})
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CLOCK_SKEW_S = 5  # a part posted this long before the decision still counts as ours (Intercom's clock, in seconds)


def _text(body: str | None) -> str:
    """The visible text of an HTML body (Intercom may rewrite the markup of what we sent, not its words)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", body or ""))).strip()


def intercom_client(settings: Settings, *, timeout_s: float | None = None) -> tuple[AsyncIntercom, httpx.AsyncClient]:
    """An ``AsyncIntercom`` at ``INTERCOM_BASE_URL`` pinned to API 2.14, and the httpx client to close after use."""
    if not settings.intercom_access_token:
        raise SettingError("INTERCOM_ACCESS_TOKEN", "is not set")
    timeout = timeout_s if timeout_s is not None else settings.intercom_timeout_s
    http = httpx.AsyncClient(timeout=timeout, follow_redirects=True, transport=AiohttpTransport())
    client = AsyncIntercom(
        base_url=settings.intercom_base_url.rstrip("/"),
        token=settings.intercom_access_token,
        headers={"Intercom-Version": API_VERSION},
        timeout=timeout,
        httpx_client=http,
    )
    return client, http


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` (seconds or HTTP date), else ``X-RateLimit-Reset``."""
    now = time.time() if now is None else now
    value = _header(headers, "retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = _header(headers, "x-ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def delivery_error(exc: Exception, *, now: float | None = None) -> RetryLater | PermanentFailure | None:
    """Map an SDK or transport exception onto the delivery contract.

    ``None`` when it is not an Intercom failure, or for a 2xx whose body the SDK could not parse (the call took effect).
    """
    if isinstance(exc, httpx.TimeoutException):
        return RetryLater(f"Intercom timed out: {type(exc).__name__}")
    if isinstance(exc, httpx.TransportError):
        return RetryLater(f"Intercom unreachable: {type(exc).__name__}: {exc}")
    if isinstance(exc, ApiError):
        status = exc.status_code or 0
        if 200 <= status < 300:
            return None
        message = f"Intercom answered {status}: {str(exc.body)[:300]}"
        if status >= 500 or status in _RETRYABLE_4XX:
            return RetryLater(message, retry_after=retry_after(exc.headers, now=now))
        return PermanentFailure(message)
    return None


class IntercomSender:
    """:class:`~automations.delivery.Sender` for target ``intercom``: one SDK call per action (two for a new tag)."""

    def __init__(
        self, client: AsyncIntercom, *, admin_id: str, http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._client, self._admin_id, self._http, self._clock = client, admin_id, http, clock
        self._tag_ids: dict[str, str] = {}
        self._tag_lock = asyncio.Lock()  # concurrent sends must not create one tag twice

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_s: float | None = None) -> IntercomSender:
        """A sender at ``INTERCOM_BASE_URL`` acting as ``INTERCOM_BOT_ADMIN_ID`` (both token and admin required)."""
        if not settings.intercom_bot_admin_id:
            raise SettingError("INTERCOM_BOT_ADMIN_ID", "is not set (the admin the bot replies as)")
        client, http = intercom_client(settings, timeout_s=timeout_s)
        return cls(client, admin_id=settings.intercom_bot_admin_id, http=http)

    async def aclose(self) -> None:
        """Close the HTTP connection pool (register in ``Parts.shutdown``)."""
        if self._http is not None:
            await self._http.aclose()

    async def send(self, action: OutboxAction) -> str:
        """Perform ``action``; returns the id Intercom gave back (``conversation:<id>`` or ``tag:<id>``)."""
        try:
            payload = IntercomPayload.from_json(action.payload)
        except ValueError as exc:
            raise PermanentFailure(f"malformed Intercom action {action.key}: {exc}") from exc
        try:
            return await self._perform(payload)
        except (RetryLater, PermanentFailure):
            raise
        except Exception as exc:
            if payload.tag is not None:
                self._tag_ids.pop(payload.tag, None)  # a deleted tag is recreated on the next attempt
            mapped = delivery_error(exc, now=self._clock())
            if mapped is None and isinstance(exc, ApiError):
                return f"{payload.kind}:accepted"
            if mapped is None:
                raise
            raise mapped from exc

    async def performed(self, action: OutboxAction) -> str | None:
        """``action``'s result when Intercom already shows its effect (see the module docstring), else ``None``."""
        try:
            payload = IntercomPayload.from_json(action.payload)
        except ValueError:
            return None  # send() reports the malformed payload
        try:
            conversation: Any = await self._client.conversations.find(
                payload.conversation_id, request_options=NO_SDK_RETRIES
            )
        except Exception as exc:
            mapped = delivery_error(exc, now=self._clock())
            if isinstance(mapped, RetryLater):
                raise mapped from exc
            return None  # cannot be read (e.g. 404): let the send itself succeed or fail
        found = f"conversation:{conversation.id or payload.conversation_id}"
        if payload.kind in ("reply", "note"):
            part_type, since = "comment" if payload.kind == "reply" else "note", action.created_at.timestamp()
            text = _text(payload.body)
            parts = conversation.conversation_parts.conversation_parts if conversation.conversation_parts else []
            for part in parts or []:
                author = str(part.author.id) if part.author is not None else None
                if (part.part_type == part_type and author == self._admin_id and _text(part.body) == text
                        and (part.created_at or 0) >= since - _CLOCK_SKEW_S):  # fmt: skip
                    return found
        elif payload.kind == "assign" and payload.team_id:
            if str(conversation.team_assignee_id or "") == payload.team_id:
                return found
        elif payload.kind == "tag" and payload.tag:
            tags = conversation.tags.tags if conversation.tags else []
            for tag in tags or []:
                if tag.name == payload.tag:
                    return f"tag:{tag.id}"
        return None

    async def _perform(self, payload: IntercomPayload) -> str:
        conversations, conversation_id = self._client.conversations, payload.conversation_id
        if payload.kind in ("reply", "note") and payload.body:
            request = AdminReplyConversationRequest(
                message_type="comment" if payload.kind == "reply" else "note",
                admin_id=self._admin_id,
                body=payload.body,
            )
            conversation = await conversations.reply(conversation_id, request=request, request_options=NO_SDK_RETRIES)
            return f"conversation:{conversation.id}"
        if payload.kind == "assign" and payload.team_id:
            assignment = ConversationsManageRequestBody_Assignment(
                type="team", admin_id=self._admin_id, assignee_id=payload.team_id
            )
            conversation = await conversations.manage(
                conversation_id, request=assignment, request_options=NO_SDK_RETRIES
            )
            return f"conversation:{conversation.id}"
        if payload.kind == "tag" and payload.tag:
            tag_id = await self._tag_id(payload.tag)
            await self._client.tags.tag_conversation(
                conversation_id, tag_id=tag_id, admin_id=self._admin_id, request_options=NO_SDK_RETRIES
            )
            return f"tag:{tag_id}"
        raise PermanentFailure(f"unknown or incomplete Intercom action kind {payload.kind!r}")

    async def _tag_id(self, name: str) -> str:
        known = self._tag_ids.get(name)
        if known is not None:
            return known
        async with self._tag_lock:
            known = self._tag_ids.get(name)
            if known is None:
                # POST /tags with a name creates the tag, or returns the existing one of that name
                tag: Any = await self._client.tags.create(
                    request=CreateOrUpdateTagRequest(name=name), request_options=NO_SDK_RETRIES
                )
                known = self._tag_ids[name] = str(tag.id)
        return known
