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

from app.coverage.models import ACCOUNTS, HOUSEHOLD_COUNTS
from app.coverage.rollup import read_tokens, tables_token_ddl
from app.coverage.rollup import token as cache_token
from app.extensions import db, login_manager
from app.forms import MAX_ID
from app.models_base import UTCDateTime, utcnow
from app.text import fold
from app.worker_memo import kept_under_tokens

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


def account_name(full_name: str | None, username: str | None) -> str:
    """An account as people know it: the person's name with the username after it, "Nguyễn Văn An (0912345679)";
    either alone when the other is missing (or the same)."""
    full_name, username = (full_name or "").strip(), (username or "").strip()
    if full_name and username and full_name != username:
        return f"{full_name} ({username})"
    return full_name or username


def unit_fits_role(role: str, unit) -> bool:
    """Whether an account of `role` may be bound to `unit` (ROLE_LEVELS; any unit for an admin)."""
    levels = ROLE_LEVELS.get(role)
    return not levels or unit.level in levels


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
    # The name as the account list searches it (app.text.fold: no accents, lower case), kept by `_fold_name`.
    full_name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="", server_default="")
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

    @orm.validates("full_name")
    def _fold_name(self, _key, value):
        self.full_name_folded = fold(value)[:200]
        return value

    @property
    def shown_name(self) -> str:
        return account_name(self.full_name, self.username)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))


# --- The signed-in user, kept per worker ------------------------------------------------------------
# Fast path: every request loads its user with their unit and team. Loaded through the ORM that was
# ~0.2 ms of CPU a request on SQLite and ~0.4 on PostgreSQL (three entities, 37 columns: SQLAlchemy
# builds its row loaders on every execution; bench/README.md, round 24). A worker now keeps the three
# objects, detached, per user and per the accounts token (triggers replace it on any change to users
# and teams, migration e3a1c7b5d920) and the tree token (any change to the units); a request reads only
# the tokens and merges a copy into its session without SQL (`Session.merge(load=False)`), so what the
# request changes on its user never reaches the kept objects. tests/test_auth.py holds every page to the
# account, unit and team as the database has them after each kind of change, made through the app or
# by hand in SQL.

@functools.cache
def _user_with_unit_and_team() -> sa.Select:
    """Built once, on first use, once every model is mapped (session.get builds one on every call)."""
    return (sa.select(User).options(orm.joinedload(User.unit), orm.joinedload(User.team))
            .where(User.id == sa.bindparam("user_id")))


def _read_user(user_id: int):
    """The user with unit and team, detached (None if there is no such user): read in a session of its
    own on the request's connection, so nothing the request's session holds is touched."""
    with orm.Session(bind=db.session.connection()) as own:
        return own.execute(_user_with_unit_and_team(), {"user_id": user_id}).scalar_one_or_none()


_kept_user = kept_under_tokens(maxsize=2048)(_read_user)


def accounts_token_ddl(dialect: str) -> list[str]:
    """The accounts token's triggers as this module builds them (the migration carries a frozen copy)."""
    return tables_token_ddl(ACCOUNTS, "accounts_token", {"users": "users", "teams": "teams"}, dialect)


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
    read_tokens(db.session.connection())  # first: what the request keeps per worker is read under them
    kept = _kept_user((cache_token(ACCOUNTS), cache_token(HOUSEHOLD_COUNTS)), number)
    if kept is None or not kept.is_enabled or not token or not hmac.compare_digest(token, kept.session_token):
        return None
    return db.session.merge(kept, load=False)
