"""Dates as the people in the field see them: Vietnam's time zone, calendar months."""
import calendar
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now_vn() -> datetime:
    return datetime.now(VN)


def today_vn() -> date:
    return now_vn().date()


def parse_month(value: str | None) -> tuple[int, int] | None:
    """'2024-10' -> (2024, 10); None when malformed."""
    if not value or not re.fullmatch(r"\d{4}-\d{2}", value):
        return None
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and 1900 <= year <= 9999):
        return None
    return year, month


def month_label(year: int, month: int) -> str:
    """(2024, 10) -> '10/2024', a month as people write it in messages."""
    return f"{month:02d}/{year}"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)
