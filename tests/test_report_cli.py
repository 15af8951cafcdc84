"""``autopilot report``, ``staffing`` and ``insights`` end to end on a generated demo history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli_reports import register
from bot.history import RISING, generate_history
from bot.settings import Settings

app = typer.Typer()
register(app)
runner = CliRunner()


@pytest.fixture
async def env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    summary = await generate_history(settings, days=21, per_day=250, seed=5)
    assert summary.contacts > 4000 and summary.rows["agent_events"] > 0 and summary.rows["feedback"] > 0
    return {"AUTOPILOT_DATA_DIR": str(settings.data_dir), "CHROMA_PATH": str(settings.chroma_dir)}


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_json_markdown_html(env: dict[str, str], tmp_path: Path) -> None:
    doc = json.loads(invoke(env, "report", "--period", "7d", "--format", "json"))
    for key in ("contacts", "deflection_rate", "automation_rate", "escalations_by_tier", "csat", "sla_adherence",
                "first_response_time", "resolution_time", "cost_per_resolution", "drivers"):  # fmt: skip
        assert key in doc, key
    assert doc["contacts"] > 1000
    for key in ("deflection_rate", "automation_rate", "sla_adherence", "involvement_rate"):
        assert 0 < doc[key] < 1
    assert 1 <= doc["csat"] <= 5 and doc["cost_per_resolution"] > 0
    assert doc["first_response_time"]["median_s"] > 0 and doc["resolution_time"]["count"] > 0
    assert RISING in [t["key"] for t in doc["rising_volume"]]  # the generator's planted trend
    assert doc["sla_misses"] and doc["kb_gaps"]
    assert sum(doc["escalations_by_tier"].values()) == doc["handoffs"]
    markdown = invoke(env, "report", "--period", "7d")
    assert "## Biggest movers" in markdown and "## SLA misses by tier" in markdown
    chart = tmp_path / "chart.png"
    html = invoke(env, "report", "--format", "html", "--chart", str(chart))
    assert html.startswith("<!doctype html>") and "data:image/png;base64," in html
    assert chart.read_bytes().startswith(b"\x89PNG")
    bad = runner.invoke(app, ["report", "--period", "fortnight"], env=env)
    assert bad.exit_code == 2


def test_staffing_commands(env: dict[str, str]) -> None:
    one = json.loads(invoke(env, "staffing", "--volume-per-hour", "200", "--aht", "180", "--service-level", "0.8",
                            "--answer-within", "20", "--shrinkage", "0.3", "--json"))  # fmt: skip
    assert one["agents"] == 20 and one["base_agents"] == 14
    week = json.loads(invoke(env, "staffing", "--week", "--weeks", "2", "--json"))
    assert len(week["hours"]) == 168 and len(week["shifts"]) == 21
    assert max(s["agents"] for s in week["shifts"]) > min(s["agents"] for s in week["shifts"])
    assert runner.invoke(app, ["staffing"], env=env).exit_code == 2


@pytest.fixture
async def demo30(settings: Settings) -> dict[str, str]:
    """What `autopilot demo --days 30` generates (its defaults)."""
    await generate_history(settings, days=30)
    return {"AUTOPILOT_DATA_DIR": str(settings.data_dir), "CHROMA_PATH": str(settings.chroma_dir)}


def test_the_30_day_demo_report_states_no_huge_change_and_has_a_daily_series(demo30: dict[str, str]) -> None:
    import re

    markdown = invoke(demo30, "report", "--period", "30d")
    stated = [float(p.replace(",", "")) for p in re.findall(r"([+-]?[\d,]+(?:\.\d+)?)%", markdown)]
    assert stated and max(abs(p) for p in stated) < 1000, max(stated, key=abs)
    assert "too few to compare" in markdown  # the demo history starts with the period
    doc = json.loads(invoke(demo30, "report", "--period", "30d", "--format", "json"))
    assert len(doc["daily"]) >= 28 and sum(d["contacts"] for d in doc["daily"]) == doc["contacts"]
    week = invoke(demo30, "report", "--period", "7d")
    assert "*top_up_failed* (Top-ups): deflection down" in week  # the planted falling deflection is found


def test_the_30_day_demo_report_has_every_agent_and_the_team_qa(demo30: dict[str, str]) -> None:
    from bot.demo_team import load_team

    doc = json.loads(invoke(demo30, "report", "--period", "30d", "--format", "json"))
    team = load_team().agents
    assert sorted(a["name"] for a in doc["agents"]) == sorted(a.name for a in team)
    for agent in doc["agents"]:
        for key in ("first_response_s", "resolution_s", "handle_s", "csat", "qa_score", "reopen_rate"):
            assert agent[key] is not None and agent[key] > 0, (agent["name"], key)
        assert agent["contacts"] > 100 and agent["qa_scored"] > 20 and agent["by_driver"]
    qa = doc["qa"]
    assert qa["scored"] == sum(a["qa_scored"] for a in doc["agents"]) and 50 < qa["mean_score"] < 100
    assert set(qa["critical_fails"]) >= {"asked_for_card_number", "asked_for_secret", "tipping_off",
                                         "shared_third_party_data", "guaranteed_outcome"}  # fmt: skip
    assert sum(qa["critical_fails"].values()) > 0 and qa["skill_gaps"]["gaps"]
    assert set(qa["criterion_pass_rates"]) >= {"empathy", "resolution", "next_step", "tone"}
    assert "## Team quality" in invoke(demo30, "report", "--period", "30d")
