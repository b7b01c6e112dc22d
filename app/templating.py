"""Template globals and filters: numbers, percentages and dates only through the locale."""
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_decimal_symbol, parse_pattern
from flask import has_request_context, request
from flask_babel import format_date, format_datetime, get_locale, get_translations
from jinja2 import pass_context, pass_eval_context
from markupsafe import Markup

_PROBE = 1234567.5
_INF = float("inf")


class _NumberFormat:
    """One locale's number or percent pattern, parsed once per process.

    A coverage page formats about a thousand figures; Babel re-parses the pattern and looks the
    locale's symbols up on every call. Whole numbers and non-negative percentages take a short path
    with the separators Babel gives for the locale, kept only if it formats a probe exactly as Babel
    does (a locale with other digit grouping keeps Babel for everything)."""

    def __init__(self, locale_id: str, pattern: str, digits: int):
        self.locale = Locale.parse(locale_id)
        self.pattern = parse_pattern(pattern or self.locale.decimal_formats[None])
        self.digits = digits
        self.quantum = Decimal(1).scaleb(-digits)
        self.percent = pattern.endswith("%")
        example = _PROBE if self.percent else int(_PROBE)
        probe = self.pattern.apply(example / 100 if self.percent else example, self.locale)
        self.separators = None
        if digits:
            candidate = str.maketrans({",": probe[1], ".": probe[-3]})
        else:
            candidate = str.maketrans({",": probe[1]})
        plain = f"{Decimal(str(example)).quantize(self.quantum):,.{digits}f}".translate(candidate)
        if plain in probe:
            self.prefix, self.suffix = probe.split(plain, 1)
            self.separators = candidate
        self.quick = self.separators is not None
        # Non-negative floats in a plain decimal pattern ("#,##0.###": a page's "10,3 points short"):
        # rounded as Babel does, trailing zeros dropped, kept only if a probe matches Babel.
        low, high = self.pattern.frac_prec
        self.fraction = None
        if self.quick and not self.percent and low == 0 and high > 0:
            self.fraction = Decimal(1).scaleb(-high)
            self.float_separators = str.maketrans({",": probe[1], ".": get_decimal_symbol(self.locale)})
            if self._float(_PROBE + 0.0625) != self.pattern.apply(_PROBE + 0.0625, self.locale):
                self.fraction = None

    def _float(self, value: float) -> str:
        text = f"{Decimal(str(value)).quantize(self.fraction):,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.translate(self.float_separators)

    def number(self, value) -> str:
        if self.quick and type(value) is int and value >= 0:
            return f"{value:,}".translate(self.separators)
        if self.fraction is not None and type(value) is float and 0 <= value < _INF:
            return self._float(value)
        return self.pattern.apply(value, self.locale)

    def share(self, value) -> str:
        if self.quick and type(value) in (int, float, Decimal) and 0 <= value < _INF:
            # As Babel does: the decimal written by str(), scaled, rounded half to even.
            scaled = Decimal(str(value)).scaleb(2).quantize(self.quantum)
            return self.prefix + f"{scaled:,.{self.digits}f}".translate(self.separators) + self.suffix
        return self.pattern.apply(value, self.locale)


@lru_cache(maxsize=64)
def _format(locale_id: str, kind: str, digits: int = 0) -> _NumberFormat:
    if kind == "decimal":
        return _NumberFormat(locale_id, "", 0)
    return _NumberFormat(locale_id, "#,##0." + "0" * digits + "%" if digits else "#,##0%", digits)


def _number(value, locale: str | None = None):
    if value is None:
        return ""
    return _format(locale or str(get_locale() or "vi"), "decimal").number(value)


def _percent(value, digits: int = 1, locale: str | None = None):
    if value is None:
        return "–"
    return _format(locale or str(get_locale() or "vi"), "percent", digits).share(value)


@lru_cache(maxsize=4096)
def _day(locale_id: str, value: date, fmt: str) -> str:
    # The locale is part of the key; format_date reads the same locale from the request.
    return format_date(value, fmt)


def _date(value, fmt: str | None = None, locale: str | None = None):
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


# For messages built in Python (form errors, flashes) that name a day as the pages do.
date_text = _date


# The filters read the locale the context processor put in the template's context (one lookup per
# render instead of one per figure); templates imported without context fall back to get_locale().

@pass_context
def _number_filter(context, value):
    return _number(value, context.get("_locale_id"))


@pass_context
def _percent_filter(context, value, digits: int = 1):
    return _percent(value, digits, context.get("_locale_id"))


@pass_context
def _date_filter(context, value, fmt: str | None = None):
    return _date(value, fmt, context.get("_locale_id"))


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
    app.jinja_env.filters["date"] = _date_filter
    from app.units.kinds import label as kind_label
    app.jinja_env.filters["kind_label"] = kind_label
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "vi")

    @app.context_processor
    def _htmx_flag():
        return {"is_htmx": bool(getattr(request, "htmx", False))}

    @app.context_processor
    def _locale_bound():
        if not has_request_context():
            return {}
        gettext = _bound_gettext(get_translations())
        return {"_locale_id": str(get_locale() or "vi"), "gettext": gettext, "_": gettext}
