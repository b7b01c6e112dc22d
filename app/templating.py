"""Template globals and filters: numbers, percentages and dates only through the locale."""
from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.numbers import parse_pattern
from flask import request
from flask_babel import format_date, format_datetime, get_locale


@lru_cache(maxsize=64)
def _pattern(locale_id: str, kind: str, digits: int = 0):
    """Babel parses a number pattern on every format_* call; a coverage page formats hundreds of
    numbers, so each locale's patterns are parsed once per process."""
    locale = Locale.parse(locale_id)
    if kind == "decimal":
        return locale, parse_pattern(locale.decimal_formats[None])
    return locale, parse_pattern("#,##0." + "0" * digits + "%" if digits else "#,##0%")


def _number(value):
    if value is None:
        return ""
    locale, pattern = _pattern(str(get_locale() or "vi"), "decimal")
    return pattern.apply(value, locale)


def _percent(value, digits: int = 1):
    if value is None:
        return "–"
    locale, pattern = _pattern(str(get_locale() or "vi"), "percent", digits)
    return pattern.apply(value, locale)


def _date(value, fmt: str | None = None):
    """Vietnamese dates as officials write them, 23/05/2024; English in Babel's medium form."""
    if value is None:
        return ""
    vi = str(get_locale() or "vi") == "vi"
    if isinstance(value, datetime):
        return format_datetime(value, fmt or ("HH:mm dd/MM/yyyy" if vi else "medium"))
    if isinstance(value, date):
        return format_date(value, fmt or ("dd/MM/yyyy" if vi else "medium"))
    return value


def init_app(app):
    app.jinja_env.filters["number"] = _number
    app.jinja_env.filters["percent"] = _percent
    app.jinja_env.filters["date"] = _date
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "vi")

    @app.context_processor
    def _htmx_flag():
        return {"is_htmx": bool(getattr(request, "htmx", False))}
