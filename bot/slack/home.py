"""App Home: a 7-day dashboard for managers, and a short how-to for everyone else (``views.publish``)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from automations.reports.metrics import CostModel, compute_metrics
from automations.reports.periods import parse_period
from automations.reports.sla import sla_nearest_breach
from automations.reports.trends import driver_trends
from bot.context import Context
from bot.slack.blocks import context, header, section
from bot.slack.cx import Managers
from bot.slack.dashboards import drivers_blocks, metrics_blocks, sla_blocks

__all__ = ["dashboard_blocks", "register_home"]

log = logging.getLogger("autopilot.slack")
AGENT_HOME = (
    "Mention me in a channel or send me a DM with a question: I answer from the knowledge base, internal articles "
    "included, with sources. Reply in the thread to follow up, and tell me whether the answer helped."
)


async def dashboard_blocks(service: Context) -> list[Block]:
    """The managers' 7-day dashboard."""
    settings, now, reports = service.settings, service.clock.now(), service.core.reports
    period = parse_period("7d", now, tz=settings.report_timezone)
    costs = CostModel(settings.cost_per_contact, settings.cost_per_bot_contact, settings.aht_seconds)
    metrics = await compute_metrics(reports, period, now=now, costs=costs)
    trends = await driver_trends(reports, period, now=now, costs=costs, limit=5)
    deadlines = await sla_nearest_breach(reports, now, limit=5, clocks=service.core.clocks)
    return [
        *metrics_blocks(metrics, title="Support: the last 7 days"),
        DividerBlock(),
        *drivers_blocks(trends, label="7d"),
        DividerBlock(),
        *sla_blocks(deadlines),
        context("Refreshed each time you open this tab. `/cx help` for more."),
    ]


def register_home(app: AsyncApp, service: Context, managers: Managers) -> None:
    """Publish the home tab when a user opens it (computed after the ack, in a lazy listener)."""

    async def ack_home(ack: AsyncAck) -> None:
        await ack()

    async def publish(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        if await managers.allows(user):
            blocks = await dashboard_blocks(service)
        else:
            blocks = [header("Support Autopilot"), section(AGENT_HOME)]
        await client.views_publish(user_id=user, view=View(type="home", blocks=blocks))

    app.event("app_home_opened")(ack=ack_home, lazy=[publish])
