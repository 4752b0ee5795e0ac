"""a number can be ported again after its port failed; a subscription keeps its itemised price

`phone_numbers.status` may be `gone`: a number that was to be moved here and never arrived (its port
was rejected or cancelled). `subscriptions.number_id` is no longer unique: a partial unique index
allows one subscription per number that is not cancelled, so the same number can be ordered for
porting again while the cancelled subscription keeps its history. `subscriptions.price_lines` keeps the
price lines as bought (item, monthly and one-off fee), shown on the subscription's page.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('free', 'held', 'reserved', 'assigned')"
NEW_STATUSES = "status IN ('free', 'held', 'reserved', 'assigned', 'gone')"
LIVE = sa.text("status <> 'cancelled'")
# SQLite's reflected unique constraint on number_id has no name: batch mode names it by this convention.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_number_name() -> str:
    return "subscriptions_number_id_key" if op.get_bind().dialect.name == "postgresql" else "uq_subscriptions_number_id"


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch_op:
        batch_op.drop_constraint("ck_phone_numbers_status", type_="check")
        batch_op.create_check_constraint("ck_phone_numbers_status", NEW_STATUSES)
    with op.batch_alter_table("subscriptions", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_unique_number_name(), type_="unique")
        batch_op.create_index(
            "uq_subscriptions_live_number", ["number_id"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        )
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(sa.Column("price_lines", sa.JSON(), nullable=True))
    # Numbers whose port was rejected or cancelled before this release never arrived: gone.
    op.execute(
        "UPDATE phone_numbers SET status = 'gone' WHERE id IN (SELECT number_id FROM subscriptions"
        " WHERE porting_status IN ('rejected', 'cancelled'))"
    )


def downgrade() -> None:
    # A number ordered again after its port failed has two subscriptions: the old, cancelled one
    # cannot keep it under a unique constraint, so a downgrade with such numbers is refused.
    op.execute("UPDATE phone_numbers SET status = 'assigned' WHERE status = 'gone'")
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("price_lines")
    with op.batch_alter_table("subscriptions", naming_convention=NAMING) as batch_op:
        batch_op.drop_index("uq_subscriptions_live_number")
        batch_op.create_unique_constraint(_unique_number_name(), ["number_id"])
    with op.batch_alter_table("phone_numbers") as batch_op:
        batch_op.drop_constraint("ck_phone_numbers_status", type_="check")
        batch_op.create_check_constraint("ck_phone_numbers_status", OLD_STATUSES)
