"""Services, guidance sessions (visits) and the adoptions they establish."""
from datetime import date

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow

PILLARS = {
    "government": _l("Digital government"),
    "economy": _l("Digital economy"),
    "society": _l("Digital society"),
}
RESULTS = {"guided": _l("Guided"), "adopted": _l("Adopted")}

visit_members = sa.Table(
    "visit_members", db.metadata,
    sa.Column("visit_id", sa.ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id"), primary_key=True, index=True),
)


def page_language() -> str:
    """The language of the request's page for a service's name ("vi" outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def service_name(name_vi: str, name_en: str, language: str) -> str:
    """A service's name in a language ("vi", "en"); Vietnamese for any other."""
    return name_en if language == "en" else name_vi


class Service(db.Model):
    __tablename__ = "services"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    code: orm.Mapped[str] = orm.mapped_column(sa.String(32), unique=True)
    pillar: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    name_vi: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_en: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    position: orm.Mapped[int] = orm.mapped_column(default=0)
    active: orm.Mapped[bool] = orm.mapped_column(default=True)
    # People file administrative dossiers through it (the public services portal, VNeID's services): a
    # one-stop-centre shift counts the online dossiers filed with the team's help for these services only.
    files_dossiers: orm.Mapped[bool] = orm.mapped_column(default=False, server_default=sa.false())

    @property
    def name(self) -> str:
        return self.name_in(page_language())

    def name_in(self, language: str) -> str:
        """The name in a language ("vi", "en"); Vietnamese for any other."""
        return service_name(self.name_vi, self.name_en, language)


class Target(db.Model):
    """A milestone of a province's target for a service: a share of households by a date. A province
    may set several (50% by 2025, 80% by 2030); a month is shown against the one in force at its end
    (app.catalogue.operations.milestone_on)."""

    __tablename__ = "targets"
    __table_args__ = (
        sa.UniqueConstraint("service_id", "province_id", "due_on", name="uq_targets_service_province_due"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("services.id"))
    province_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"))
    share: orm.Mapped[float] = orm.mapped_column(sa.Numeric(5, 4))
    due_on: orm.Mapped[date] = orm.mapped_column(sa.Date)

    service = orm.relationship("Service")


class Visit(db.Model):
    __tablename__ = "visits"
    # team_id is indexed with the day: every visit form reads its team's latest visits (their ids,
    # from the index alone on PostgreSQL).
    __table_args__ = (sa.Index("ix_visits_team_id_visited_on", "team_id", "visited_on", postgresql_include=["id"]),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    household_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("households.id"), index=True)
    # Denormalised from the household so scope and coverage queries need no join.
    hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    team_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("teams.id"))
    visited_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    note: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    author_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    # One key per rendered form: a double tap or a replay finds the visit it already made.
    idempotency_key: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)
    updated_at = orm.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    household = orm.relationship("Household")
    hamlet = orm.relationship("AdminUnit")
    team = orm.relationship("Team")
    author = orm.relationship("User")
    members = orm.relationship("Member", secondary=visit_members)
    services: orm.Mapped[list["VisitService"]] = orm.relationship(
        back_populates="visit", cascade="all, delete-orphan")


class VisitService(db.Model):
    __tablename__ = "visit_services"

    visit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("visits.id", ondelete="CASCADE"),
                                                  primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("services.id"), primary_key=True)
    result: orm.Mapped[str] = orm.mapped_column(sa.String(16))

    visit: orm.Mapped[Visit] = orm.relationship(back_populates="services")
    service = orm.relationship("Service")


class Adoption(db.Model):
    """When a household first adopted a service: the earliest visit that marked it adopted.

    Derived from visits and kept in the same transaction as every visit change, so a household
    counts once per service however many visits mark it.
    """

    __tablename__ = "adoptions"

    household_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("households.id"), primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("services.id"), primary_key=True)
    hamlet_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    adopted_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    visit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("visits.id"))


class DeletedVisitKey(db.Model):
    """The form key of a visit since deleted: a replay of that form must not record it again."""

    __tablename__ = "deleted_visit_keys"

    idempotency_key: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    visit_id: orm.Mapped[int]
    household_id: orm.Mapped[int | None]
    deleted_at = orm.mapped_column(UTCDateTime, default=utcnow)
