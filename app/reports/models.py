"""Closed months: a province's monthly figures frozen at closing, so re-exports never change."""
import json

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.visits.models import Adoption

# A covering index of the adoptions by day, for coverage as of a day within a month (the month's
# adoptions up to that day, app/coverage/queries.py). The monthly report's counts come from the
# month tables the visit triggers keep (app/coverage/visit_months.py).
sa.Index("ix_adoptions_month_report", Adoption.adopted_on, Adoption.hamlet_id, Adoption.service_id,
         Adoption.household_id)


class MonthClosure(db.Model):
    __tablename__ = "month_closures"
    __table_args__ = (sa.UniqueConstraint("province_id", "year", "month",
                                          name="uq_month_closures_province_month"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    province_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    year: orm.Mapped[int]
    month: orm.Mapped[int]
    closed_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    closed_at = orm.mapped_column(UTCDateTime, default=utcnow)
    # The whole province's figures at closing (see app.reports.summary), served for every later export.
    snapshot: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")

    province = orm.relationship("AdminUnit")
    closed_by = orm.relationship("User")

    @property
    def snapshot_data(self) -> dict:
        return json.loads(self.snapshot or "{}")
