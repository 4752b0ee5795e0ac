"""drafts may be batches: one set of choices and a line per person, bought in one Save

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="single", nullable=False))
        batch_op.create_check_constraint("ck_drafts_kind", "kind IN ('single', 'batch')")


def downgrade() -> None:
    op.execute("DELETE FROM drafts WHERE kind = 'batch' AND status <> 'submitted'")
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.drop_constraint("ck_drafts_kind", type_="check")
        batch_op.drop_column("kind")
