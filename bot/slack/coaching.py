"""Block Kit for ``/cx agent`` (a 1:1 preparation pack) and ``/cx team`` (the team at a glance, no ranking).

Pure formatting over :mod:`automations.qa.oneonone` and :mod:`automations.qa.coaching`; the blocks are validated by
:func:`bot.slack.blocks.check_blocks` before they are sent.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, SectionBlock

from automations.qa.coaching import Spread, TeamOverview
from automations.qa.oneonone import OneOnOne, Trend
from automations.qa.teamview import TeamView
from automations.reports.periods import Period
from automations.reports.wording import duration
from bot.slack.blocks import context, fields, header, section
from bot.slack.mrkdwn import escape

__all__ = ["coaching_blocks", "no_agent_blocks", "one_on_one_blocks", "team_blocks"]

_TIMES = {"first_response_s", "resolution_s", "handle_s"}


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric in _TIMES:
        return duration(value)
    if metric == "reopen_rate":
        return f"{value:.0%}"
    if metric == "csat":
        return f"{value:.2f}/5"
    if metric == "qa_score":
        return f"{value:.0f}/100"
    return f"{value:,.0f}"


def _trend(t: Trend) -> str:
    arrow = "" if t.better is None else (" :arrow_up_small: better" if t.better else " :arrow_down_small: worse")
    before = f" (was {_value(t.metric, t.previous)})" if t.previous is not None else ""
    team = f" · team median {_value(t.metric, t.team_median)}" if t.team_median is not None else ""
    return f"{_value(t.metric, t.current)}{before}{arrow}{team}"


def _bullets(lines: list[str] | tuple[str, ...], empty: str) -> str:
    return "\n".join(f"• {escape(line)}" for line in lines) if lines else empty


def one_on_one_blocks(pack: OneOnOne, period: Period) -> list[Block]:
    """The 1:1 pack: trends against the agent's previous period and the team median, strengths, gaps (with the KB
    articles and training to suggest) and three conversations to review, each with the scorer's evidence."""
    blocks: list[Block] = [
        header(f"1:1 preparation: {pack.name}"),
        context(f"{period.describe()} · against the previous {period.label} and the team's median, never other agents"),
        SectionBlock(fields=fields((t.label, _trend(t)) for t in pack.trends[:10])),
        section(f"*Strengths*\n{_bullets(pack.strengths[:8], 'Nothing stands out above the team this period.')}"),
        section(f"*Gaps*\n{_bullets(pack.gaps[:8], 'No gap against the team this period.')}"),
    ]
    if pack.driver_gaps:
        lines = [f"*{c.driver}*: QA {c.score:.0f} vs team {c.team_median:.0f} ({c.scored} conversations); "
                 f"read {', '.join(f'`{a}`' for a in c.articles) or 'no article yet'}"
                 for c in pack.driver_gaps[:6]]  # fmt: skip
        blocks.append(section("*Skill gaps by driver*\n" + "\n".join(f"• {line}" for line in lines)))
    if pack.training:
        blocks.append(section(f"*Training to suggest*\n{_bullets(pack.training[:6], '')}"))
    blocks.append(DividerBlock())
    blocks.append(section(f"*Three conversations to review together* ({len(pack.reviews)} found)"))
    for r in pack.reviews:
        why = {"critical": ":rotating_light: critical fail", "improve": ":mag: to improve",
               "exemplary": ":star: what good looks like"}[r.kind]  # fmt: skip
        evidence = "\n".join(f"> *{escape(k)}*: “{escape(v)}”" for k, v in r.evidence[:4]) or "> (no evidence quoted)"
        when = f" · closed {r.closed_at:%Y-%m-%d}" if r.closed_at else ""
        blocks.append(section(f"{why} · `{r.conversation_id}` · {r.driver or 'unknown driver'} · QA {r.score}{when}\n"
                              f"{evidence}"))  # fmt: skip
    return blocks


def no_agent_blocks(wanted: str, known: list[str]) -> list[Block]:
    """The answer when the agent cannot be found (or did nothing in the period)."""
    hint = f"Known agents: {', '.join(known[:30])}." if known else "No agent has activity in this period."
    return [
        header("1:1 preparation"),
        section(f"I can't find an agent with activity for {escape(wanted)} in this period. {hint}"),
        context("Map Slack users to agents in AGENT_DIRECTORY (agent_id, name, slack_user, manager_slack_user)."),
    ]


def _spread(metric: str, s: Spread) -> str:
    if s.median is None:
        return "n/a"
    return f"median {_value(metric, s.median)} (middle half {_value(metric, s.low)} to {_value(metric, s.high)})"


SPREAD_LABELS = {"qa_score": "QA score", "first_response_s": "First response", "handle_s": "Handle time",
                 "resolution_s": "Resolution", "reopen_rate": "Reopen rate", "csat": "CSAT"}  # fmt: skip


def team_blocks(o: TeamOverview, period: Period) -> list[Block]:
    """The team's QA and productivity as coaching material: medians, spreads and themes, no ranking."""
    t = o.qa.team
    facts = [("Agents", f"{o.agents}"), ("Hand-offs", f"{o.contacts:,}"),
             ("Conversations scored", f"{t.scored:,} (mean QA {_value('qa_score', t.qa_score)})"),
             ("With a critical fail", f"{t.critical_fails:,}")]  # fmt: skip
    facts += [(SPREAD_LABELS[m], _spread(m, s)) for m, s in o.spreads.items() if m in SPREAD_LABELS]
    themes = [f"*{c}* passes {rate:.0%} across the team: {training}" for c, rate, training in o.weak_criteria]
    fails = [f"*{f}*: {n} conversation{'s' if n != 1 else ''}. {training}" for f, n, training in o.critical_fails]
    shared = [f"*{d}*: {n} agents below the team median; articles {', '.join(f'`{a}`' for a in arts) or 'none'}"
              for d, n, arts in o.shared_gaps]  # fmt: skip
    agreement = o.qa.agreement
    blocks: list[Block] = [
        header(f"Team quality: {period.label}"),
        context(f"{period.describe()} · medians and spreads across agents: coaching material, not a leaderboard"),
        SectionBlock(fields=fields(facts[:10])),
        section("*Themes to coach*\n" + ("\n".join(f"• {x}" for x in themes) or "No criterion stands out.")),
        section("*Critical fails*\n" + ("\n".join(f"• {x}" for x in fails) or "None this period. :tada:")),
        section("*Gaps shared by several agents*\n" + ("\n".join(f"• {x}" for x in shared) or "None.")),
    ]
    if agreement.graded:
        kappa = f", kappa {agreement.kappa:.2f}" if agreement.kappa is not None else ""
        blocks.append(context(f"Managers agreed with the scorer on {agreement.agreement:.0%} of "
                              f"{agreement.graded} calibration grades{kappa}."))  # fmt: skip
    blocks.append(context("For one agent's strengths, gaps and conversations to review: `/cx agent @user`."))
    return blocks


async def coaching_blocks(team: TeamView | None, sub: str, target: str | None, period: Period) -> list[Block]:
    """``/cx team`` or ``/cx agent <target>`` over ``period``: the agent is found in the directory (a mention, a
    Slack user id, an admin id or a name), else among the names captured with the period's conversations."""
    if team is None:
        return [header("Team quality"), section("The team's records are not available in this process.")]
    snapshot = await team.snapshot(period.start, period.end)
    if sub == "team":
        return team_blocks(snapshot.overview, period)
    wanted = (target or "").strip()
    entry = team.directory.find(wanted)
    agent_id = entry.agent_id if entry is not None else None
    if agent_id is None:
        key = wanted.lstrip("@").casefold()
        found = [
            r for r in snapshot.rows if key in (r.agent_id.casefold(), r.name.casefold(), r.name.split()[0].casefold())
        ]
        agent_id = found[0].agent_id if len(found) == 1 else None
    pack = await team.one_on_one(agent_id, period.start, period.end) if agent_id else None
    if pack is None:
        return no_agent_blocks(wanted, [r.name for r in snapshot.rows])
    return one_on_one_blocks(pack, period)
