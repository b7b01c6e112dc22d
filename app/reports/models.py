"""Closed months: a province's monthly figures frozen at closing, so re-exports never change."""
import json

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.visits.models import Adoption, Visit

# Covering indexes for the monthly report: a month's visits and adoptions are read from the
# index alone (a province-scale month is ~60,000 visits among millions; see bench/export_bench.py).
sa.Index("ix_visits_month_report", Visit.visited_on, Visit.hamlet_id, Visit.team_id, Visit.household_id)
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
