"""Settings read from the environment (prefix ``GARDEN_``); one flat model, no per-environment classes."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.webhooks.subscription import Subscription


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
    site_name: str = Field(
        "Aura Knowledge",
        description="The site's name: the heading of llms.txt and the title of the front door (/).",
    )
    site_description: str = Field(
        "Focused essays for humans, backed by compact agent-auditable research packets.",
        description="One line under the name in llms.txt and on the front door; empty: none.",
    )
    repo_url: str = Field(
        "https://github.com/aura-knowledge/aura-knowledge.github.io",
        description="The content's repository: each packet's sourceGitHubUrl is <this>/blob/main/<sourceRepoPath>.",
    )
    schema_base_url: str = Field(
        "https://aura-knowledge.github.io/schemas",
        description="Where the agent files' JSON Schemas live: garden-queries.json names "
        "<this>/garden-queries.schema.json as its schema.",
    )
    llms_links: Literal["site", "api"] = Field(
        "site",
        description="What llms.txt links: `site`, the website at GARDEN_SITE_URL, as the publisher's generator "
        "writes it (its pages and eval report included); `api`, only what this server serves, at "
        "GARDEN_PUBLIC_URL (relative links when unset).",
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
        3.0,
        gt=0,
        description="Seconds a request waits for a free database slot (of GARDEN_POOL_SIZE, or of "
        "GARDEN_HEAVY_REQUESTS for a heavy route) before a 503 with Retry-After; never past GARDEN_REQUEST_TIMEOUT.",
    )
    request_timeout: float = Field(
        5.0,
        gt=0,
        description="Seconds within which every request starts its answer: past them a slow or frozen database "
        "is a 503 with Retry-After. Also PostgreSQL's statement_timeout on the API's connections.",
    )
    heavy_requests: int = Field(
        2,
        ge=1,
        description="Heavy requests (/search, the whole-corpus agent files and feeds, /graph, /llms.txt) each worker "
        "serves at once, on slots and connections of their own: a burst of them never holds up single-item reads.",
    )
    public_url: str | None = Field(
        None,
        description="This API's public base URL (https://api.example.org): `next` and Link URLs start with it. "
        "Unset: they are relative (path and query). Never taken from the Host header.",
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
    change_retention: int = Field(
        1000,
        ge=1,
        description="How many corpus versions the change log (/changes) keeps; every ingest drops older entries. "
        "A `since` older than that is answered 410 with how to resync.",
    )
    webhooks: list[Subscription] = Field(
        [],
        description='Webhook receivers besides those of `garden webhooks add`: a JSON list of {"url": "https://…", '
        '"secret": "whsec_…"}, read by the process that commits an ingest (app.webhooks).',
    )
    webhook_delivery: bool = Field(True, description="Whether `garden serve`'s processes deliver webhooks.")
    webhook_retry_base: float = Field(
        30.0,
        gt=0,
        description="Seconds before a failed webhook delivery's first retry; each later one waits twice as long.",
    )
    webhook_retry_max: float = Field(
        3600.0, gt=0, description="The longest wait, in seconds, between two webhook attempts."
    )
    webhook_expiry: float = Field(
        3 * 24 * 3600.0,
        gt=0,
        description="Seconds after its commit at which an undelivered webhook event is marked expired (3 days).",
    )
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a webhook receiver has to answer each POST.")
    webhook_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between two looks for due webhook deliveries, in each serving process."
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the large agent files are stored, per corpus version and date (app.agent.store). "
        "Unset: garden-api-<uid> in the system's temporary directory.",
    )

    max_header_bytes: int = Field(
        32 * 1024,
        ge=1024,
        description="Largest request line plus headers `garden serve` reads; a larger head is a 431 and a closed "
        "connection, answered as soon as that many bytes arrived.",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body `garden serve` accepts (only POST /mcp takes one): a larger Content-Length "
        "is a 413 before the body is read; a chunked body past it closes the connection.",
    )
    keep_alive_timeout: float = Field(
        5.0, gt=0, description="Seconds a connection may wait for its next request (or its first) before it is closed."
    )
    header_timeout: float = Field(
        5.0,
        gt=0,
        description="Seconds from the first byte of a request head to its end; a slower head (slowloris) is cut off.",
    )
    body_timeout: float = Field(
        10.0, gt=0, description="Seconds from the end of a request head to the end of its body; slower is cut off."
    )
    max_concurrency: int = Field(
        128,
        ge=1,
        description="Requests each worker process handles at once (idle connections do not count); beyond, an "
        "immediate 503 with Retry-After: 1.",
    )
    max_streams: int = Field(
        64,
        ge=1,
        description="Open /changes/stream event streams each worker process serves; beyond, a 503 with Retry-After. "
        "Open streams count toward GARDEN_MAX_CONCURRENCY: keep this well below it.",
    )
    max_connections: int = Field(
        10_000,
        ge=16,
        description="Open connections per worker process (cut to the file-descriptor limit less 256); beyond, the "
        "connection waiting longest without a request in progress is closed.",
    )

    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="Event loop of `garden serve`. uvloop costs less CPU per request, but accepts one connection per "
        "loop iteration (libuv 1.52): under a flood of busy connections new ones wait in the kernel's queue. asyncio "
        "accepts all waiting connections at once, for 15-25% more CPU per cached request (bench/connection_limits.py).",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_base(cls, value: str | None) -> str | None:
        """An http(s) URL with a host and no query or fragment; kept without its trailing slash."""
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL without query or fragment, e.g. https://api.example.org")
        return value.rstrip("/")

    @field_validator("site_name", "site_description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """One line of text (a Markdown heading in llms.txt); surrounding spaces dropped."""
        if "\n" in value or "\r" in value:
            raise ValueError("must be one line of text (no line breaks)")
        return value.strip()

    @field_validator("site_name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty, e.g. GARDEN_SITE_NAME='Soil Notes'")
        return value

    @field_validator("repo_url", "schema_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        """An http(s) URL with a host and no query or fragment; kept without its trailing slash."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL without query or fragment, e.g. https://example.org/x")
        return value.rstrip("/")

    def site_identity(self) -> tuple[str, ...]:
        """The settings the agent files' bytes depend on besides the corpus and the date (ETags and the file
        store are named after them)."""
        return (self.site_url, self.site_name, self.site_description, self.repo_url, self.schema_base_url,
                self.llms_links, self.public_url or "")  # fmt: skip

    def effective_today(self) -> dt.date:
        """The date the stale-source rule compares against: GARDEN_TODAY, else today in UTC."""
        return self.today or dt.datetime.now(dt.UTC).date()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
