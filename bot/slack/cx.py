"""``/cx``: support metrics for managers, and who counts as a manager.

The command is acknowledged at once (a refusal, the help, a bad period, or "working on it"), and the figures are
computed by a Bolt lazy listener and sent with ``respond`` (ephemeral), so the 3-second rule holds however long a
report takes. ``/cx report`` also sends its charts (overview and daily trends) to the manager's DM with
``files_upload_v2``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from automations.obligations import load_obligations
from automations.reports.benchmarks import load_benchmarks
from automations.reports.clocks import at_risk_first
from automations.reports.forecast import forecast_week, plan_shifts
from automations.reports.metrics import CostModel, compute_metrics
from automations.reports.narrative import build_report
from automations.reports.okrs import half_label, half_period, load_okrs, okr_progress
from automations.reports.periods import Period, parse_period
from automations.reports.sla import sla_nearest_breach
from automations.reports.staffing import erlang_c_agents
from automations.reports.trends import driver_trends
from bot.context import Context
from bot.slack.blocks import check_blocks
from bot.slack.coaching import coaching_blocks
from bot.slack.dashboards import (
    clock_blocks,
    drivers_blocks,
    help_blocks,
    metrics_blocks,
    okr_blocks,
    report_blocks,
    sla_blocks,
    staffing_blocks,
)

__all__ = ["REFUSAL", "Managers", "register_cx"]

log = logging.getLogger("autopilot.slack")
REFUSAL = (
    "Sorry, `/cx` is only available to support managers. If you need these figures, your team lead can share them."
)
WITH_PERIOD = {"metrics", "drivers", "report", "agent", "team"}
COACHING = {"agent", "team"}  # 30 days by default; `agent` takes the agent first: /cx agent @user [period]
COMMANDS = WITH_PERIOD | {"sla", "staffing", "okr", "clocks"}


class Managers:
    """Who may run ``/cx`` and see the dashboard: ``SLACK_MANAGER_USER_IDS``, or members of
    ``SLACK_MANAGER_USERGROUP_ID`` (``usergroups.users.list``, cached for ``ttl_s``; fails closed)."""

    def __init__(
        self, user_ids: frozenset[str], usergroup: str | None, client: AsyncWebClient, *, ttl_s: float = 300.0
    ) -> None:
        """Allow ``user_ids`` and the members of ``usergroup``."""
        self._ids, self._group, self._client, self._ttl = user_ids, usergroup, client, ttl_s
        self._members: frozenset[str] = frozenset()
        self._fetched = -math.inf
        self._lock = asyncio.Lock()

    async def allows(self, user_id: str) -> bool:
        """Whether ``user_id`` is a manager."""
        if user_id in self._ids:
            return True
        if not self._group:
            return False
        async with self._lock:
            if time.monotonic() - self._fetched > self._ttl:
                try:
                    response = await self._client.usergroups_users_list(usergroup=self._group)
                    self._members = frozenset(response.get("users") or ())
                    self._fetched = time.monotonic()
                except SlackApiError:
                    log.exception("could not list the managers' user group %s", self._group)
                    return False
        return user_id in self._members


def _parse(text: str) -> tuple[str, str | None]:
    words = text.strip().lower().split()
    skip = 1 if words and words[0] == "agent" else 0
    return (words[0] if words else "help"), (words[1 + skip] if len(words) > 1 + skip else None)


def _target(text: str) -> str | None:
    """The agent of ``/cx agent <@U123|name> [period]`` as typed (Slack user ids are case-sensitive)."""
    words = text.strip().split()
    return words[1] if len(words) > 1 and words[0].lower() == "agent" else None


def register_cx(app: AsyncApp, service: Context, managers: Managers) -> None:
    """The ``/cx`` command: ack (authorise, validate) then compute in a lazy listener."""
    settings = service.settings
    costs = CostModel(settings.cost_per_contact, settings.cost_per_bot_contact, settings.aht_seconds)
    reports = service.core.reports
    clocks = service.core.clocks
    okrs = load_okrs(settings.okrs_path)
    benchmarks = load_benchmarks(settings.benchmarks_path)
    rules = load_obligations(settings.obligations_path).rules
    warn_at = {rule.id: rule.warn_at for rule in rules if rule.warn_at}

    def period_of(sub: str, arg: str | None) -> Period | None:
        return (
            parse_period(arg or ("30d" if sub in COACHING else "7d"), service.clock.now(), tz=settings.report_timezone)
            if sub in WITH_PERIOD
            else None
        )

    async def ack_cx(ack: AsyncAck, command: dict[str, Any]) -> None:
        if not await managers.allows(command["user_id"]):
            await ack(text=REFUSAL, response_type="ephemeral")
            return
        sub, arg = _parse(command.get("text", ""))
        if sub not in COMMANDS:
            await ack(text="/cx commands", blocks=list(check_blocks(help_blocks())), response_type="ephemeral")
            return
        try:
            period_of(sub, arg)
        except ValueError as exc:
            await ack(text=f"{exc}", response_type="ephemeral")
            return
        if sub == "agent" and not _target(command.get("text", "")):
            await ack(text="Usage: `/cx agent @user [period]` (period 30d by default)", response_type="ephemeral")
            return
        await ack(text=f"Working on `/cx {command.get('text', '').strip()}`…", response_type="ephemeral")

    async def compute(
        sub: str, period: Period | None, user: str, client: AsyncWebClient, target: str | None = None
    ) -> list[Block]:
        now = service.clock.now()
        if sub in COACHING and period is not None:
            return await coaching_blocks(service.core.team, sub, target, period)
        if sub == "metrics" and period is not None:
            return metrics_blocks(await compute_metrics(reports, period, now=now, costs=costs))
        if sub == "drivers" and period is not None:
            return drivers_blocks(await driver_trends(reports, period, now=now, costs=costs), label=period.label)
        if sub == "sla":
            return sla_blocks(await sla_nearest_breach(reports, now, limit=10, clocks=clocks))
        if sub == "clocks":
            if clocks is None:
                return clock_blocks([], now, available=False)
            return clock_blocks(at_risk_first(await clocks.open(now), now, warn_at), now)
        if sub == "okr":
            half = half_label(now, settings.report_timezone)
            targets = okrs.for_half(half)
            if targets is None:
                return okr_blocks(half, None, (), None)
            so_far = half_period(half, settings.report_timezone, now=now)
            metrics = await compute_metrics(reports, so_far, now=now, costs=costs)
            return okr_blocks(half, targets, okr_progress(metrics, targets.targets), so_far)
        if sub == "report" and period is not None:
            report = await build_report(
                reports, period, now=now, costs=costs, tz=settings.report_timezone, okrs=okrs, benchmarks=benchmarks,
                clocks=clocks,
            )  # fmt: skip
            from bot.charts import render_chart, render_trend_chart  # matplotlib: imported only to draw

            overview = await asyncio.to_thread(render_chart, report)
            trend = await asyncio.to_thread(render_trend_chart, report)
            dm = (await client.conversations_open(users=user))["channel"]["id"]
            await client.files_upload_v2(
                channel=dm,
                file_uploads=[
                    {"file": overview, "filename": f"support-report-{period.label}.png",
                     "title": f"Support report: {period.describe()}"},
                    {"file": trend, "filename": f"support-trends-{period.label}.png",
                     "title": f"Daily trends: {period.describe()}"},
                ],
                initial_comment=report.headlines()[0] if report.headlines() else None,
            )  # fmt: skip
            return report_blocks(report)
        forecast = await forecast_week(reports, now, weeks=4, tz=settings.report_timezone)
        plans = plan_shifts(forecast, aht_seconds=settings.aht_seconds)
        hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        slot = int((hour - forecast.hours[0].start).total_seconds() // 3600) % len(forecast.hours)
        interval = erlang_c_agents(
            forecast.hours[slot].handoffs, settings.aht_seconds, service_level=0.8, answer_within_s=60.0
        )
        return staffing_blocks(interval, hour=hour, plans=plans, weeks_of_history=forecast.weeks_of_history)

    async def run_cx(command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        user = command["user_id"]
        sub, arg = _parse(command.get("text", ""))
        if sub not in COMMANDS or not await managers.allows(user):
            return  # ack already answered (help or refusal)
        try:
            period = period_of(sub, arg)
        except ValueError:
            return
        try:
            blocks = check_blocks(await compute(sub, period, user, client, _target(command.get("text", ""))))
        except Exception as exc:
            log.exception("/cx %s failed", sub)
            await respond(text=f"Sorry, `/cx {sub}` failed: {type(exc).__name__}. Try again in a minute.",
                          response_type="ephemeral", replace_original=False)  # fmt: skip
            return
        await respond(text=f"/cx {sub}", blocks=list(blocks), response_type="ephemeral", replace_original=False)

    app.command("/cx")(ack=ack_cx, lazy=[run_cx])
