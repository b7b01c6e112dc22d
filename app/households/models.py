"""Households of a hamlet: the minimum needed to log guidance sessions (Decree 13/2023)."""
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow


class Household(db.Model):
    __tablename__ = "households"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    head_name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    head_name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), index=True)
    address: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="")
    phone: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="")
    size: orm.Mapped[int | None]
    # Set when a commune officer merges a duplicate into another household.
    merged_into_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("households.id"))
    # Set on erasure at the household's request: name and phone gone, visits still counted.
    erased_at = orm.mapped_column(UTCDateTime)
    # Who erased it; no foreign key, so SQLite adds the column without rebuilding this table (which
    # visits and the coverage triggers refer to). The audit event of the erasure names the user too.
    erased_by_id: orm.Mapped[int | None]
    created_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)

    hamlet = orm.relationship("AdminUnit")

    @property
    def display_name(self) -> str:
        """The head's name, or a translated label once the household's personal data is erased."""
        return shown_name(self.id, self.head_name, self.erased_at)


def shown_name(household_id: int, head_name: str, erased_at) -> str:
    """A household's name as pages show it: the head's, or a translated label once erased."""
    if erased_at is not None:
        return _("Erased household #%(id)s", id=household_id)
    return head_name
