"""Coverage tallies, kept by database triggers in the same transaction as every visit change.

Three derived tables (see app/coverage/store.py for the triggers that keep them):
- unit_ancestors: each unit with every unit above it and itself (a closure of the tree), and the
  units it was under before a move, dated;
- household_reach: each visited household's first visit date;
- coverage_tallies: per unit, service (0 = reach) and month, how many households adopted the
  service (or were first visited) that month. Coverage as of a month is the sum up to it;
- coverage_totals: the same over all months, so the current month (the page everyone opens) reads
  one row per unit and service instead of summing four years of months.

And cache_tokens: a random value replaced by the triggers whenever what a cached result was built
from changes (household counts and the shape of the tree), so a worker can keep the household
roll-up in memory and know when it is stale.
"""
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db


class UnitAncestor(db.Model):
    __tablename__ = "unit_ancestors"

    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                                                 primary_key=True)
    ancestor_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                                                     primary_key=True, index=True)
    # NULL: a current ancestor, counting all the unit's events. A date: a former ancestor (the unit
    # moved away on that day), counting only the events dated before it, as the map then was.
    until: orm.Mapped[date | None] = orm.mapped_column(sa.Date)


class HouseholdReach(db.Model):
    __tablename__ = "household_reach"

    household_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"),
                                                      primary_key=True)
    hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                                                   index=True)
    first_visited_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)


class CoverageTally(db.Model):
    __tablename__ = "coverage_tallies"
    # Covering, by month: a page reads a few units' months after the one shown (none for the
    # current month) or from a trend's first month on, from the index alone.
    __table_args__ = (sa.Index("ix_coverage_tallies_unit_month", "unit_id", "month", "service_id", "households"),)

    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                                                 primary_key=True)
    # A service id, or 0 for reach; no foreign key so reach needs no service row.
    service_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    month: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)  # yyyymm
    households: orm.Mapped[int] = orm.mapped_column(default=0)


class CoverageTotal(db.Model):
    __tablename__ = "coverage_totals"

    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                                                 primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)  # 0 = reach
    households: orm.Mapped[int] = orm.mapped_column(default=0)


# The token of the household roll-up: household counts, and which units are leaves under which.
HOUSEHOLD_COUNTS = "household_counts"
ADULT_ACTIVITY = "adult_activity"  # cache_tokens.name: the adult month tables (app/coverage/by_commune.py)
CATALOGUE = "catalogue"  # the services (app/catalogue/operations.py `form_services`)
TEAMS = "teams"  # the teams' hamlets, memberships and members (app/visits/roster.py)
ACCOUNTS = "accounts"  # the users and the teams (app/auth/models.py `load_user`)
TARGETS = "targets"  # the provinces' service targets (app/catalogue/operations.py `province_milestones`)


class CacheToken(db.Model):
    __tablename__ = "cache_tokens"

    name: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    token: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)


# The adult indicators a province may set a target for: both are shares (a count has no denominator).
ADULT_TARGET_INDICATORS = ("named_share", "online_share")


class AdultTarget(db.Model):
    """A milestone of a province's target for an adult indicator: a share (0 < share <= 1) by a date.
    A province may set several (80% in 2025, 100% in 2026); a month is shown against the one in force
    at its end (app.catalogue.operations.milestone_on)."""

    __tablename__ = "adult_targets"
    __table_args__ = (
        sa.UniqueConstraint("province_id", "indicator", "due_on", name="uq_adult_targets_province_indicator_due"),
        sa.CheckConstraint("share > 0 AND share <= 1", name="share_range"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    province_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"))
    indicator: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    share: orm.Mapped[float] = orm.mapped_column(sa.Numeric(5, 4))
    due_on: orm.Mapped[date] = orm.mapped_column(sa.Date)


class NamedLearnerMonth(db.Model):
    """How many named learners had their first class in a month: per commune (unit_id = commune_id),
    and per hamlet they live in (or were taught in) with the class's commune. Kept by
    app/coverage/named_learners.py in the same transaction as every class change."""

    __tablename__ = "named_learner_months"

    unit_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    month: orm.Mapped[int] = orm.mapped_column(primary_key=True)  # yyyymm
    learners: orm.Mapped[int] = orm.mapped_column(default=0)


class ActivityMonth(db.Model):
    """A month's classes and shifts summed per commune (unit_id = commune_id) and per hamlet a class
    was held in (with the class's commune): measure 0 learners, > 0 a service's id (learners with it
    working), -1 online dossiers. Kept by app/coverage/activity_months.py with every class and shift change."""

    __tablename__ = "activity_months"

    unit_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    month: orm.Mapped[int] = orm.mapped_column(primary_key=True)  # yyyymm
    measure: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    n: orm.Mapped[int] = orm.mapped_column(default=0)


# --- A month's visits and households visited per hamlet, for the monthly summary (kept by the
# triggers of app/coverage/visit_months.py; the plain count is tests/test_visit_months.py's) ---

class VisitMonth(db.Model):
    """Visits per month, hamlet and team (team_id 0: a visit with no team)."""
    __tablename__ = "visit_months"

    month: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)  # yyyymm
    hamlet_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    team_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    visits: orm.Mapped[int] = orm.mapped_column(default=0)


class HouseholdMonth(db.Model):
    """Each household visited in a month, with the hamlet its visits were logged in (a row per
    hamlet, should a month's visits of one household name two)."""
    __tablename__ = "household_months"

    household_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    month: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    hamlet_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)


class ReachMonth(db.Model):
    """Households visited per month and hamlet, those merged into another left out: household_months'
    rows counted."""
    __tablename__ = "reach_months"

    month: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    hamlet_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    households: orm.Mapped[int] = orm.mapped_column(default=0)
