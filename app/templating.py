"""Template globals and filters: numbers, percentages and dates only through the locale."""
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from flask import has_request_context
from flask_babel import format_date, format_datetime, get_locale, get_translations
from jinja2 import pass_context, pass_eval_context
from markupsafe import Markup

from app.fragments import wants_fragment
from app.menu import menu, page_footer, page_header
from app.numbers import number_format
from app.paging import row_pager
from app.widgets import render as render_widget


def locale_number(value, locale: str | None = None):
    if value is None:
        return ""
    return number_format(locale or str(get_locale() or "vi"), "decimal").number(value)


def locale_percent(value, digits: int = 1, locale: str | None = None):
    if value is None:
        return "–"
    return number_format(locale or str(get_locale() or "vi"), "percent", digits).share(value)


def target_percent(value, locale: str | None = None):
    """A target share as the province typed it: 80 % as "80%", 80,5 % as "80,5%", 80,55 % as "80,55%" (the
    target form keeps hundredths of a percent, app/catalogue/forms.py PercentField)."""
    if value is None:
        return "–"
    hundredths = (Decimal(str(value)) * 100).quantize(Decimal("0.01")).normalize()
    return locale_percent(value, max(0, -hundredths.as_tuple().exponent), locale)


@lru_cache(maxsize=4096)
def _day(locale_id: str, value: date, fmt: str) -> str:
    # The locale is part of the key; format_date reads the same locale from the request.
    return format_date(value, fmt)


def locale_date(value, fmt: str | None = None, locale: str | None = None):
    """Vietnamese dates as officials write them, 23/05/2024; English in Babel's medium form."""
    if value is None:
        return ""
    locale = locale or str(get_locale() or "vi")
    vi = locale == "vi"
    if isinstance(value, datetime):
        return format_datetime(value, fmt or ("HH:mm dd/MM/yyyy" if vi else "medium"))
    if isinstance(value, date):
        # A page repeats the same few month ends; Babel re-parses the pattern on every call.
        return _day(locale, value, fmt or ("dd/MM/yyyy" if vi else "medium"))
    return value


def message_date(value: date) -> str:
    """A date inside a message: the locale's on a page (01/07/2025), ISO on the command line, whose options
    take ISO dates (2025-07-01)."""
    return locale_date(value) if has_request_context() else value.isoformat()


# The filters read the locale the context processor put in the template's context (one lookup per
# render instead of one per figure); templates imported without context fall back to get_locale().

@pass_context
def _number_filter(context, value):
    return locale_number(value, context.get("_locale_id"))


@pass_context
def _percent_filter(context, value, digits: int = 1):
    return locale_percent(value, digits, context.get("_locale_id"))


@pass_context
def _target_percent_filter(context, value):
    return target_percent(value, context.get("_locale_id"))


@pass_context
def _date_filter(context, value, fmt: str | None = None):
    return locale_date(value, fmt, context.get("_locale_id"))


def account_link(account) -> Markup:
    """Who did something, as accounts are named everywhere, "Nguyễn Văn An (nguyen.van.an)" (two people of one name
    told apart), linked to the account's page only for a viewer who may open it; "–" for nobody. `account`: a User,
    or any row with its id, full_name and username."""
    if account is None:
        return Markup("–")
    from flask import url_for

    from app.auth.models import account_name
    from app.request_memo import per_request
    from app.scope import can_open_account
    name = account_name(account.full_name, account.username)
    if per_request(("opens account", account.id), lambda: can_open_account(account.id)):
        return Markup('<a href="{}">{}</a>').format(url_for("users.show", account_id=account.id), name)
    return Markup.escape(name)


def _bound_gettext(translations):
    """Jinja's new-style gettext (autoescaped, always %-formatted) on this render's translations.

    flask_babel looks the request's locale and catalogue up again for every string, and Jinja's `_`
    alias takes the template context, which it copies for every call made inside a loop; a coverage
    table makes hundreds of such calls. This one needs only the autoescape flag."""
    @pass_eval_context
    def gettext(eval_ctx, string, **variables):
        rv = translations.ugettext(string)
        if eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables
    return gettext


def init_app(app):
    app.jinja_env.filters["number"] = _number_filter
    app.jinja_env.filters["percent"] = _percent_filter
    app.jinja_env.filters["target_percent"] = _target_percent_filter
    app.jinja_env.filters["date"] = _date_filter
    from app.units.kinds import label as kind_label
    app.jinja_env.filters["kind_label"] = kind_label
    app.jinja_env.filters["account"] = account_link
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "vi")
    app.jinja_env.globals["widget"] = render_widget
    app.jinja_env.globals["menu"] = menu
    app.jinja_env.globals["page_header"] = page_header
    app.jinja_env.globals["page_footer"] = page_footer
    app.jinja_env.globals["row_pager"] = row_pager
    from app.forms import error_summary
    app.jinja_env.globals["error_summary"] = error_summary

    @app.context_processor
    def _htmx_flag():
        return {"is_htmx": wants_fragment()}

    @app.context_processor
    def _locale_bound():
        if not has_request_context():
            return {}
        gettext = _bound_gettext(get_translations())
        return {"_locale_id": str(get_locale() or "vi"), "gettext": gettext, "_": gettext}
