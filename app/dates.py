"""Dates as the people in the field see them: Vietnam's time zone, calendar months."""
import calendar
import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# What every month field and parameter says of a month it cannot read (the hint beside it: "For example 10/2024").
MONTH_MESSAGE = _l("Enter the month as month/year, e.g. 10/2024.")


def now_vn() -> datetime:
    return datetime.now(VN)


def today_vn() -> date:
    return now_vn().date()


def parse_month(value: str | None) -> tuple[int, int] | None:
    """'2024-10', or '10/2024' and '3/2024' as people write a month -> (year, month); None when malformed.
    Every month field and parameter reads a month through here (the API too)."""
    value = unicodedata.normalize("NFKC", value or "").strip()  # digits typed full width ('２０２４') read as ASCII
    if re.fullmatch(r"\d{4}-\d{2}", value, re.ASCII):
        year, month = int(value[:4]), int(value[5:])
    elif found := re.fullmatch(r"(\d{1,2})/(\d{4})", value, re.ASCII):
        year, month = int(found.group(2)), int(found.group(1))
    else:
        return None
    if not (1 <= month <= 12 and 1900 <= year <= 9999):
        return None
    return year, month


def month_as_written(value):
    """A form filter: a month written either way ('10/2024', '2024-10') as YYYY-MM; anything else as typed."""
    parsed = parse_month(value) if isinstance(value, str) else None
    return f"{parsed[0]}-{parsed[1]:02d}" if parsed else value


def month_label(year: int, month: int) -> str:
    """(2024, 10) -> '10/2024', a month as people write it in messages."""
    return f"{month:02d}/{year}"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)
