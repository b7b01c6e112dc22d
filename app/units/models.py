"""The administrative tree (province > district > commune > hamlet, any depth), with household and adult counts.

Units live in time: a unit is valid from `valid_from` (NULL: since before records began) until the
day before `retired_on` (NULL: still valid). A code names a unit only together with a date, since
the 2025 reform gave new communes the codes of old ones.
"""
import functools
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.rules import ADULTS_MAX, HOUSEHOLDS_MAX
from app.text import fold

LEVELS = ("province", "district", "commune", "hamlet")


# The official kinds, as the GSO lists name them; a unit's level says where it sits in the tree.
KINDS = ("tinh", "thanh_pho_tw", "huyen", "quan", "thi_xa", "thanh_pho", "xa", "phuong", "thi_tran", "dac_khu",
         "ap", "thon", "to_dan_pho", "khom", "khu_pho")


class AdminUnit(db.Model):
    __tablename__ = "admin_units"
    __table_args__ = (
        # One unit per code and start date; at most one still-valid bearer of a code.
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
        sa.Index("uq_admin_units_current_code", "code", unique=True,
                 sqlite_where=sa.text("retired_on IS NULL AND code IS NOT NULL"),
                 postgresql_where=sa.text("retired_on IS NULL AND code IS NOT NULL")),
        # The prefix match of `within` on PostgreSQL: a plain index on path serves LIKE only under the
        # C collation, so without these a database created in C.UTF-8 or vi_VN scans every unit.
        sa.Index("ix_admin_units_path_prefix", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
        # The retired units alone, by path: "is any unit of this subtree retired" reads the retired
        # units under the page (none, usually), not the subtree.
        sa.Index("ix_admin_units_retired_path", "path", postgresql_ops={"path": "varchar_pattern_ops"},
                 sqlite_where=sa.text("retired_on IS NOT NULL"), postgresql_where=sa.text("retired_on IS NOT NULL")),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # GSO code for provinces, districts and communes; hamlets have none unless the commune gives one.
    code: orm.Mapped[str | None] = orm.mapped_column(sa.String(20), index=True)
    # The official kind (KINDS), or NULL where the list gives none; shown by app.units.kinds.label.
    kind: orm.Mapped[str | None] = orm.mapped_column(sa.String(24))
    valid_from: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
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

    @property
    def last_day(self) -> date | None:
        """The last day the unit was valid (the day before `retired_on`); None while it still is."""
        return None if self.retired_on is None else self.retired_on - timedelta(days=1)

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.retired_on is None
                                                                        or day < self.retired_on)

    @staticmethod
    def valid_on_clause(day: date):
        """The SQL form of `valid_on`, for queries."""
        return sa.and_(sa.or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= day),
                       sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > day))

    def ancestors(self) -> list["AdminUnit"]:
        """Root first, self excluded."""
        ids = [int(p) for p in self.path.strip("/").split("/")[:-1] if p]
        if not ids:
            return []
        found = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    def is_within(self, other: "AdminUnit") -> bool:
        """This unit lies in the other's subtree (itself included): the Python twin of `within`."""
        return AdminUnit.path_within(self.path, other.path)

    @staticmethod
    def path_within(path: str, root_path: str) -> bool:
        """A materialised path lies in the subtree of another (itself included)."""
        return path.startswith(root_path)

    @classmethod
    def within(cls, root: "AdminUnit | str | sa.ColumnElement[str]") -> sa.ColumnElement[bool]:
        """WHERE clause keeping the units of a subtree (the root included), given the root, its path,
        or an expression of it (a bound parameter, another alias's path column): one prefix match on
        the materialised path, at any depth. Works on an alias too: `orm.aliased(AdminUnit).within(...)`."""
        path = root.path if isinstance(root, AdminUnit) else root
        if isinstance(path, str):
            return cls.path.startswith(path, autoescape=True)
        # An expression: paths are digits and slashes, so there is nothing to escape.
        return cls.path.startswith(path)

    @classmethod
    def subtree_ids(cls, root: "AdminUnit | str") -> sa.Select:
        """A subquery of the ids of the root (or the root's path) and every unit below it."""
        return sa.select(cls.id).where(cls.within(root))

    @property
    def province_id(self) -> int | None:
        """The id of the unit's province: the top of its tree (its path's first id; itself for a
        province). None only before the unit is placed in the tree."""
        return province_of_path(self.path)

    def households_on(self, on: date) -> "HouseholdCount | None":
        """The count in effect on a date: the latest one dated on or before it."""
        return db.session.scalar(
            sa.select(HouseholdCount)
            .where(HouseholdCount.unit_id == self.id, HouseholdCount.effective_on <= on)
            .order_by(HouseholdCount.effective_on.desc()).limit(1))

    def has_records(self) -> bool:
        """Anything hangs on this unit (units below it, teams, households, visits, users, classes, changes of
        the map, ...), so it may not be deleted. Every table that points at a unit is asked, but its own counts
        (they go with it) and what the database derives from it (ON DELETE CASCADE)."""
        refs = [sa.exists().where(column == self.id) for column in referencing_columns()]
        return bool(db.session.scalar(sa.select(sa.or_(*refs))))


# A unit's own figures: deleted with it (a hamlet entered by mistake, its counts typed with it).
OWN_TABLES = ("household_counts", "adult_counts")


@functools.cache
def referencing_columns() -> tuple[sa.Column, ...]:
    """The columns of other records that point at a unit and would be left pointing at nothing (the schema
    is fixed once the app has loaded its models: worked out once per worker)."""
    return tuple(fk.parent for table in db.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == AdminUnit.__tablename__ and fk.ondelete != "CASCADE"
            and table.name not in OWN_TABLES)


def province_of_path(path: str) -> int | None:
    """The id of the province at the top of a materialised path (None for an empty one)."""
    first = path.strip("/").split("/")[0]
    return int(first) if first else None


class UnitPlace(NamedTuple):
    """Where a unit sits in the tree: all that the access rules (app.scope `can_see`) and the month
    closing (app.reports.closing) read of a unit, and its name. A page that reads its record as plain
    columns, not as ORM objects, hands its unit to the rules as this (the visit's page: app/visits/shown.py)."""
    id: int
    path: str
    name: str

    def is_within(self, other) -> bool:
        return AdminUnit.path_within(self.path, other.path)

    @property
    def province_id(self) -> int | None:
        return province_of_path(self.path)


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
    # Indexed for the first month with data (coverage.queries.first_data_month): one index entry, not every count.
    effective_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    recorded_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at = orm.mapped_column(UTCDateTime, default=utcnow)

    unit: orm.Mapped[AdminUnit] = orm.relationship(back_populates="counts")
    recorded_by = orm.relationship("User")


class AdultCount(db.Model):
    """A unit's official number of adults (aged 15 and over) from a date on, kept like household counts."""

    __tablename__ = "adult_counts"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "effective_on", name="uq_adult_counts_unit_date"),
        sa.CheckConstraint(f"adults >= 0 AND adults <= {ADULTS_MAX}", name="adults_range"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    adults: orm.Mapped[int]
    effective_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    recorded_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at = orm.mapped_column(UTCDateTime, default=utcnow)

    recorded_by = orm.relationship("User")


def unit_for_code(code: str, on: date | None = None) -> AdminUnit | None:
    """The unit that bore `code` on a day (today's bearer when no day is given); None when none did."""
    q = sa.select(AdminUnit).where(AdminUnit.code == code)
    if on is None:
        q = q.where(AdminUnit.retired_on.is_(None))
    else:
        q = q.where(AdminUnit.valid_on_clause(on))
    # Periods of one code never overlap (the reorganization refuses it), so at most one row.
    return db.session.scalars(q.order_by(AdminUnit.valid_from.desc()).limit(1)).first()


class UnitPlacement(db.Model):
    """Where a unit hung in the past: under `parent_id` until the day before `valid_to`.

    A unit that never moved has none; its current parent is `AdminUnit.parent_id`.
    """

    __tablename__ = "unit_placements"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    parent_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    valid_from: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    valid_to: orm.Mapped[date | None] = orm.mapped_column(sa.Date)


class Reorganization(db.Model):
    """One dated step of a province's map: the plan applied, by whom, and what it did."""

    __tablename__ = "reorganizations"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    province_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    effective_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    source_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    applied_at = orm.mapped_column(UTCDateTime, default=utcnow)
    applied_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    summary: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)

    successions: orm.Mapped[list["UnitSuccession"]] = orm.relationship(back_populates="reorganization")


class UnitSuccession(db.Model):
    """Old unit -> new unit in a reorganization; `split` when the old one went to several."""

    __tablename__ = "unit_successions"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    reorganization_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("reorganizations.id"), index=True)
    old_unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    new_unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    split: orm.Mapped[bool] = orm.mapped_column(default=False)

    reorganization: orm.Mapped[Reorganization] = orm.relationship(back_populates="successions")


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
    recorded_by = orm.relationship("User")


class HouseholdMove(db.Model):
    """A household's move by a merge, a split or the commune officer's move of that one household, for the events
    (first visit, adoptions) recorded in one hamlet before it: from `moved_on` they count in `to_hamlet_id`
    instead of `from_hamlet_id`, so a hamlet counts its households' earlier visits from the day they came, and the
    one they left no longer does.

    One row per hamlet the household's events were recorded in and per move (a later move takes the events of
    the earlier ones on from the hamlet they reached; a household may move back and forth). Read by the coverage
    triggers (app/coverage/store.py), which tally the move in the month of `moved_on`; never changed once written.
    """

    __tablename__ = "household_moves"
    __table_args__ = (sa.Index("ix_household_moves_household_recorded", "household_id", "recorded_in_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    household_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("households.id"))
    recorded_in_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"))
    from_hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"))
    to_hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"))
    moved_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
