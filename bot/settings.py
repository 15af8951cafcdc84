"""Settings, loaded once from the environment or ``.env`` and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

import automations
import evals
import knowledge

__all__ = ["DEFAULT_KB", "DEFAULT_MODEL", "Settings"]

DEFAULT_KB = Path(knowledge.__file__).parent / "content"
DEFAULT_MODEL = Path(evals.__file__).parent / "models" / "default"
DEFAULT_TAXONOMY = Path(automations.__file__).parent / "data" / "taxonomy.yaml"
DEFAULT_SAFETY = Path(automations.__file__).parent / "data" / "safety.yaml"


class Settings(BaseSettings):
    """Every knob of the service. Defaults run everything locally: SQLite, embedded Chroma, the packaged model."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("var"), alias="AUTOPILOT_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    chroma_host: str | None = Field(default=None, alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, alias="CHROMA_PORT")
    chroma_path: Path | None = Field(default=None, alias="CHROMA_PATH")
    kb_path: Path = Field(default=DEFAULT_KB, alias="KB_PATH")
    model_dir: Path = Field(default=DEFAULT_MODEL, alias="MODEL_DIR")
    taxonomy_path: Path = Field(default=DEFAULT_TAXONOMY, alias="TAXONOMY_PATH")
    safety_path: Path = Field(default=DEFAULT_SAFETY, alias="SAFETY_RULES_PATH")
    resolve_after_hours: float = Field(default=24.0, alias="RESOLVE_AFTER_HOURS")
    reopen_within_days: float = Field(default=7.0, alias="REOPEN_WITHIN_DAYS")
    retrieval_k: int = Field(default=3, alias="RETRIEVAL_K")

    @property
    def db_url(self) -> str:
        """The database URL: ``DATABASE_URL`` or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'autopilot.db').as_posix()}"

    def scratch(self, data_dir: Path) -> Settings:
        """A copy writing its SQLite file under ``data_dir`` but reading the same knowledge index (for evals)."""
        return self.model_copy(update={"data_dir": data_dir, "database_url": None, "chroma_path": self.chroma_dir})

    @property
    def chroma_dir(self) -> Path:
        """Where the embedded Chroma index lives."""
        return self.chroma_path or self.data_dir / "chroma"
