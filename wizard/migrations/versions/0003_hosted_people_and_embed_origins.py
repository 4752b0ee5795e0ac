"""hosted people and per-organisation embedding

Mounted in a host app, the wizard provisions organisations and users from the host's identity
adapter and finds them again by the host's stable keys; each organisation names the origins
that may frame the wizard.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("external_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("embed_origins", sa.String(length=2000), server_default="", nullable=False))
        batch_op.create_unique_constraint("uq_organisations_external_key", ["external_key"])
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("external_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_users_external_key", ["external_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_external_key", type_="unique")
        batch_op.drop_column("external_key")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_constraint("uq_organisations_external_key", type_="unique")
        batch_op.drop_column("embed_origins")
        batch_op.drop_column("external_key")
