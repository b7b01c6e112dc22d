"""Community digital-technology teams (tổ CNSCĐ), their members and memberships."""
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from app.dates import VN
from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.text import fold

TEAM_STATUSES = {"active": _l("Active"), "dissolved": _l("Dissolved")}
MEMBER_ROLES = {"leader": _l("Leader"), "deputy": _l("Deputy leader"), "member": _l("Member")}
GENDERS = {"female": _l("Female"), "male": _l("Male"), "other": _l("Other")}
AFFILIATIONS = {
    "youth_union": _l("Youth union"),
    "womens_union": _l("Women's union"),
    "farmers_union": _l("Farmers' union"),
    "commune_police": _l("Commune police"),
    "post_office": _l("Post office"),
    "telecom": _l("Telecom"),
    "teacher": _l("Teacher"),
    "hamlet_head": _l("Hamlet head"),
    "other": _l("Other"),
}

team_hamlets = sa.Table(
    "team_hamlets", db.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("hamlet_id", sa.ForeignKey("admin_units.id"), primary_key=True, index=True),
)


class Team(db.Model):
    __tablename__ = "teams"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), index=True)
    decision_number: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="")
    decision_date: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    # The day the team really began work, often before it was registered here: its visits count
    # from then. Set by the commune officer; empty only on teams made outside the team form.
    founded_on: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="active")
    dissolved_on: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    dissolved_reason: orm.Mapped[str] = orm.mapped_column(sa.String(500), default="")
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)

    commune = orm.relationship("AdminUnit")
    hamlets = orm.relationship("AdminUnit", secondary=team_hamlets, order_by="AdminUnit.name")
    memberships: orm.Mapped[list["Membership"]] = orm.relationship(back_populates="team")

    def set_name(self, name: str) -> None:
        self.name = name
        self.name_folded = fold(name)[:200]

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def registered_on(self) -> date | None:
        """The Vietnamese calendar day the team was entered in the app."""
        return self.created_at.astimezone(VN).date() if self.created_at else None

    @property
    def visits_from(self) -> date | None:
        """The earliest date a visit of the team may carry."""
        return self.founded_on or self.decision_date or self.registered_on

    def commune_on(self, day: date):
        """The commune the team was in on `day`: where a reorganization found it (its placements), else its commune
        now. What it held that day (a class, a shift) was that commune's."""
        from app.units.models import AdminUnit
        return db.session.get(AdminUnit, db.session.scalar(sa.select(team_commune_on(day)).where(Team.id == self.id)))


class TeamPlacement(db.Model):
    """Where a team was before it moved: in `commune_id` until the day before `valid_to` (from
    `valid_from`, or since it began when None). A team that never moved has none; its commune now
    is `Team.commune_id`. The map as it was counts a month's teams where they were then."""

    __tablename__ = "team_placements"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    team_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("teams.id"), index=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    valid_from: orm.Mapped[date | None] = orm.mapped_column(sa.Date)
    valid_to: orm.Mapped[date] = orm.mapped_column(sa.Date)

    commune = orm.relationship("AdminUnit")


def team_commune_on(day: date):
    """The commune a team was in on `day`, as a column expression: its placement then, else its commune now."""
    p = TeamPlacement.__table__.c
    then = (sa.select(p.commune_id)
            .where(p.team_id == Team.id, sa.or_(p.valid_from.is_(None), p.valid_from <= day), p.valid_to > day)
            .order_by(p.valid_to).limit(1).scalar_subquery())
    return sa.func.coalesce(then, Team.commune_id)


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        sa.Index("uq_members_province_active_phone", "province_id", "active_phone", unique=True),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    full_name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), index=True)
    gender: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="")
    birth_year: orm.Mapped[int | None]
    # Normalised national form "0912345678"; unique among a province's active members.
    phone: orm.Mapped[str] = orm.mapped_column(sa.String(16), index=True, default="")
    # The phone while the member is in a team (an open membership), else NULL: the unique index on
    # (province_id, active_phone) lets the database itself refuse a second active member with the
    # number when two officers save at once. Kept by teams.services.sync_active_phone.
    active_phone: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    affiliation: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="other")
    # The member's province, so phone uniqueness is one indexed query.
    province_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)

    memberships: orm.Mapped[list["Membership"]] = orm.relationship(
        back_populates="member", order_by="Membership.joined_on")

    def set_name(self, name: str) -> None:
        self.full_name = name
        self.name_folded = fold(name)[:200]

    @property
    def current(self) -> "Membership | None":
        """The open membership, if the member is in a team now."""
        return next((m for m in self.memberships if m.left_on is None), None)

    @property
    def latest(self) -> "Membership | None":
        """The open membership, or else the last one (a former member's last team)."""
        return self.current or (self.memberships[-1] if self.memberships else None)


class Membership(db.Model):
    """A member's time in one team; at most one is open (left_on is None) per member."""

    __tablename__ = "memberships"
    # The database itself keeps a member in one team at a time and a team with one leader at a time,
    # so two officers saving at once cannot break either rule.
    __table_args__ = (
        sa.Index("uq_memberships_open_member", "member_id", unique=True,
                 sqlite_where=sa.text("left_on IS NULL"), postgresql_where=sa.text("left_on IS NULL")),
        sa.Index("uq_memberships_open_leader", "team_id", unique=True,
                 sqlite_where=sa.text("left_on IS NULL AND role = 'leader'"),
                 postgresql_where=sa.text("left_on IS NULL AND role = 'leader'")),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    member_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("members.id"), index=True)
    team_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("teams.id"), index=True)
    role: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="member")
    joined_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    left_on: orm.Mapped[date | None] = orm.mapped_column(sa.Date)

    member: orm.Mapped[Member] = orm.relationship(back_populates="memberships")
    team: orm.Mapped[Team] = orm.relationship(back_populates="memberships")
