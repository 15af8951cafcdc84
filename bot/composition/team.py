"""The composition root's wiring of the team view (agent performance, QA, coaching) over the event store's engine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from automations.qa.coaching import CoachingRules, load_coaching
from automations.qa.directory import AgentDirectory, load_directory
from automations.qa.teamview import TeamView
from automations.taxonomy import Taxonomy, load_taxonomy
from bot.settings import Settings
from store import SqlEventStore, SqlQaRecords
from store.team import SqlAgentActivity

__all__ = ["open_team", "team_view"]


def team_view(
    settings: Settings,
    taxonomy: Taxonomy,
    engine: AsyncEngine,
    *,
    directory: AgentDirectory | None = None,
    rules: CoachingRules | None = None,
) -> TeamView:
    """The team view on ``engine``: SQL agent figures and QA records, the directory (``AGENT_DIRECTORY``) and the
    coaching rules (``COACHING_PATH``), loaded here unless the caller's configuration already holds them."""
    return TeamView(
        activity=SqlAgentActivity(engine),
        records=SqlQaRecords(engine),
        taxonomy=taxonomy,
        rules=rules or load_coaching(settings.coaching_path),
        directory=directory if directory is not None else load_directory(settings.agent_directory_path),
        reopen_within=timedelta(days=settings.reopen_within_days),
    )


@contextlib.asynccontextmanager
async def open_team(settings: Settings) -> AsyncIterator[TeamView]:
    """The team view over the configured event store, for one CLI command (no model is loaded)."""
    store = await SqlEventStore.open(settings.db_url)
    try:
        yield team_view(settings, load_taxonomy(settings.taxonomy_path), store.engine)
    finally:
        await store.close()
