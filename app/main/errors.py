"""Error pages: translated, small, and never a stack trace."""
from urllib.parse import urlsplit

from flask import current_app, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from app.extensions import ACCOUNT_FORM_ENDPOINTS, db
from app.fragments import render_page
from app.main.conflicts import conflict_page


def error_page(status: int, title: str, message: str):
    return render_page("errors/error.html", "errors/_error.html", status=status, title=title, message=message), status


def _plain_error(status: int, title, message):
    return lambda e: error_page(status, str(title), str(message))


def _standalone(status: int, title, message, headers=None):
    """An error page that asks nothing of the database (it may be unreachable): the language is the
    session's choice, else Vietnamese, never the signed-in user's (title and message lazy, so they
    are translated here)."""
    lang = session.get("locale") if session.get("locale") in ("vi", "en") else "vi"
    with force_locale(lang):
        # Straight from the environment: context processors would load the signed-in user.
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(
            lang=lang, title=str(title), message=str(message), request=request)
    return page, status, headers or {}


def init_app(app):
    @app.errorhandler(400)
    def bad_request(e):
        return error_page(400, _("Bad request"),
                     _("The request could not be understood. Please check what you entered and try again."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        # The reason (token missing, referrer of another host...) is only in the log: behind a proxy that
        # does not pass the Host, every form would fail here with nothing else to go on.
        current_app.logger.warning("CSRF rejected %s %s from %s: %s (host %r, referrer host %r)",
                                   request.method, request.path, request.remote_addr, e.description,
                                   request.host, urlsplit(request.referrer or "").netloc)
        return error_page(400, _("The form has expired"),
                     _("For your safety the form was not accepted. Go back, reload the page and send it again."))

    # The pages that only say what went wrong (lazy: translated at each request, in its language).
    for status, title, message in (
            (403, _l("Not allowed"), _l("Your account may not open or change this.")),
            (404, _l("Not found"), _l("This page does not exist, or it is outside your area.")),
            (405, _l("Not allowed"), _l("This address does not accept that kind of request.")),
            (413, _l("File too large"), _l("The file is larger than 5 MB. Split it and upload the parts."))):
        app.register_error_handler(status, _plain_error(status, title, message))

    @app.errorhandler(429)
    def too_many(e):
        who = ""
        if request.endpoint == "auth.login":
            who = f" for {(request.form.get('username') or '').strip().lower()[:64]!r}"
        elif request.endpoint in ACCOUNT_FORM_ENDPOINTS:  # limited per officer: which one
            from flask_login import current_user
            who = f" by {current_user.username!r}"
        current_app.logger.warning("rate limit %s reached on %s %s%s from %s", e.description,
                                   request.method, request.path, who, request.remote_addr)
        return error_page(429, _("Too many attempts"), _("Too many attempts. Wait a minute and try again."))

    @app.errorhandler(DBAPIError)
    def database_unavailable(e):
        """The database is busy (SQLite's write lock not free in time) or unreachable (PostgreSQL
        restarting): a moment later the same request will do. The user is told to try again, and the
        visit form's script resends by itself after Retry-After; nothing was written (one transaction)."""
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.close()  # the connection is gone; the pool replaces it (app.database)
        if disk_full(e):
            current_app.logger.error("database disk full: %s", (str(e.orig).splitlines() or [""])[0])
            return _standalone(507, _l("The server's disk is full"),
                               _l("Nothing was saved: the whole change was undone. Tell the administrator, "
                                 "who must free disk space; then send it again."))
        message = at_the_same_moment(e)
        if message is not None:
            current_app.logger.warning("a rule of the database refused a save made at the same moment as another, "
                                       "answered 409: %s", (str(e.orig).splitlines() or [""])[0])
            return conflict_page(_("Changed at the same time"), message)
        if refused_by_a_check(e):
            # The forms check every value first, so this is a check a form lacks: logged as an error to mend,
            # and the user told that nothing was saved rather than shown a server error.
            current_app.logger.error("a check of the database refused a value on %s %s, answered 422: %s",
                                     request.method, request.path, (str(e.orig).splitlines() or [""])[0])
            return error_page(422, _("Not saved"),
                              _("A value you sent is outside what can be saved, so nothing was saved. Go back, "
                                "check the numbers and dates, and send it again."))
        if not transient(e):
            raise e
        current_app.logger.warning("database unavailable, answered 503: %s", (str(e.orig).splitlines() or [""])[0])
        return _standalone(503, _l("Please try again"),
                           _l("The server is busy or briefly unavailable. Nothing was saved. "
                             "Please try again in a moment."),
                           {"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])})

    @app.errorhandler(StaleDataError)
    @app.errorhandler(ObjectDeletedError)
    def removed_meanwhile(e):
        """A save that changes a row another request removed after the page found it (a hamlet renamed while
        another officer deletes it; a class corrected while it is deleted): the update matched no row, or the row
        could not be read again. Nothing was saved; the person gets the form back, or what they typed, with 409."""
        db.session.rollback()
        current_app.logger.warning("a save found its row removed at the same moment, answered 409 on %s %s: %s",
                                   request.method, request.path, e)
        return conflict_page(_("Changed at the same time"), _(
            "What this change refers to was removed by someone else at the same moment, so nothing was "
            "saved. Reload the page and check."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return error_page(500, _("Something went wrong"), _("The error has been logged. Please try again in a moment."))


def disk_full(e: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100)."""
    return "database or disk is full" in str(e.orig) or getattr(e.orig, "sqlstate", None) == "53100"


def at_the_same_moment(e: DBAPIError) -> str | None:
    """What to tell the user when a rule of the database refused the row because of another save made at the
    same moment, else None. The forms check first, so a unique rule refusing it (SQLite's UNIQUE constraint,
    PostgreSQL's 23505) means two saves of the same thing (two officers, or one form sent twice), each having
    found it free; a reference rule (FOREIGN KEY, 23503) means the page found what it refers to and someone
    removed it before the save (a hamlet deleted while its count is saved)."""
    if not isinstance(e, IntegrityError):
        return None
    message, code = str(e.orig), getattr(e.orig, "sqlstate", None)
    if "UNIQUE constraint failed" in message or code == "23505":
        return _("Someone else saved the same thing at the same moment, so what you sent was not saved. Reload "
                 "the page, check, and send it again if it is still needed.")
    if "FOREIGN KEY constraint failed" in message or code == "23503":
        return _("What this change refers to was removed by someone else at the same moment, so nothing was "
                 "saved. Reload the page and check.")
    return None


def refused_by_a_check(e: DBAPIError) -> bool:
    """A CHECK rule of the database refused a value (SQLite's "CHECK constraint failed", PostgreSQL's 23514)."""
    return isinstance(e, IntegrityError) and (
        "CHECK constraint failed" in str(e.orig) or getattr(e.orig, "sqlstate", None) == "23514")


def transient(e: DBAPIError) -> bool:
    """A failure that waiting fixes: SQLite's lock not free in time, PostgreSQL unreachable or
    restarting (the connection lost, refused, or the server shutting down), never a wrong statement."""
    if e.connection_invalidated:
        return True
    dialect = type(e.orig).__module__
    message = str(e.orig).lower()
    if dialect.startswith("sqlite3"):
        return "database is locked" in message or "database is busy" in message
    try:
        import psycopg
        from psycopg import errors
    except ImportError:  # no PostgreSQL driver installed, so this is not PostgreSQL
        return False
    if isinstance(e.orig, (errors.AdminShutdown, errors.CannotConnectNow, errors.CrashShutdown)):
        return True
    # Connection-level failures carry no SQLSTATE (refused, closed, reset).
    return isinstance(e.orig, (psycopg.OperationalError, psycopg.InterfaceError)) and e.orig.sqlstate is None
