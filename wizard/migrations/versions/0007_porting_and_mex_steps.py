"""drafts' answers: porting details and the MEX pairing are steps of their own

The Number step used to hold the porting details (port_number, port_operator, port_date, port_owner,
port_owner_org_number and the moved number's e164) and the User step the MEX partner. They are now
the answers of the "porting" and "mex" steps, so every stored order (open ones to resume, submitted
ones for their confirmation page) is rewritten into that shape. No column changes.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PORTING_FIELDS = ("e164", "port_number", "port_operator", "port_date", "port_owner", "port_owner_org_number")

drafts = sa.table("drafts", sa.column("id", sa.String), sa.column("answers", sa.JSON))


def split(answers: dict) -> dict:
    """One order's answers in the new shape (unchanged when already in it)."""
    result = {key: dict(value) for key, value in answers.items()}
    number = result.get("number") or {}
    if number.get("choice") == "port" and "port_number" in number:
        result["porting"] = {name: number.pop(name) for name in PORTING_FIELDS if name in number}
    user = result.get("user") or {}
    if "mex_partner" in user:
        result["mex"] = {"mex_partner": user.pop("mex_partner")}
    return result


def joined(answers: dict) -> dict:
    """The old shape, for a downgrade."""
    result = {key: dict(value) for key, value in answers.items()}
    if "porting" in result:
        result.setdefault("number", {}).update(result.pop("porting"))
    if "mex" in result:
        result.setdefault("user", {}).update(result.pop("mex"))
    return result


def _rewrite(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(drafts.c.id, drafts.c.answers)).all()  # a one-off pass over every order
    for draft_id, answers in rows:
        new = change(answers or {})
        if new != (answers or {}):
            bind.execute(sa.update(drafts).where(drafts.c.id == draft_id).values(answers=new))


def upgrade() -> None:
    _rewrite(split)


def downgrade() -> None:
    _rewrite(joined)
