"""Classes (buổi học) with their learners, one-stop-centre shifts and the commune's dossier totals.

A class counts its learners by age band (and by sex when recorded); named learners are optional. A
shift counts the people helped and the online dossiers filed with the team's help, per service; the
commune officer's monthly total of the commune's dossiers gives the share filed online with help.
"""
from datetime import date

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow
from app.text import fold

# The most learners one class may record: the largest classes seen are about 200 (a school hall).
LEARNERS_MAX = 1000
# The most people one shift may record as helped, or dossiers per service.
SHIFT_MAX = 1000
# A commune's dossiers in one month (the largest wards file a few thousand).
DOSSIERS_MAX = 1_000_000

class_teams = sa.Table(
    "class_teams", db.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.ForeignKey("teams.id"), primary_key=True, index=True),
)

class_members = sa.Table(
    "class_members", db.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id"), primary_key=True, index=True),
)

class_topics = sa.Table(
    "class_topics", db.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic_id", sa.ForeignKey("topics.id"), primary_key=True, index=True),
)

shift_members = sa.Table(
    "shift_members", db.metadata,
    sa.Column("shift_id", sa.ForeignKey("centre_shifts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id"), primary_key=True, index=True),
)


class Topic(db.Model):
    """A skill a class teaches. province_id NULL: the default list every province starts from."""

    __tablename__ = "topics"
    __table_args__ = (sa.UniqueConstraint("province_id", "code", name="uq_topics_province_code"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    province_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    # Stable: other provinces' data and exports refer to a topic by code, never by name.
    code: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_en: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="")
    position: orm.Mapped[int] = orm.mapped_column(default=0)
    active: orm.Mapped[bool] = orm.mapped_column(default=True)

    @property
    def label(self) -> str:
        locale = get_locale()
        if locale is not None and locale.language == "en" and self.name_en:
            return self.name_en
        return self.name


class Class(db.Model):
    """One class a team held: where, when, what, who taught and how many learned."""

    __tablename__ = "classes"
    __table_args__ = (
        sa.CheckConstraint(
            "learners_total >= 0 AND age_15_17 >= 0 AND age_18_59 >= 0 AND age_60_plus >= 0", name="counts"),
        sa.CheckConstraint("age_15_17 + age_18_59 + age_60_plus = learners_total", name="ages_add_up"),
        # Sex is either not recorded (both empty) or recorded for every learner.
        sa.CheckConstraint(
            "(learners_female IS NULL AND learners_male IS NULL) OR "
            "(learners_female IS NOT NULL AND learners_male IS NOT NULL AND learners_female >= 0 "
            "AND learners_male >= 0 AND learners_female + learners_male = learners_total)",
            name="sexes_add_up"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # One key per rendered form, as visits: a double tap or a replay finds the class it made.
    key: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    held_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    # A hamlet of the commune, or NULL with a place name (a school, a cultural house, the commune hall).
    place_hamlet_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    place_name: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="")
    learners_total: orm.Mapped[int]
    learners_female: orm.Mapped[int | None]
    learners_male: orm.Mapped[int | None]
    age_15_17: orm.Mapped[int] = orm.mapped_column(default=0)
    age_18_59: orm.Mapped[int] = orm.mapped_column(default=0)
    age_60_plus: orm.Mapped[int] = orm.mapped_column(default=0)
    note: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    created_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)
    updated_at = orm.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    commune = orm.relationship("AdminUnit", foreign_keys=[commune_id])
    place_hamlet = orm.relationship("AdminUnit", foreign_keys=[place_hamlet_id])
    created_by = orm.relationship("User")
    teams = orm.relationship("Team", secondary=class_teams, order_by="Team.name")
    members = orm.relationship("Member", secondary=class_members, order_by="Member.full_name")
    topics = orm.relationship("Topic", secondary=class_topics, order_by="Topic.position")
    learners: orm.Mapped[list["ClassLearner"]] = orm.relationship(
        back_populates="klass", cascade="all, delete-orphan", order_by="ClassLearner.id")
    results: orm.Mapped[list["ClassResult"]] = orm.relationship(
        back_populates="klass", cascade="all, delete-orphan")


def person_key(commune_id: int, name: str, birth_year: int | None) -> str:
    """The identity that counts a named learner once across classes.

    The commune, the name without diacritics or case, and the year of birth ('?' when not given):
    the same person typed with or without accents in two classes of the commune is one learner.
    Not the phone, which a household often shares; a learner entered once with and once without a
    year of birth counts twice (the figure errs high by that, never merges two people of one name
    born in different years).
    """
    return f"{commune_id}|{fold(name)}|{birth_year if birth_year else '?'}"[:255]


class ClassLearner(db.Model):
    """A learner named on a class (optional: most classes are counted, not named)."""

    __tablename__ = "class_learners"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    class_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), index=True)
    birth_year: orm.Mapped[int | None]
    hamlet_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    # Normalised national form "0912345678".
    phone: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    household_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("households.id"), index=True)
    person_key: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)

    klass: orm.Mapped[Class] = orm.relationship(back_populates="learners")
    hamlet = orm.relationship("AdminUnit")
    household = orm.relationship("Household")

    def set_identity(self, commune_id: int, name: str, birth_year: int | None) -> None:
        self.name = name
        self.name_folded = fold(name)[:200]
        self.birth_year = birth_year
        self.person_key = person_key(commune_id, name, birth_year)


class ClassResult(db.Model):
    """How many of a class's learners came away with a service working."""

    __tablename__ = "class_results"
    __table_args__ = (sa.CheckConstraint("learners >= 0", name="learners"),)

    class_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("classes.id", ondelete="CASCADE"),
                                                  primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("services.id"), primary_key=True, index=True)
    learners: orm.Mapped[int]

    klass: orm.Mapped[Class] = orm.relationship(back_populates="results")
    service = orm.relationship("Service")


class CentreShift(db.Model):
    """A team's shift at the commune's one-stop centre (Trung tâm phục vụ hành chính công)."""

    __tablename__ = "centre_shifts"
    __table_args__ = (sa.CheckConstraint("people_helped >= 0", name="people_helped"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    team_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("teams.id"), index=True)
    held_on: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    people_helped: orm.Mapped[int] = orm.mapped_column(default=0)
    note: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    created_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)
    updated_at = orm.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    commune = orm.relationship("AdminUnit")
    team = orm.relationship("Team")
    created_by = orm.relationship("User")
    members = orm.relationship("Member", secondary=shift_members, order_by="Member.full_name")
    dossiers: orm.Mapped[list["ShiftDossier"]] = orm.relationship(
        back_populates="shift", cascade="all, delete-orphan")

    @property
    def dossiers_total(self) -> int:
        return sum(d.dossiers for d in self.dossiers)


class ShiftDossier(db.Model):
    """Online dossiers filed with the team's help during a shift, for one service."""

    __tablename__ = "shift_dossiers"
    __table_args__ = (sa.CheckConstraint("dossiers >= 0", name="dossiers"),)

    shift_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("centre_shifts.id", ondelete="CASCADE"),
                                                  primary_key=True)
    service_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("services.id"), primary_key=True, index=True)
    dossiers: orm.Mapped[int]

    shift: orm.Mapped[CentreShift] = orm.relationship(back_populates="dossiers")
    service = orm.relationship("Service")


class CommuneDossierTotal(db.Model):
    """All the dossiers a commune received in a month (online or not), as its officer reports it."""

    __tablename__ = "commune_dossier_totals"
    __table_args__ = (
        sa.UniqueConstraint("commune_id", "month", name="uq_commune_dossier_totals_commune_month"),
        sa.CheckConstraint("dossiers >= 0", name="dossiers"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    commune_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    # yyyymm, the month in Vietnam's calendar.
    month: orm.Mapped[int]
    dossiers: orm.Mapped[int]
    recorded_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at = orm.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    commune = orm.relationship("AdminUnit")


class DeletedActivityKey(db.Model):
    """The form key of a class or shift since deleted: a replay of that form must not record it again."""

    __tablename__ = "deleted_activity_keys"

    key: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    # "class" or "shift"
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    record_id: orm.Mapped[int]
    deleted_at = orm.mapped_column(UTCDateTime, default=utcnow)
