"""``autopilot privacy export|erase|retain`` and the scheduler's retention job, on the configured SQLite files (the
event store and the inbox's own file, as deployed by default)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automations.fakes import SettableClock
from automations.privacy import ANON_PREFIX, Purge
from bot.cli import app
from bot.composition import build_scheduler
from bot.composition.privacy import retention_job
from bot.settings import Settings
from store import SqlAuditTrail, SqlEventStore
from tests.test_privacy_contract import ERASED, ERASED_TEXTS, KEPT_TEXT, NOW, erased_values, seed, sql_dump

runner = CliRunner()


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    settings = Settings(AUTOPILOT_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    store = await SqlEventStore.open(settings.db_url)
    try:
        await seed(store)
    finally:
        await store.close()
    return {"AUTOPILOT_DATA_DIR": str(tmp_path), "RETENTION_TEXT_DAYS": "0", "RETENTION_IDENTIFIERS_DAYS": "0"}


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


async def _stored(data_dir: Path) -> tuple[str, list[tuple[str, str]]]:
    store = await SqlEventStore.open(Settings(AUTOPILOT_DATA_DIR=data_dir).db_url)  # type: ignore[call-arg]
    try:
        trail = [(e.kind, e.actor) for e in await SqlAuditTrail(store.engine).events(kind_prefix="privacy.")]
        return await sql_dump(store.engine), trail
    finally:
        await store.close()


def test_export_then_erase_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    doc = json.loads(invoke(env, "privacy", "export", "--customer", ERASED, "--actor", "dpo"))
    assert {r["text"] for r in doc["records"]["contacts"]} == set(ERASED_TEXTS) and doc["legal_hold"] == []
    out = tmp_path / "export.json"
    invoke(env, "privacy", "export", "--customer", ERASED, "--out", str(out))
    again = json.loads(out.read_text())["records"]
    assert [e["kind"] for e in again.pop("audit_events")] == ["privacy.exported"]  # the first export, audited
    assert again == doc["records"]
    refused = runner.invoke(app, ["privacy", "erase", "--customer", ERASED], input="n\n", env=env)
    assert refused.exit_code == 1
    erased = json.loads(invoke(env, "privacy", "erase", "--customer", ERASED, "--yes", "--actor", "dpo"))
    assert erased["token"].startswith(ANON_PREFIX) and erased["rows"]["contacts"] == 3
    dump, trail = asyncio.run(_stored(tmp_path))
    assert [v for v in erased_values() if v in dump] == [] and KEPT_TEXT in dump
    assert trail == [("privacy.exported", "dpo"), ("privacy.exported", "cli"), ("privacy.erased", "dpo")]
    assert json.loads(invoke(env, "privacy", "export", "--customer", ERASED))["records"] == {}  # nothing left


def test_retain_needs_a_policy_and_reports_the_held(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["privacy", "retain"], env=env).exit_code == 2
    doc = json.loads(invoke({**env, "RETENTION_TEXT_DAYS": "30"}, "privacy", "retain"))
    assert doc["texts"] >= 4 and doc["identifiers"] == 0  # the seeded contacts are dated from 2026-10-28
    assert doc["legal_hold"] == ["intercom:7001", "intercom:7003"]


async def test_the_scheduler_runs_retention_only_when_a_policy_is_set(tmp_path: Path) -> None:
    keep = Settings(AUTOPILOT_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    policy = keep.model_copy(update={"retention_text_days": 30, "retention_identifiers_days": 35})
    store = await SqlEventStore.open(keep.db_url)
    try:
        await seed(store)
        assert retention_job(keep, store, clock=SettableClock(NOW)) is None
        job = retention_job(policy, store, clock=SettableClock(NOW))
        assert job is not None and job.id == "retention"
        purge = await job.run(NOW)
        assert isinstance(purge, Purge) and (purge.texts, purge.identifiers) == (4, 4) and len(purge.held) == 2
    finally:
        await store.close()
    scheduled = await build_scheduler(policy, clock=SettableClock(NOW))
    try:
        assert "retention" in [spec.id for spec in scheduled.specs]
    finally:
        await scheduled.close()
