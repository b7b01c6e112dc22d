"""Users: one role each, bound to one administrative unit (leaders and members also to a team)."""
import functools
import hmac
import secrets

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import orm
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login_manager
from app.forms import MAX_ID
from app.models_base import UTCDateTime, utcnow

ROLES = ("admin", "province", "district", "commune", "team_leader", "team_member")
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "province": _l("Province staff"),
    "district": _l("District or area officer"),
    "commune": _l("Commune officer"),
    "team_leader": _l("Team leader"),
    "team_member": _l("Team member"),
}
# The levels of unit each role may be bound to; admin may sit anywhere (usually a province). The
# district officer's successor on the two-level map follows an area (a group of communes).
ROLE_LEVELS = {
    "province": ("province",),
    "district": ("district", "area"),
    "commune": ("commune",),
    "team_leader": ("commune",),
    "team_member": ("commune",),
}
# scrypt is Werkzeug's strongest built-in KDF; parameters are stored in the hash itself.
PASSWORD_METHOD = "scrypt"


def new_session_token() -> str:
    return secrets.token_hex(16)


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
    # Part of the id every session cookie carries: replacing it ends all the account's sessions.
    session_token: orm.Mapped[str] = orm.mapped_column(sa.String(32), default=new_session_token)

    unit = orm.relationship("AdminUnit")
    team = orm.relationship("Team", foreign_keys=[team_id])
    member = orm.relationship("Member", foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Sign the account out everywhere: sign-out, a new password, disabling."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        """A new password also ends every session opened with the old one."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else PASSWORD_METHOD
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))


@functools.cache
def _user_with_unit_and_team(dialect: str) -> sa.Select:
    """Every page shows the user's unit and scopes its queries by it, and a field user's pages all
    start from their team: loaded with the user, one round trip, and with them the cache tokens that
    what the request keeps per worker is read under (app/coverage/rollup.py `tokens_column`: the visit
    form's services and team, a coverage page's units), which no longer cost a round trip of their own.
    Built once per database, on first use, once every model is mapped: building the statement
    (session.get builds one on every call) and its cache key was a third of the loader's work."""
    from app.coverage.rollup import tokens_column
    return (sa.select(User, tokens_column(dialect))
            .options(orm.joinedload(User.unit), orm.joinedload(User.team))
            .where(User.id == sa.bindparam("user_id")))


@login_manager.user_loader
def load_user(session_id: str):
    """The user a session cookie names, if its token is still the account's and the account is enabled."""
    user_id, _sep, token = (session_id or "").partition(":")
    try:
        number = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < number <= MAX_ID:
        return None
    statement = _user_with_unit_and_team(db.session.get_bind().dialect.name)
    row = db.session.execute(statement, {"user_id": number}).one_or_none()
    if row is None:
        return None
    user, tokens = row
    if not user.is_enabled or not token or not hmac.compare_digest(token, user.session_token):
        return None
    from app.coverage.rollup import remember_tokens
    remember_tokens(tokens)
    return user
