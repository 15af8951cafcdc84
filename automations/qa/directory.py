"""The agent directory: who each agent is, their Slack user and their manager's (``AGENT_DIRECTORY``).

A YAML (or JSON, which YAML reads too) file of ``agents: [{agent_id, name, slack_user, manager_slack_user}]``, or a
bare list of them, validated with ``file:line`` errors. ``agent_id`` is the channel's admin id (what agent events
and transcripts record), so ``/cx agent @user`` finds the agent behind a Slack user, and a critical fail alerts the
agent's manager.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from automations.configfile import Issue, load_yaml_model

__all__ = ["AgentDirectory", "AgentEntry", "load_directory"]


class AgentEntry(BaseModel):
    """One agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    slack_user: str | None = None
    manager_slack_user: str | None = None


class AgentDirectory(BaseModel):
    """Every agent the team knows about (empty when no directory is configured)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: tuple[AgentEntry, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"agents": data} if isinstance(data, list) else data

    def by_id(self, agent_id: str) -> AgentEntry | None:
        """The agent with this admin id."""
        return next((a for a in self.agents if a.agent_id == agent_id), None)

    def by_slack(self, user: str) -> AgentEntry | None:
        """The agent behind this Slack user id."""
        return next((a for a in self.agents if a.slack_user == user), None)

    def find(self, text: str) -> AgentEntry | None:
        """The agent a manager typed: a Slack mention (``<@U123|name>``), a Slack user id, an admin id or a name
        (case-insensitive; a unique first name will do)."""
        text = text.strip()
        if text.startswith("<@") and text.endswith(">"):
            return self.by_slack(text[2:-1].split("|", 1)[0])
        found = self.by_slack(text) or self.by_id(text)
        if found is not None:
            return found
        wanted = text.lstrip("@").casefold()
        exact = [a for a in self.agents if a.name.casefold() == wanted]
        first = [a for a in self.agents if a.name.casefold().split()[0] == wanted]
        return (exact or first)[0] if len(exact or first) == 1 else None

    def names(self) -> dict[str, str]:
        """Admin id → name."""
        return {a.agent_id: a.name for a in self.agents}

    def managers(self) -> Mapping[str, str]:
        """Admin id → the manager's Slack user id (for the QA job's critical-fail alerts)."""
        return {a.agent_id: a.manager_slack_user for a in self.agents if a.manager_slack_user}


def _check(directory: AgentDirectory) -> Iterator[Issue]:
    ids = [a.agent_id for a in directory.agents]
    users = [a.slack_user for a in directory.agents if a.slack_user]
    for i, agent in enumerate(directory.agents):
        if ids.index(agent.agent_id) != i:
            yield ("agents", i, "agent_id"), f"duplicate agent_id {agent.agent_id!r}"
        if agent.slack_user and users.count(agent.slack_user) > 1:
            yield ("agents", i, "slack_user"), f"duplicate slack_user {agent.slack_user!r}"


def load_directory(path: Path | str | None) -> AgentDirectory:
    """Load and validate the directory at ``path`` (``None``: an empty directory); errors name the file and line."""
    if path is None:
        return AgentDirectory()
    return load_yaml_model(path, AgentDirectory, check=_check)
