"""``/cx agent @user`` and ``/cx team`` end to end: a demo history (the demo team's hand-offs, captured and scored),
the real service and ASGI app, signed slash commands, and the replies read back from the Slack fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.demo_team import load_team
from bot.history import generate_history
from bot.settings import Settings
from bot.slack.cx import REFUSAL
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_stack import MANAGER, slack_settings, slack_stack

pytestmark = pytest.mark.slow


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


@pytest.fixture
async def coached(settings: Settings, fake: FakeSlackApi, tmp_path: Path) -> Settings:
    """Two weeks of demo history, and a directory mapping each demo agent to a Slack user ``U<admin id>``."""
    await generate_history(settings, days=14, per_day=400, seed=3)
    lines = ["agents:"] + [
        f'  - {{agent_id: {a.id}, name: "{a.name}", slack_user: U{a.id.upper()}, manager_slack_user: {MANAGER}}}'
        for a in load_team().agents
    ]
    directory = tmp_path / "agents.yaml"
    directory.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return slack_settings(settings, fake, agent_directory_path=directory)


def text_of(call) -> str:  # type: ignore[no-untyped-def]
    raw = call.params["blocks"]
    return json.dumps(json.loads(raw) if isinstance(raw, str) else raw, ensure_ascii=False)


async def test_cx_agent_gives_a_one_on_one_pack_with_three_conversations(coached: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(coached, make_core, fake) as stack:
        team = stack.service.context.core.team
        assert team is not None
        now = stack.service.context.clock.now()
        from datetime import timedelta

        scores = await team.records.scores(since=now - timedelta(days=30), until=now)
        mine = {s.conversation_id: s for s in scores if s.result.agent_id == "admin-7101"}
        assert len(mine) >= 3
        ack = (await stack.slack.command("agent <@UADMIN-7101|amara> 30d", user=MANAGER)).json()
        assert "Working on" in ack["text"]
        [reply] = await fake.wait_for("respond", within=60)
        rendered = text_of(reply)
        assert "1:1 preparation: Amara Okafor" in rendered
        for label in ("QA score", "CSAT", "First response", "Resolution", "Strengths", "Gaps"):
            assert label in rendered, label
        reviewed = [cid for cid in mine if f"`{cid}`" in rendered]
        assert len(reviewed) == 3, reviewed  # three of her own conversations, none of anyone else's
        others = [s.conversation_id for s in scores if s.result.agent_id != "admin-7101"]
        assert not [cid for cid in others if f"`{cid}`" in rendered]
        quoted = [e for cid in reviewed for e in mine[cid].result.evidence.values() if e and f"“{e}”" in rendered]
        assert quoted  # the scorer's evidence is quoted

        await stack.slack.command("agent Erin", user=MANAGER)  # by first name, through the directory
        replies = await fake.wait_for("respond", 2, within=60)
        erin = text_of(replies[1])
        assert "1:1 preparation: Erin O'Brien" in erin
        assert "Skill gaps by driver" in erin or "Gaps" in erin


async def test_cx_agent_usage_unknown_agent_and_refusal(coached: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(coached, make_core, fake) as stack:
        assert "Usage" in (await stack.slack.command("agent", user=MANAGER)).json()["text"]
        assert (await stack.slack.command("agent <@UADMIN-7101>", user="UADMIN-7102")).json()["text"] == REFUSAL
        await stack.slack.command("agent <@UNOBODY>", user=MANAGER)
        # wait for this reply in particular: an earlier command may still be responding
        replies = await fake.wait_for("respond", within=60, where=lambda c: "can't find an agent" in text_of(c))
        assert replies


async def test_cx_team_shows_medians_and_themes_without_ranking(coached: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(coached, make_core, fake) as stack:
        await stack.slack.command("team 30d", user=MANAGER)
        [reply] = await fake.wait_for("respond", within=60)
        rendered = text_of(reply)
        assert "Team quality: 30d" in rendered and "not a leaderboard" in rendered
        for label in ("QA score", "median", "middle half", "Themes to coach", "Critical fails"):
            assert label in rendered, label
        assert not [a.name for a in load_team().agents if a.name in rendered]  # nobody is singled out
