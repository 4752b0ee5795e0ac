"""The one-time value of the form that made an API token, unique: a form sent twice makes one token

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("form_once", sa.String(length=40), nullable=True))
    op.create_index("uq_api_tokens_form_once", "api_tokens", ["form_once"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_api_tokens_form_once", table_name="api_tokens")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("form_once")
