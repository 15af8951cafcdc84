"""Settings, loaded once from the environment or ``.env`` and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from automations.backpressure import DEFAULT_BACKPRESSURE
from automations.resources import data_path, packaged
from automations.taxonomy import TIER_IDS

__all__ = ["DEFAULT_KB", "DEFAULT_MODEL", "SettingError", "Settings"]

DEFAULT_KB = packaged("knowledge", "content")
DEFAULT_MODEL = data_path("model")
DEFAULT_TAXONOMY = data_path("taxonomy.yaml")
DEFAULT_SAFETY = data_path("safety.yaml")
DEFAULT_OKRS = data_path("okrs.yaml")
DEFAULT_BENCHMARKS = data_path("benchmarks.yaml")
DEFAULT_OBLIGATIONS = data_path("obligations.yaml")
DEFAULT_SCORECARD = data_path("qa_scorecard.yaml")
DEFAULT_COACHING = data_path("coaching.yaml")


class SettingError(ValueError):
    """A setting is missing or contradicts another; the message starts with the variable's name. The command line
    prints it on one line and exits 2."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"{name}: {message}")


class Settings(BaseSettings):
    """Every knob of the service. Defaults run everything locally: SQLite, embedded Chroma, the packaged model."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("var"), alias="AUTOPILOT_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    chroma_host: str | None = Field(default=None, alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, alias="CHROMA_PORT")
    chroma_path: Path | None = Field(default=None, alias="CHROMA_PATH")
    embedding_backend: Literal["onnx", "onnx-int8", "torch"] = Field(default="onnx-int8", alias="EMBEDDING_BACKEND")
    index_snapshot_s: float = Field(default=60.0, ge=0, alias="INDEX_SNAPSHOT_S")
    kb_path: Path = Field(default=DEFAULT_KB, alias="KB_PATH")
    model_dir: Path = Field(default=DEFAULT_MODEL, alias="MODEL_DIR")
    taxonomy_path: Path = Field(default=DEFAULT_TAXONOMY, alias="TAXONOMY_PATH")
    safety_path: Path = Field(default=DEFAULT_SAFETY, alias="SAFETY_RULES_PATH")
    resolve_after_hours: float = Field(default=24.0, alias="RESOLVE_AFTER_HOURS")
    reopen_within_days: float = Field(default=7.0, alias="REOPEN_WITHIN_DAYS")
    retrieval_k: int = Field(default=3, alias="RETRIEVAL_K")
    obligations_path: Path = Field(default=DEFAULT_OBLIGATIONS, alias="OBLIGATIONS_PATH")
    qa_scorecard_path: Path = Field(default=DEFAULT_SCORECARD, alias="QA_SCORECARD_PATH")
    qa_calibration_sample: int = Field(default=5, ge=0, le=20, alias="QA_CALIBRATION_SAMPLE")
    # who each agent is: [{agent_id, name, slack_user, manager_slack_user}] (YAML or JSON), for /cx agent @user
    agent_directory_path: Path | None = Field(default=None, alias="AGENT_DIRECTORY")
    coaching_path: Path = Field(default=DEFAULT_COACHING, alias="COACHING_PATH")
    default_jurisdiction: str = Field(
        default="US", pattern=r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$", alias="DEFAULT_JURISDICTION"
    )

    # HTTP service (issue 3/4)
    host: str = Field(default="127.0.0.1", alias="AUTOPILOT_HOST")
    port: int = Field(default=8000, alias="AUTOPILOT_PORT")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="AUTOPILOT_PUBLIC_URL")
    max_body_bytes: int = Field(default=1024 * 1024, alias="AUTOPILOT_MAX_BODY_BYTES")
    workers: int = Field(default=2, ge=0, alias="AUTOPILOT_WORKERS")
    lease_s: float = Field(default=60.0, gt=0, alias="AUTOPILOT_LEASE_S")
    batch: int = Field(default=64, ge=1, le=1000, alias="AUTOPILOT_BATCH")
    worker_mode: Literal["process", "inline"] = Field(default="process", alias="AUTOPILOT_WORKER_MODE")
    worker_port: int | None = Field(default=None, alias="AUTOPILOT_WORKER_PORT")
    playground: bool | None = Field(default=None, alias="AUTOPILOT_PLAYGROUND")

    # Intercom
    intercom_access_token: str | None = Field(default=None, alias="INTERCOM_ACCESS_TOKEN")
    intercom_client_secret: str | None = Field(default=None, alias="INTERCOM_CLIENT_SECRET")
    intercom_base_url: str = Field(default="https://api.intercom.io", alias="INTERCOM_BASE_URL")
    intercom_bot_admin_id: str | None = Field(default=None, alias="INTERCOM_BOT_ADMIN_ID")
    intercom_app_id: str | None = Field(default=None, alias="INTERCOM_APP_ID")
    intercom_team_t1: str | None = Field(default=None, alias="INTERCOM_TEAM_T1")
    intercom_team_t2: str | None = Field(default=None, alias="INTERCOM_TEAM_T2")
    intercom_team_payments: str | None = Field(default=None, alias="INTERCOM_TEAM_PAYMENTS")
    intercom_team_fraud: str | None = Field(default=None, alias="INTERCOM_TEAM_FRAUD")
    intercom_team_compliance: str | None = Field(default=None, alias="INTERCOM_TEAM_COMPLIANCE")
    intercom_team_legal: str | None = Field(default=None, alias="INTERCOM_TEAM_LEGAL")
    intercom_timeout_s: float = Field(default=10.0, alias="INTERCOM_TIMEOUT_S")
    outbox_max_attempts: int = Field(default=25, alias="OUTBOX_MAX_ATTEMPTS")
    outbox_max_backoff_s: float = Field(default=300.0, alias="OUTBOX_MAX_BACKOFF_S")
    outbox_concurrency: int = Field(default=16, ge=1, alias="OUTBOX_CONCURRENCY")
    outbox_backpressure: int = Field(default=DEFAULT_BACKPRESSURE, ge=0, alias="OUTBOX_BACKPRESSURE")

    # Slack
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    slack_manager_user_ids: str = Field(default="", alias="SLACK_MANAGER_USER_IDS")
    slack_manager_usergroup_id: str | None = Field(default=None, alias="SLACK_MANAGER_USERGROUP_ID")
    slack_channel_t1: str | None = Field(default=None, alias="SLACK_CHANNEL_T1")
    slack_channel_t2: str | None = Field(default=None, alias="SLACK_CHANNEL_T2")
    slack_channel_payments: str | None = Field(default=None, alias="SLACK_CHANNEL_PAYMENTS")
    slack_channel_fraud: str | None = Field(default=None, alias="SLACK_CHANNEL_FRAUD")
    slack_channel_compliance: str | None = Field(default=None, alias="SLACK_CHANNEL_COMPLIANCE")
    slack_channel_legal: str | None = Field(default=None, alias="SLACK_CHANNEL_LEGAL")
    slack_digest_channel: str | None = Field(default=None, alias="SLACK_DIGEST_CHANNEL")

    # Reports, scheduler, staffing
    cost_per_contact: float = Field(default=6.0, alias="COST_PER_CONTACT")
    cost_per_bot_contact: float = Field(default=0.10, alias="COST_PER_BOT_CONTACT")
    aht_seconds: float = Field(default=420.0, alias="AHT_SECONDS")
    report_timezone: str = Field(default="UTC", alias="REPORT_TIMEZONE")
    okrs_path: Path = Field(default=DEFAULT_OKRS, alias="OKRS_PATH")
    benchmarks_path: Path = Field(default=DEFAULT_BENCHMARKS, alias="BENCHMARKS_PATH")

    # Retention (issue 17): contact texts, then identifiers, are removed this many days after receipt; 0 keeps them
    retention_text_days: int = Field(default=0, ge=0, alias="RETENTION_TEXT_DAYS")
    retention_identifiers_days: int = Field(default=0, ge=0, alias="RETENTION_IDENTIFIERS_DAYS")

    # Optional LLM (issue 7): on only when LLM_BASE_URL (or OPENAI_API_KEY) and LLM_MODEL are set
    llm_base_url: str | None = Field(default=None, alias="LLM_BASE_URL")
    llm_model: str | None = Field(default=None, alias="LLM_MODEL")
    llm_api_key: str | None = Field(default=None, alias="LLM_API_KEY")
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    llm_timeout_s: float = Field(default=8.0, alias="LLM_TIMEOUT_S")
    llm_max_retries: int = Field(default=1, alias="LLM_MAX_RETRIES")

    @property
    def playground_enabled(self) -> bool:
        """The playground page runs when ``AUTOPILOT_PLAYGROUND`` says so, else only without Intercom credentials."""
        return self.playground if self.playground is not None else not self.intercom_access_token

    def tier_map(self, prefix: str) -> dict[str, str]:
        """Non-empty per-tier ids for ``prefix`` ``intercom_team`` or ``slack_channel``: tier -> id."""
        found = {tier: getattr(self, f"{prefix}_{tier}") for tier in TIER_IDS if tier != "bot"}
        return {tier: value for tier, value in found.items() if value}

    @property
    def manager_ids(self) -> frozenset[str]:
        """Slack user ids allowed to run ``/cx``."""
        return frozenset(part.strip() for part in self.slack_manager_user_ids.split(",") if part.strip())

    @property
    def db_url(self) -> str:
        """The database URL: ``DATABASE_URL`` or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'autopilot.db').as_posix()}"

    @property
    def inbox_db_url(self) -> str | None:
        """Where the inbox lives when not in the main database: on SQLite, a file of its own next to it, so that
        acknowledging a webhook never waits for the workers' writes (SQLite has one writer per file); ``None`` on a
        server database, where the inbox shares it."""
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'autopilot.inbox.db').as_posix()}"
        scheme, _, rest = self.database_url.partition("://")
        if not scheme.startswith("sqlite") or ":memory:" in rest or not rest.endswith(".db"):
            return None
        return f"{scheme}://{rest[: -len('.db')]}.inbox.db"

    def scratch(self, data_dir: Path) -> Settings:
        """A copy writing its SQLite file under ``data_dir`` but reading the same knowledge index (for evals)."""
        return self.model_copy(update={"data_dir": data_dir, "database_url": None, "chroma_path": self.chroma_dir})

    @property
    def chroma_dir(self) -> Path:
        """Where the embedded Chroma index lives."""
        return self.chroma_path or self.data_dir / "chroma"
