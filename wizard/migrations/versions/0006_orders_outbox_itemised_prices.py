"""orders with a reference, an outbox of e-mails, price items for numbers and SIMs

`orders`: what one Save bought, with a human-friendly reference (NB-2026-000123); subscriptions point
to theirs. `outbox`: e-mails written in the order's transaction and delivered by the mail worker.
Price items may now also be a number fee (a chosen number, porting) or a SIM start fee.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_CATEGORIES = "category IN ('call_rate', 'data_package', 'subscription')"
NEW_CATEGORIES = "category IN ('call_rate', 'data_package', 'number', 'sim', 'subscription')"


def upgrade() -> None:
    with op.batch_alter_table("price_items") as batch_op:
        batch_op.drop_constraint("ck_price_items_category", type_="check")
        batch_op.create_check_constraint("ck_price_items_category", NEW_CATEGORIES)
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_orders_organisation_id", "orders", ["organisation_id"])
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_subscriptions_order_id_orders", "orders", ["order_id"], ["id"])
        batch_op.create_index("ix_subscriptions_order_id", ["order_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="ck_outbox_status"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "kind", "recipient", name="uq_outbox_order_kind_recipient"),
    )
    op.create_index("ix_outbox_organisation_id", "outbox", ["organisation_id"])
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.drop_index("ix_outbox_organisation_id", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_order_id")
        batch_op.drop_constraint("fk_subscriptions_order_id_orders", type_="foreignkey")
        batch_op.drop_column("order_id")
    op.drop_index("ix_orders_organisation_id", table_name="orders")
    op.drop_table("orders")
    with op.batch_alter_table("price_items") as batch_op:
        batch_op.drop_constraint("ck_price_items_category", type_="check")
        batch_op.create_check_constraint("ck_price_items_category", OLD_CATEGORIES)
