"""Plugs the Slack adapter into the service.

* No ``SLACK_BOT_TOKEN``: Slack is off (``Parts()``): no hand-off posts, and :func:`slack_alert_sink` gives ``None``.
* A token only: outbound Slack: the ``slack`` outbox sender, the tier-channel hand-off effect, the alert sink.
* A token and ``SLACK_SIGNING_SECRET``: also the Bolt app at ``/slack/events`` and the inbox handler for agents'
  questions. ``SLACK_APP_TOKEN`` (with the bot token) adds Socket Mode as a background runner.
"""

from __future__ import annotations

from automations.ports import Clock
from automations.queues import Outbox
from bot.context import Context, Parts
from bot.settings import Settings
from bot.slack.agents import SlackItemHandler
from bot.slack.alerts import SlackAlertSink
from bot.slack.app import build_bolt_app, events_route, socket_mode_runner, web_client
from bot.slack.handoffs import handoff_effect
from bot.slack.sender import SlackSender

__all__ = ["slack_alert_sink", "slack_parts"]


async def slack_parts(context: Context) -> Parts:
    """Routes, handler, sender, hand-off effect and Socket Mode runner for Slack (see the module docstring)."""
    settings = context.settings
    if not settings.slack_bot_token:
        return Parts()
    client = web_client(settings)
    tiers = settings.tier_map("slack_channel")
    parts = Parts(
        senders={"slack": SlackSender(client, context.outbox, tier_channels=tiers,
                                      digest_channel=settings.slack_digest_channel)},
        handoff_effects=[handoff_effect(tiers, app_id=settings.intercom_app_id, clock=context.clock)],
    )  # fmt: skip
    if settings.slack_signing_secret or settings.slack_app_token:
        app = build_bolt_app(context, client)
        parts.handlers["slack"] = SlackItemHandler(context)
        if settings.slack_signing_secret:
            parts.routes.append(events_route(app, settings.slack_signing_secret))
        if settings.slack_app_token:
            parts.background.append(socket_mode_runner(app, settings.slack_app_token))
    return parts


def slack_alert_sink(settings: Settings, outbox: Outbox, clock: Clock) -> SlackAlertSink | None:
    """The reports' alert sink on Slack (through the outbox, sent by the workers), or ``None`` without Slack."""
    if not settings.slack_bot_token:
        return None
    return SlackAlertSink(outbox, clock)
