"""languages: a person's chosen language and price items' names in other languages

`users.locale` keeps the language a person chose in the header (None: their browser's). A price
item's `translations` holds its name and description in languages other than English, e.g.
{"sv": {"name": "Fast samtalstaxa", "description": "..."}}.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))
    with op.batch_alter_table("price_items") as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("price_items") as batch_op:
        batch_op.drop_column("translations")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locale")
