"""Flask extensions, created once and bound to the app in create_app()."""
from functools import cached_property

from flask import current_app, request
from flask_babel import Babel, Domain, _get_current_context
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
login_manager = LoginManager()


class _RequestDomain(Domain):
    """The message catalogue found once per request. Flask-Babel finds it again for every string: the
    locale selected, turned into its name and looked up in the cache (~100 strings on a page). Kept where
    Flask-Babel's own `refresh()` and `force_locale()` clear it (`babel_translations`), so a language
    changed within a request is still followed."""

    def get_translations(self):
        ctx = _get_current_context()
        if ctx is None:
            return super().get_translations()
        found = getattr(ctx, "babel_translations", None)
        if found is None:
            found = ctx.babel_translations = super().get_translations()
        return found


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _RequestDomain(domain=self.domain)


babel = _Babel()
csrf = CSRFProtect()
htmx = Htmx()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _officer_key() -> str:
    from flask_login import current_user
    return f"account-form:{current_user.id}"


# The forms that give a new account its username: a staff account's (/users/new) and a team member's (the button on
# the member's page). Each refusal tells whether a username exists anywhere (a team member's is their phone number):
# an officer sends them a few times a minute at most, a script trying names many more. One budget per officer for
# both, so neither is a way round the other. A new password for an account the officer manages tells nothing of any
# other, and has no limit (teams.reset_password, users.reset_password).
ACCOUNT_FORM_ENDPOINTS = frozenset({"users.new", "teams.account"})
account_form_limit = limiter.shared_limit(lambda: current_app.config["ACCOUNT_FORM_LIMIT"], scope="account-form",
                                          key_func=_officer_key, methods=["POST"])

# The sign-in form and the account forms are the endpoints with limits (app/auth/views.py, app/users/views.py,
# app/teams/views.py). Without this filter Flask-Limiter works out on every request which limits apply to its
# endpoint (~4% of the lightest page's CPU); any other endpoint now skips that. A limit put on another view needs its
# endpoint here (tests/test_auth.py checks that every limited view is listed).
LIMITED_ENDPOINTS = frozenset({"auth.login"}) | ACCOUNT_FORM_ENDPOINTS


@limiter.request_filter
def _not_limited() -> bool:
    return request.endpoint not in LIMITED_ENDPOINTS
