"""Plugs the Intercom adapter into the service: the webhook route, the inbox handler and the outbox sender.

- ``POST /intercom/webhooks`` is always routed. While ``INTERCOM_CLIENT_SECRET`` is unset it answers 503 (a
  misconfigured deployment is visible, and Intercom keeps retrying instead of dropping deliveries on a 404).
- The handler for source ``intercom`` is always registered, so notifications already in the inbox are processed.
- The sender for target ``intercom`` is registered when ``INTERCOM_ACCESS_TOKEN`` is set (it also needs
  ``INTERCOM_BOT_ADMIN_ID``); without it Intercom actions wait in the outbox.
- Metrics on the service registry: ``autopilot_intercom_webhooks_total{topic,result}``,
  ``autopilot_intercom_webhook_ack_seconds{result}`` and ``autopilot_intercom_processed_total{topic,result}``.
"""

from __future__ import annotations

import logging

from bot.context import Context, Parts
from bot.intercom.actions import plan_actions
from bot.intercom.config import check_settings
from bot.intercom.handler import IntercomHandler, Planner
from bot.intercom.webhooks import SOURCE, WebhookMetrics, webhook_route

__all__ = ["check_settings", "intercom_parts"]

log = logging.getLogger("autopilot.intercom")


async def intercom_parts(context: Context, *, plan: Planner = plan_actions) -> Parts:
    """Routes, handler and (when configured) sender for Intercom."""
    settings = context.settings
    check_settings(settings)
    metrics = WebhookMetrics.register(context.registry)
    route = webhook_route(
        secret=settings.intercom_client_secret, inbox=context.inbox, clock=context.clock, metrics=metrics
    )
    if not settings.intercom_client_secret:
        log.warning("INTERCOM_CLIENT_SECRET is not set: /intercom/webhooks answers 503")
    if not settings.intercom_bot_admin_id:
        log.warning("INTERCOM_BOT_ADMIN_ID is not set: the bot's own replies cannot be told apart from a human's")
    parts = Parts(routes=[route], handlers={SOURCE: IntercomHandler(context, plan)})
    if settings.intercom_access_token:
        from bot.intercom.sender import IntercomSender

        sender = IntercomSender.from_settings(settings)
        parts.senders["intercom"] = sender
        parts.shutdown.append(sender.aclose)
    return parts
