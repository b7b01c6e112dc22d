"""The periods a summary covers: a calendar month, or a quarter of three (communes and provinces
report both, DOMAIN.md), and the words each one's tables are headed with.

A quarter's activity is its three months' (visits and new adoptions added up; households visited and
teams active counted once however many of its months they appear in); what stands at a date
(households, coverage, teams, members, adults) stands at the end of its last month.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.dates import month_end, month_label, month_start, today_vn

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(ValueError):
    """A quarter that cannot be reported: malformed or not yet begun."""


@dataclass(frozen=True)
class Period:
    """Months `first` to `last` of `year`: one month, or the three of a quarter."""
    year: int
    first: int
    last: int

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls(year, month, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        return cls(year, 3 * quarter - 2, 3 * quarter)

    @property
    def kind(self) -> str:
        return "month" if self.first == self.last else "quarter"

    @property
    def quarter_number(self) -> int:
        return (self.last + 2) // 3

    @property
    def months(self) -> list[tuple[int, int]]:
        return [(self.year, m) for m in range(self.first, self.last + 1)]

    @property
    def keys(self) -> tuple[int, int]:
        """The first and last month as the month tables key them (yyyymm)."""
        return self.year * 100 + self.first, self.year * 100 + self.last

    @property
    def end(self):
        return month_end(self.year, self.last)

    @property
    def label(self) -> str:
        """What the address carries: 2026-10, or 2026-Q4."""
        if self.kind == "month":
            return f"{self.year:04d}-{self.last:02d}"
        return f"{self.year:04d}-Q{self.quarter_number}"

    @property
    def shown(self) -> str:
        """As people write it: 10/2026, or Quý IV/2026."""
        if self.kind == "month":
            return month_label(self.year, self.last)
        return str(_l("Quarter %(quarter)s/%(year)s", quarter=ROMAN[self.quarter_number], year=self.year))

    @property
    def words(self) -> dict:
        return WORDS[self.kind]

    @staticmethod
    def words_of(kind: str) -> dict:
        return WORDS[kind]


def parse_quarter(value: str | None) -> tuple[int, int] | None:
    """'2026-Q3' (or 2026-q3) -> (2026, 3); None when malformed."""
    match = re.fullmatch(r"(\d{4})-[Qq]([1-4])", value or "")
    if match is None or int(match[1]) < 1900:
        return None
    return int(match[1]), int(match[2])


def check_quarter(value: str | None) -> tuple[int, int]:
    """'2026-Q3' -> (2026, 3), or PeriodError with a message for the user."""
    parsed = parse_quarter((value or "").strip())
    if parsed is None:
        raise PeriodError(str(_l("Enter the quarter as YYYY-Qn, for example 2026-Q3.")))
    if month_start(parsed[0], 3 * parsed[1] - 2) > today_vn():
        raise PeriodError(str(_l("This quarter has not begun yet; choose the current or an earlier quarter.")))
    return parsed


# The chooser offers the quarters since the teams were being set up across the provinces (2022); an
# earlier one typed in the address is still reported.
FIRST_OFFERED = (2022, 1)


def recent_quarters() -> list[tuple[str, str]]:
    """The current quarter and those before it back to FIRST_OFFERED, newest first, as (label, shown)."""
    today = today_vn()
    year, quarter = today.year, (today.month + 2) // 3
    out = []
    while (year, quarter) >= FIRST_OFFERED:
        p = Period.quarter(year, quarter)
        out.append((p.label, p.shown))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return out


# The headings that name the period: a month's are those its summary always had.
WORDS = {
    "month": {
        "title": _l("Monthly summary"),
        "title_of": lambda unit: _l("Monthly summary: %(unit)s", unit=unit),
        "activity": _l("Activity in the month"),
        "active_teams": _l("Teams active in the month"),
        "visits": _l("Visits in the month"),
        "reached": _l("Households reached in the month"),
        "moved": lambda num, count: ngettext(
            "%(count)s household moved to another hamlet during the month: it counts once among the households "
            "reached, in the hamlet it belonged to at the end of the month; its visits stay in the hamlet where they "
            "were made.",
            "%(count)s households moved to another hamlet during the month: each counts once among the households "
            "reached, in the hamlet it belonged to at the end of the month; the visits stay in the hamlet where they "
            "were made.", num, count=count),
        "new": _l("New adoptions in the month"),
        "moved_new": _l("A household that moved to another hamlet during the month (by itself, or by a merge or a "
                        "split of its hamlet): the services it began using in the month count in the hamlet it "
                        "belonged to at the end of the month; those it used before the month are not counted as "
                        "new."),
        "new_of": lambda service: _l("%(service)s: new adoptions in the month", service=service),
        "coverage": _l("Coverage at the end of the month"),
        "attendances": _l("Attendances (month)"),
        "attendances_long": _l("Class attendances in the month"),
        "online": _l("Online dossiers (month)"),
        "online_long": _l("Online dossiers filed with help in the month"),
        "dossiers": _l("Dossiers of the communes in the month"),
        "working": _l("Learners who came away with a service working (month)"),
        "working_of": lambda service: _l("%(service)s: learners with it working in the month", service=service),
        "adults_hint": _l("Attendances count every learner at every class of the month; named learners are "
                          "distinct people up to the end of the month, their share is of the adult population; "
                          "the dossiers' share is of the dossiers of the communes that entered their total."),
    },
    "quarter": {
        "title": _l("Quarterly summary"),
        "title_of": lambda unit: _l("Quarterly summary: %(unit)s", unit=unit),
        "activity": _l("Activity in the quarter"),
        "active_teams": _l("Teams active in the quarter"),
        "visits": _l("Visits in the quarter"),
        "reached": _l("Households reached in the quarter"),
        "moved": lambda num, count: ngettext(
            "%(count)s household moved to another hamlet during the quarter: it counts once among the households "
            "reached, in the hamlet it belonged to at the end of the quarter; its visits stay in the hamlet where "
            "they were made.",
            "%(count)s households moved to another hamlet during the quarter: each counts once among the households "
            "reached, in the hamlet it belonged to at the end of the quarter; the visits stay in the hamlet where "
            "they were made.", num, count=count),
        "new": _l("New adoptions in the quarter"),
        "moved_new": _l("A household that moved to another hamlet during the quarter (by itself, or by a merge or a "
                        "split of its hamlet): the services it began using in the quarter count in the hamlet it "
                        "belonged to at the end of the quarter; those it used before the quarter are not counted as "
                        "new."),
        "new_of": lambda service: _l("%(service)s: new adoptions in the quarter", service=service),
        "coverage": _l("Coverage at the end of the quarter"),
        "attendances": _l("Attendances (quarter)"),
        "attendances_long": _l("Class attendances in the quarter"),
        "online": _l("Online dossiers (quarter)"),
        "online_long": _l("Online dossiers filed with help in the quarter"),
        "dossiers": _l("Dossiers of the communes in the quarter"),
        "working": _l("Learners who came away with a service working (quarter)"),
        "working_of": lambda service: _l("%(service)s: learners with it working in the quarter", service=service),
        "adults_hint": _l("Attendances count every learner at every class of the quarter; named learners are "
                          "distinct people up to the end of the quarter, their share is of the adult population; "
                          "the dossiers' share is of the dossiers of the communes that entered their total."),
    },
}
