"""The webhook tables (issue 17): subscriptions, the outbox of deliveries ingest enqueues, and the delivery log.

Kept apart from app.models (which imports this module, so that one ``import app.models`` registers every table
on SQLModel.metadata for Alembic and the tests). How they are used: app.webhooks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel


class WebhookSubscription(SQLModel, table=True):
    """A receiver added with ``garden webhooks add`` (GARDEN_WEBHOOKS adds more, from the settings)."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, description="where each event is POSTed (http or https)")
    secret: str = Field(description="the Standard Webhooks secret (whsec_ + base64) every delivery is signed with")
    created_at: dt.datetime


class WebhookDelivery(SQLModel, table=True):
    """The outbox: one event for one receiver, written in the ingest transaction that committed the version,
    kept until it is delivered or expires (``state``: pending, delivered, expired, or cancelled by
    ``garden webhooks remove``)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, description="the webhook-id header: the same on every attempt")
    version: int = Field(description="the corpus version the event announces")
    url: str
    secret: str = Field(description="copied from the subscription when enqueued: a delivery is self-contained")
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(description="the commit time: the expiry counts from it")
    state: str = Field(description="pending, delivered, expired or cancelled")
    attempts: int = 0
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None = Field(default=None, description="a claim by one process holds until then")
    claimed_by: str | None = None
    finished_at: dt.datetime | None = Field(default=None, description="when it was delivered or marked expired")


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one row per attempt (its time, the receiver's status code or the error, the duration)."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=Column(Integer, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    attempted_at: dt.datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    success: bool
