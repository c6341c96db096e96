"""Settings read from the environment (prefix ``GARDEN_``); one flat model, no per-environment classes."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob garden-api reads. Each field is ``GARDEN_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GARDEN_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./garden.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://… (several servers).",
    )
    content_dir: Path = Field(Path("./content"), description="What `garden serve` ingests into an empty database.")
    site_url: str = Field(
        "https://aura-knowledge.github.io",
        description="Base of every articleUrl, pageUrl and other absolute URL in the agent files.",
    )
    preview_token: SecretStr | None = Field(
        None,
        description="Bearer token that shows drafts, review and archived articles. Unset: no preview access.",
    )
    today: dt.date | None = Field(
        None, description="Fixes the date of the stale-source rule (tests only). Unset: today in UTC."
    )
    cache_max_age: int = Field(60, ge=0, description="max-age, in seconds, of Cache-Control on public responses.")
    pool_size: int = Field(
        8,
        ge=1,
        description="Database connections each worker process keeps open, and threads answering requests at once.",
    )
    pool_timeout: float = Field(
        10.0, gt=0, description="Seconds a request waits for a free database connection before a 503."
    )
    response_cache_mb: int = Field(
        32,
        ge=0,
        description="Memory, per worker process, for whole public responses kept by corpus version (0: none).",
    )
    cors_origins: list[str] = Field(
        ["*"], description='Origins allowed to read responses from a browser (JSON list; ["*"]: any).'
    )
    max_file_bytes: int = Field(
        8 * 1024 * 1024,
        description="Ingest refuses any input file larger than this, before reading it.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the large agent files are stored, per corpus version and date (app.agent.store). "
        "Unset: garden-api-<uid> in the system's temporary directory.",
    )

    def effective_today(self) -> dt.date:
        """The date the stale-source rule compares against: GARDEN_TODAY, else today in UTC."""
        return self.today or dt.datetime.now(dt.UTC).date()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
