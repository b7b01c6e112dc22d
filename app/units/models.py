"""The administrative tree (province > district > commune > hamlet, any depth) and household counts."""
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.rules import HOUSEHOLDS_MAX
from app.text import fold

LEVELS = ("province", "district", "commune", "hamlet")


class AdminUnit(db.Model):
    __tablename__ = "admin_units"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # GSO code for provinces, districts and communes; hamlets have none unless the commune gives one.
    code: orm.Mapped[str | None] = orm.mapped_column(sa.String(20), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), index=True)
    level: orm.Mapped[str] = orm.mapped_column(sa.String(16), index=True)
    parent_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    # Materialised path "/1/7/42/": a subtree is one indexed prefix match, at any depth.
    path: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True, default="")
    depth: orm.Mapped[int] = orm.mapped_column(default=0)
    retired_on: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)

    parent: orm.Mapped["AdminUnit | None"] = orm.relationship(remote_side=[id], back_populates="children")
    children: orm.Mapped[list["AdminUnit"]] = orm.relationship(back_populates="parent",
                                                                order_by="AdminUnit.name")
    counts: orm.Mapped[list["HouseholdCount"]] = orm.relationship(
        back_populates="unit", order_by="HouseholdCount.effective_on.desc()",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<AdminUnit {self.level} {self.code or self.id} {self.name!r}>"

    def set_name(self, name: str) -> None:
        self.name = name
        self.name_folded = fold(name)

    def place_under(self, parent: "AdminUnit | None") -> None:
        """Attach to the tree; needs self.id, so call after a flush."""
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.path = (parent.path if parent else "/") + f"{self.id}/"

    @property
    def active(self) -> bool:
        return self.retired_on is None

    def ancestors(self) -> list["AdminUnit"]:
        """Root first, self excluded."""
        ids = [int(p) for p in self.path.strip("/").split("/")[:-1] if p]
        if not ids:
            return []
        found = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    def is_within(self, other: "AdminUnit") -> bool:
        return self.path.startswith(other.path)

    def households_on(self, on: date) -> "HouseholdCount | None":
        """The count in effect on a date: the latest one dated on or before it."""
        return db.session.scalar(
            sa.select(HouseholdCount)
            .where(HouseholdCount.unit_id == self.id, HouseholdCount.effective_on <= on)
            .order_by(HouseholdCount.effective_on.desc()).limit(1))

    def has_records(self) -> bool:
        """Anything hangs on this unit (children, teams, households, users), so it may not be deleted."""
        from app.auth.models import User
        from app.households.models import Household
        from app.teams.models import team_hamlets
        checks = [
            sa.select(AdminUnit.id).where(AdminUnit.parent_id == self.id),
            sa.select(User.id).where(User.unit_id == self.id),
            sa.select(Household.id).where(Household.hamlet_id == self.id),
            sa.select(team_hamlets.c.team_id).where(team_hamlets.c.hamlet_id == self.id),
        ]
        return any(db.session.execute(q.limit(1)).first() for q in checks)


class HouseholdCount(db.Model):
    """A unit's official number of households from a date on (counts change; old ones stay)."""

    __tablename__ = "household_counts"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "effective_on", name="uq_household_counts_unit_date"),
        # The limit app.rules.households applies to every form and import, also held by the database.
        sa.CheckConstraint(f"households >= 0 AND households <= {HOUSEHOLDS_MAX}", name="households_range"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    households: orm.Mapped[int]
    effective_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    recorded_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at = orm.mapped_column(UTCDateTime, default=utcnow)

    unit: orm.Mapped[AdminUnit] = orm.relationship(back_populates="counts")


class HamletChange(db.Model):
    """One link of a hamlet change decided by the commune (merge, split, rename), from a date.

    A merge of A into B is one row A→B; a split of A into X and Y is two rows A→X, A→Y; a rename
    is one row from the hamlet to itself with both names. The hamlet pages show their history
    from these rows; the audit trail holds who did it and the counts set with it.
    """

    __tablename__ = "hamlet_changes"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(16))  # merge | split | rename
    effective_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    from_unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    to_unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    # The names as they were on the day, so the history reads right after later renames.
    from_name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    to_name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    households_moved: orm.Mapped[int] = orm.mapped_column(default=0)
    recorded_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at = orm.mapped_column(UTCDateTime, default=utcnow)

    from_unit: orm.Mapped[AdminUnit] = orm.relationship(foreign_keys=[from_unit_id])
    to_unit: orm.Mapped[AdminUnit] = orm.relationship(foreign_keys=[to_unit_id])
