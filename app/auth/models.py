"""Users: one role each, bound to one administrative unit (leaders and members also to a team)."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import orm
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login_manager
from app.models_base import UTCDateTime, utcnow

ROLES = ("admin", "province", "district", "commune", "team_leader", "team_member")
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "province": _l("Province staff"),
    "district": _l("District officer"),
    "commune": _l("Commune officer"),
    "team_leader": _l("Team leader"),
    "team_member": _l("Team member"),
}
# The level of unit each role is bound to; admin may sit anywhere (usually a province).
ROLE_LEVEL = {
    "province": "province",
    "district": "district",
    "commune": "commune",
    "team_leader": "commune",
    "team_member": "commune",
}
# scrypt is Werkzeug's strongest built-in KDF; parameters are stored in the hash itself.
PASSWORD_METHOD = "scrypt"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    username: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    password_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    full_name: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="")
    role: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    unit_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    team_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("teams.id"), index=True)
    member_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("members.id"), index=True)
    locale: orm.Mapped[str] = orm.mapped_column(sa.String(8), default="vi")
    is_enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    must_change_password: orm.Mapped[bool] = orm.mapped_column(default=False)
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)
    last_login_at = orm.mapped_column(UTCDateTime)

    unit = orm.relationship("AdminUnit")
    team = orm.relationship("Team", foreign_keys=[team_id])
    member = orm.relationship("Member", foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))


@login_manager.user_loader
def load_user(user_id: str):
    try:
        # Every page shows the user's unit and scopes its queries by it, and a field user's pages
        # all start from their team: one round trip, not two or three.
        return db.session.get(User, int(user_id), options=[orm.joinedload(User.unit), orm.joinedload(User.team)])
    except (TypeError, ValueError):
        return None
