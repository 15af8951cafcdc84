"""The outbox sender for target ``slack``: performs queued Slack effects through the Web API.

Kinds: ``post_message`` (an agent answer), ``post_handoff`` (a tier-channel hand-off; its ``{"channel", "ts"}`` is
kept as the action's result so alerts can be threaded under it), ``update_message`` (claim, feedback) and
``post_alert`` (SLA warnings in the hand-off's thread, spikes, digests with a chart uploaded by ``files_upload_v2``).
429s are retried inside slack_sdk first (``AsyncRateLimitErrorRetryHandler``); what still fails is classified for the
outbox: :class:`RetryLater` for 429, 5xx, network errors and Slack's transient error codes, :class:`PermanentFailure`
for the rest.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from automations.delivery import PermanentFailure, RetryLater
from automations.effects import OutboxKeys
from automations.queues import ItemStatus, OutboxAction
from automations.taxonomy import FALLBACK_TIER

__all__ = ["SlackSender", "classify_error"]

log = logging.getLogger("autopilot.slack")

TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "invalid_auth",
     "not_authed", "account_inactive", "token_revoked", "team_added_to_org"}
)  # fmt: skip
"""Error codes a later attempt can succeed after (auth errors too: a fixed token must not lose hand-offs)."""


class ResultLookup(Protocol):
    """The part of the outbox the sender reads: another action's status and result."""

    async def get(self, key: str) -> OutboxAction | None:
        """One action."""
        ...

    async def result(self, key: str) -> str | None:
        """What the remote side returned for a performed action."""
        ...


def _status(error: SlackApiError) -> int | None:
    response = error.response
    return getattr(response, "status_code", None) or getattr(response, "status", None)


def _retry_after(error: SlackApiError) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except ValueError:
                return None
    return None


def classify_error(exc: Exception) -> Exception:
    """Map a Web API failure to the outbox's :class:`RetryLater` or :class:`PermanentFailure`."""
    if isinstance(exc, SlackApiError):
        status = _status(exc)
        code = ""
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict):
            code = str(data.get("error", ""))
        if status == 429 or code == "ratelimited":
            return RetryLater(f"slack rate limited ({code or status})", retry_after=_retry_after(exc))
        if status is not None and status >= 500:
            return RetryLater(f"slack server error {status} {code}".strip())
        if code in TRANSIENT_ERRORS:
            return RetryLater(f"slack error {code}")
        return PermanentFailure(f"slack error {code or status}")
    if isinstance(exc, (aiohttp.ClientError, TimeoutError, SlackRequestError, SlackClientError, OSError)):
        return RetryLater(f"slack unreachable: {type(exc).__name__}: {exc}")
    return exc


class SlackSender:
    """Performs ``slack`` outbox actions with an :class:`AsyncWebClient`."""

    def __init__(
        self, client: AsyncWebClient, outbox: ResultLookup, *, tier_channels: dict[str, str], digest_channel: str | None
    ) -> None:
        """``tier_channels`` and ``digest_channel`` place alerts that have no hand-off thread."""
        self._client, self._outbox = client, outbox
        self._tiers, self._digest = tier_channels, digest_channel

    async def send(self, action: OutboxAction) -> str:
        """Perform ``action``; returns ``{"channel", "ts"}`` JSON for posts."""
        payload: dict[str, Any] = json.loads(action.payload)
        try:
            if action.kind in ("post_message", "post_handoff"):
                return await self._post(payload)
            if action.kind == "update_message":
                response = await self._client.chat_update(
                    channel=payload["channel"], ts=payload["ts"], text=payload["text"], blocks=payload["blocks"]
                )
                return json.dumps({"channel": response["channel"], "ts": response["ts"]})
            if action.kind == "post_alert":
                return await self._alert(payload)
        except Exception as exc:
            raise classify_error(exc) from exc
        raise PermanentFailure(f"unknown slack action kind {action.kind!r}")

    async def _post(self, payload: dict[str, Any]) -> str:
        response = await self._client.chat_postMessage(
            channel=payload["channel"], text=payload["text"], blocks=payload["blocks"],
            thread_ts=payload.get("thread_ts"), unfurl_links=False, unfurl_media=False,
        )  # fmt: skip
        return json.dumps({"channel": response["channel"], "ts": response["ts"]})

    async def _place(self, payload: dict[str, Any]) -> tuple[str, str | None]:
        """Channel and thread of an alert: a user's direct messages, the hand-off's thread when it was posted, else
        the tier/digest channel."""
        if payload.get("user"):
            return payload["user"], None  # chat.postMessage to a user id opens the app's DM with them
        contact_id = payload.get("thread_of")
        if contact_id:
            key = OutboxKeys.slack_handoff(contact_id)
            posted = await self._outbox.get(key)
            if posted is not None and posted.status is ItemStatus.PENDING:
                raise RetryLater(f"hand-off {contact_id} not posted yet", retry_after=5.0)
            result = await self._outbox.result(key) if posted is not None else None
            if posted is not None and posted.status is ItemStatus.DONE and result:
                where = json.loads(result)
                return where["channel"], where["ts"]
        tier = payload.get("tier")
        fallback = self._tiers.get(FALLBACK_TIER) if tier else None
        channel = (self._tiers.get(tier) if tier else None) or self._digest or fallback
        if not channel:
            raise PermanentFailure(f"no Slack channel configured for alert tier {tier!r} (set SLACK_DIGEST_CHANNEL)")
        return channel, None

    async def _alert(self, payload: dict[str, Any]) -> str:
        channel, thread_ts = await self._place(payload)
        image = payload.get("image_png")
        if image:
            response = await self._client.files_upload_v2(
                channel=channel, thread_ts=thread_ts, file=base64.b64decode(image), filename=payload["filename"],
                title=payload["title"], initial_comment=payload["text"],
            )  # fmt: skip
            return json.dumps({"channel": channel, "file": response["file"]["id"]})
        return await self._post({**payload, "channel": channel, "thread_ts": thread_ts})
