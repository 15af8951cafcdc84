"""The reports' :class:`~automations.alerts.AlertSink` on Slack, through the outbox.

``send`` queues one ``post_alert`` action keyed ``slack:alert:<alert.key>``: the outbox's idempotency key makes a
second send of the same alert a no-op, even from another process. Where it lands is decided when it is sent (see
:class:`bot.slack.sender.SlackSender`): the hand-off's thread for ``thread_of``, else the tier's channel, else
``SLACK_DIGEST_CHANNEL``. A chart (``image_png``) is uploaded with ``files_upload_v2``.
"""

from __future__ import annotations

import base64
import json
import re

from automations.alerts import Alert
from automations.effects import OutboxKeys
from automations.ports import Clock
from automations.queues import Outbox, OutboxAction
from bot.slack.blocks import alert_message

__all__ = ["SlackAlertSink", "alert_action"]


def alert_action(alert: Alert, *, clock: Clock) -> OutboxAction:
    """The outbox action that posts ``alert``."""
    message = alert_message(alert)
    payload = {
        "tier": alert.tier, "thread_of": alert.thread_of, "title": alert.title, "kind": alert.kind,
        "user": alert.user, **message.to_json(),
    }  # fmt: skip
    if alert.image_png:
        payload["image_png"] = base64.b64encode(alert.image_png).decode("ascii")
        payload["filename"] = re.sub(r"[^A-Za-z0-9_.-]+", "-", alert.key).strip("-")[:80] + ".png"
        payload["text"] = f"*{alert.title}*\n{alert.text}"
    return OutboxAction(
        key=OutboxKeys.slack_alert(alert.key), target="slack", kind="post_alert", payload=json.dumps(payload),
        created_at=clock.now(),
    )  # fmt: skip


class SlackAlertSink:
    """Sends alerts to Slack via the outbox; idempotent on ``alert.key``."""

    def __init__(self, outbox: Outbox, clock: Clock) -> None:
        """Queue into ``outbox`` (the service's :class:`~store.queues.SqlOutbox`)."""
        self._outbox, self._clock = outbox, clock

    async def send(self, alert: Alert) -> None:
        """Queue ``alert`` once; a repeated key changes nothing."""
        await self._outbox.enqueue([alert_action(alert, clock=self._clock)])
