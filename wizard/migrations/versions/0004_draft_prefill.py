"""a draft's starting values from a deep link

An order started from a deep link (`.../orders/new?type=mobile&user=...&number=new`) keeps, per
step, the link's values its step's form accepted (pre-selected when the buyer gets there) and the
ones it dropped (explained on that step). Orders started otherwise have none.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.add_column(sa.Column("prefill", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.drop_column("prefill")
