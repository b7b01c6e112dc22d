"""Application factory for the community digital-technology teams app."""
import os

from flask import Flask, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.config import INSTANCE_DIR, Config, ConfigError, database_url, development_allowed
from app.extensions import babel, compress, csrf, db, htmx, limiter, login_manager, migrate


def select_locale() -> str:
    languages = ("vi", "en")
    if not has_request_context():
        return "en"  # command-line output is for operators; reports choose their locale explicitly
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in languages else "vi"


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the request came over HTTPS, not only when
    SESSION_COOKIE_SECURE says so (behind a proxy, with PROXY_COUNT set).

    Fast path: Flask builds the cookie's signing serializer afresh each time it reads or writes the
    cookie (~30 µs of CPU a request in the saturation mix, bench/README.md round 26); it holds nothing
    but the keys and settings, so it is built once per secret key (and fallbacks)."""

    def __init__(self):
        self._serializers = {}

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    _database_or_refuse(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    if app.config["SECRET_KEY"] == "dev-only-change-me" and not app.debug and not app.testing:
        app.logger.warning("SECRET_KEY is the development default; set SECRET_KEY in production.")

    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["PROXY_COUNT"]
        # The host and port too: the CSRF referrer check compares the page's origin with them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    app.session_interface = _SessionInterface()
    db.init_app(app)
    from app import database, request_memo
    database.init_app(app)
    request_memo.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=os.path.join(os.path.dirname(app.root_path),
                                                                "translations"))
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)

    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("Please sign in to open this page.")

    _import_models()
    from app.audit.views import bp as audit_bp
    from app.auth.views import bp as auth_bp
    from app.coverage.views import bp as coverage_bp
    from app.main.views import bp as main_bp
    from app.teams.views import bp as teams_bp
    from app.units.views import bp as units_bp
    app.register_blueprint(coverage_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(audit_bp)
    from app.catalogue.views import bp as services_bp
    from app.households.views import bp as households_bp
    from app.visits.views import bp as visits_bp
    app.register_blueprint(households_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(services_bp)
    from app.activities.views import bp as activities_bp
    app.register_blueprint(activities_bp)
    from app.api.tokens import bp as api_tokens_bp
    from app.api.views import bp as api_bp
    from app.reports.views import bp as reports_bp
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_tokens_bp)
    from app.users.views import bp as users_bp
    app.register_blueprint(users_bp)
    from app.areas.views import bp as areas_bp
    app.register_blueprint(areas_bp)
    csrf.exempt(api_bp)  # bearer-authenticated and read-only: no cookie, so no CSRF to defend against
    app.register_blueprint(api_bp)

    from app.auth.cli import users_cli
    from app.coverage.cli import coverage_cli
    from app.demo.cli import demo_cli
    from app.units.cli import units_cli
    app.cli.add_command(users_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(demo_cli)
    from app.backup import backup_command
    app.cli.add_command(backup_command)
    app.cli.add_command(coverage_cli)
    from app.api.cli import api_tokens_cli
    from app.reports.cli import report_cli
    app.cli.add_command(report_cli)
    app.cli.add_command(api_tokens_cli)

    from app import http_caching, templating
    templating.init_app(app)
    http_caching.init_app(app)
    from app.main.errors import init_app as init_errors
    init_errors(app)
    from app import logs
    logs.init_app(app)

    @app.before_request
    def _remember_start():
        g.locale = select_locale()

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def _database_or_refuse(app: Flask) -> None:
    """Outside development a missing DATABASE_URL stops the app: a fresh SQLite file would be a silent
    wrong database (reports of zeros). The instance folder is made only for a SQLite file inside it."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        if not development_allowed(app.debug, app.testing):
            raise ConfigError("DATABASE_URL is not set: put it in the env file (see deploy/cnscd.env.example) "
                              "or set CNSCD_DEV=1 to use the development database instance/app.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(None)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and os.path.abspath(uri[len("sqlite:///"):]).startswith(
            os.path.join(app.instance_path, "")):
        os.makedirs(app.instance_path, exist_ok=True)


class IdConverter(IntegerConverter):
    """<int:...> in paths stops at the largest id the database holds: beyond it, 404, not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        from app.forms import MAX_ID
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _import_models() -> None:
    """Every model module, so relationships resolve and Alembic sees the whole schema."""
    from app.activities import models as _activities  # noqa: F401
    from app.api import models as _api  # noqa: F401
    from app.audit import models as _audit  # noqa: F401
    from app.auth import models as _auth  # noqa: F401
    from app.coverage import models as _coverage  # noqa: F401
    from app.households import models as _households  # noqa: F401
    from app.reports import models as _reports  # noqa: F401
    from app.teams import models as _teams  # noqa: F401
    from app.units import models as _units  # noqa: F401
    from app.visits import models as _visits  # noqa: F401
