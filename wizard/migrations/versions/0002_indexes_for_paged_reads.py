"""indexes for reads that do not grow with the data

The first free number of a kind is the first row of (kind, e164) that is available, and the Subs
page reads an organisation's newest subscriptions a page at a time.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch_op:
        batch_op.drop_index("ix_phone_numbers_kind")
        batch_op.create_index("ix_phone_numbers_kind_e164", ["kind", "e164"], unique=False)
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_organisation_id")
        batch_op.create_index("ix_subscriptions_organisation_id_created_at", ["organisation_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_organisation_id_created_at")
        batch_op.create_index("ix_subscriptions_organisation_id", ["organisation_id"], unique=False)
    with op.batch_alter_table("phone_numbers") as batch_op:
        batch_op.drop_index("ix_phone_numbers_kind_e164")
        batch_op.create_index("ix_phone_numbers_kind", ["kind"], unique=False)
