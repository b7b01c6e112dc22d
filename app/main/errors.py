"""Error pages: translated, small, and never a stack trace."""
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from app.extensions import db


def _page(status: int, title: str, message: str):
    template = "errors/_error.html" if getattr(request, "htmx", False) else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def init_app(app):
    @app.errorhandler(400)
    def bad_request(e):
        return _page(400, _("Bad request"),
                     _("The request could not be understood. Please check what you entered and try again."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        # The reason (token missing, referrer of another host...) is only in the log: behind a proxy that
        # does not pass the Host, every form would fail here with nothing else to go on.
        current_app.logger.warning("CSRF rejected %s %s from %s: %s (host %r, referrer host %r)",
                                   request.method, request.path, request.remote_addr, e.description,
                                   request.host, urlsplit(request.referrer or "").netloc)
        return _page(400, _("The form has expired"),
                     _("For your safety the form was not accepted. Go back, reload the page and send it again."))

    @app.errorhandler(403)
    def forbidden(e):
        return _page(403, _("Not allowed"), _("Your account may not open or change this."))

    @app.errorhandler(404)
    def not_found(e):
        return _page(404, _("Not found"), _("This page does not exist, or it is outside your area."))

    @app.errorhandler(405)
    def method_not_allowed(e):
        return _page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(e):
        return _page(413, _("File too large"), _("The file is larger than 5 MB. Split it and upload the parts."))

    @app.errorhandler(429)
    def too_many(e):
        who = ""
        if request.endpoint == "auth.login":
            who = f" for {(request.form.get('username') or '').strip().lower()[:64]!r}"
        current_app.logger.warning("rate limit %s reached on %s %s%s from %s", e.description,
                                   request.method, request.path, who, request.remote_addr)
        return _page(429, _("Too many attempts"), _("Too many attempts. Wait a minute and try again."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return _page(500, _("Something went wrong"), _("The error has been logged. Please try again in a moment."))
