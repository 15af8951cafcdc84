"""The ``/intercom/webhooks`` route: verify the signature, parse, redact, persist to the inbox, then acknowledge.

Nothing slow runs before the acknowledgement: the route only checks the HMAC, validates the payload into the models
of :mod:`bot.intercom.models`, redacts the text it keeps and inserts one inbox row (unique by notification id, so a
redelivery is acknowledged again without a second row). Background workers do the rest (:mod:`bot.intercom.handler`).

Answers: 401 unsigned or forged, 400 malformed, 413 over ``AUTOPILOT_MAX_BODY_BYTES`` (the app's ``BodyLimit``
middleware), 503 when ``INTERCOM_CLIENT_SECRET`` is unset or the inbox cannot be written (Intercom retries), else 200.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from automations.ports import Clock
from automations.queues import Inbox, InboxItem
from automations.redaction import Redactor
from bot.intercom.models import CONVERSATION_TOPICS, Notification, to_event
from bot.intercom.signing import SIGNATURE_HEADER, verify

__all__ = ["SOURCE", "WEBHOOK_PATH", "WebhookMetrics", "inbox_id", "webhook_route"]

log = logging.getLogger("autopilot.intercom.webhooks")

SOURCE = "intercom"
WEBHOOK_PATH = "/intercom/webhooks"
_KNOWN_TOPICS = CONVERSATION_TOPICS | {"ping"}


def inbox_id(notification_id: str) -> str:
    """The inbox id of a notification: redeliveries of one notification share it."""
    return f"{SOURCE}:{notification_id}"


@dataclass(frozen=True)
class WebhookMetrics:
    """Prometheus metrics of the webhook route."""

    received: Counter
    ack_seconds: Histogram

    @classmethod
    def register(cls, registry: CollectorRegistry) -> WebhookMetrics:
        """Create the metrics on ``registry``."""
        return cls(
            received=Counter(
                "autopilot_intercom_webhooks",
                "Intercom webhook deliveries by topic and result",
                ["topic", "result"],
                registry=registry,
            ),
            ack_seconds=Histogram(
                "autopilot_intercom_webhook_ack_seconds",
                "Time to acknowledge an Intercom webhook delivery",
                ["result"],
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                registry=registry,
            ),
        )


@dataclass
class _Endpoint:
    secret: str | None
    inbox: Inbox
    clock: Clock
    metrics: WebhookMetrics
    redactor: Redactor

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        topic, result, response = await self._answer(request)
        self.metrics.received.labels(topic if topic in _KNOWN_TOPICS else "other", result).inc()
        self.metrics.ack_seconds.labels(result).observe(time.perf_counter() - started)
        return response

    async def _answer(self, request: Request) -> tuple[str, str, Response]:
        if not self.secret:
            return "", "unconfigured", _json(503, "Intercom webhooks are not configured (INTERCOM_CLIENT_SECRET)")
        body = await request.body()
        if not verify(body, request.headers.get(SIGNATURE_HEADER), self.secret):
            return "", "unauthorized", _json(401, "missing or invalid X-Hub-Signature")
        try:
            notification = Notification.model_validate_json(body)
        except ValidationError:
            return "", "malformed", _json(400, "malformed notification")
        topic = notification.topic
        if topic == "ping":
            return topic, "ping", _json(200, "pong")
        if topic not in CONVERSATION_TOPICS:
            return topic, "ignored", _json(200, "ignored")
        try:
            event = to_event(notification, self.redactor)
        except ValidationError:
            return topic, "malformed", _json(400, "malformed conversation")
        item = InboxItem(
            id=inbox_id(notification.id), source=SOURCE, kind=topic, payload=event.model_dump_json(),
            received_at=self.clock.now(),
        )  # fmt: skip
        try:
            fresh = await self.inbox.accept(item)
        except Exception:
            log.exception("could not persist Intercom notification %s", notification.id)
            return topic, "error", _json(503, "could not persist the notification; retry")
        if fresh:
            service = getattr(request.app.state, "service", None)
            if service is not None:
                service.wake()
        return topic, "accepted" if fresh else "duplicate", _json(200, "accepted" if fresh else "duplicate")


def _json(status: int, message: str) -> Response:
    return JSONResponse({"status": message}, status_code=status)


def webhook_route(
    *, secret: str | None, inbox: Inbox, clock: Clock, metrics: WebhookMetrics, redactor: Redactor | None = None
) -> Route:
    """The POST route at :data:`WEBHOOK_PATH` (answers 503 while ``secret`` is unset)."""
    endpoint = _Endpoint(secret, inbox, clock, metrics, redactor or Redactor())

    async def intercom_webhook(request: Request) -> Response:
        return await endpoint(request)

    return Route(WEBHOOK_PATH, intercom_webhook, methods=["POST"])
