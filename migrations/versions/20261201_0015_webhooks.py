"""webhooks: subscriptions, the outbox of deliveries and the delivery log (app.webhooks)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = {
    "webhook_subscription": ("url", "secret"),
    "webhook_delivery": ("event_id", "url", "secret", "state", "claimed_by"),
    "webhook_attempt": ("error",),
}


def upgrade() -> None:
    string, stamp = sqlmodel.sql.sqltypes.AutoString, sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", string(), nullable=False),
        sa.Column("secret", string(), nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", string(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("url", string(), nullable=False),
        sa.Column("secret", string(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.Column("state", string(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", stamp(), nullable=False),
        sa.Column("lease_until", stamp(), nullable=True),
        sa.Column("claimed_by", string(), nullable=True),
        sa.Column("finished_at", stamp(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", stamp(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", string(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # every text column compares by code point (migration 0007)
        for name, columns in _TEXT.items():
            for column in columns:
                op.execute(f'ALTER TABLE {name} ALTER COLUMN "{column}" TYPE varchar COLLATE "C"')


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_attempt_delivery_id"), table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
