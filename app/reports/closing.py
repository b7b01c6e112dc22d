"""Month closing: province staff freeze a month's figures; visits dated in it are then locked.

Visit create/edit/delete code calls `ensure_visit_date_editable` before writing.
"""
import json
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.models import record
from app.coverage.models import UnitAncestor
from app.dates import month_end, month_label, today_vn
from app.extensions import db
from app.reports.models import MonthClosure
from app.reports.summary import compute_figures
from app.rules import RuleError
from app.rules import reason as reason_rule
from app.scope import can_see
from app.units.models import AdminUnit


class ClosingError(Exception):
    """A refused closing or a refused change in a closed month; str() is the translated message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MonthClosedError(ClosingError):
    pass


def find_closure(unit: AdminUnit, year: int, month: int) -> MonthClosure | None:
    closed = closure_id(unit, year, month)
    return db.session.get(MonthClosure, closed) if closed is not None else None


def closure_id(unit: AdminUnit, year: int, month: int) -> int | None:
    """The id of the month's closure, if any: all a visit's checks need, without loading the closure
    (they run on every visit saved). A unit moved by a reorganization is also bound by the closures of
    the province it was in during that month. A month that has not ended has none (close_month refuses
    it), so a visit dated this month, nearly every visit, asks the database nothing here."""
    today = today_vn()
    if (year, month) >= (today.year, today.month):
        return None
    return db.session.connection().scalar(_CLOSURE_ID, {"province_id": unit.province_id, "year": year,
                                                        "month": month, "unit": unit.id,
                                                        "month_start": date(year, month, 1)})


def _closure_id() -> sa.Select:
    closures, ancestors = MonthClosure.__table__.c, UnitAncestor.__table__.c
    former = sa.select(ancestors.ancestor_id).where(ancestors.unit_id == sa.bindparam("unit"),
                                                    ancestors.until > sa.bindparam("month_start"))
    return sa.select(closures.id).where(
        sa.or_(closures.province_id == sa.bindparam("province_id"), closures.province_id.in_(former)),
        closures.year == sa.bindparam("year"), closures.month == sa.bindparam("month")).limit(1)


_CLOSURE_ID = _closure_id()


def closures_of(province: AdminUnit) -> list[MonthClosure]:
    return list(db.session.scalars(sa.select(MonthClosure).where(MonthClosure.province_id == province.id)
                                   .order_by(MonthClosure.year.desc(), MonthClosure.month.desc())))


def can_close(province: AdminUnit, user) -> bool:
    """Province staff of that province (and administrators who see it)."""
    if province.level != "province" or not can_see(province, user):
        return False
    return user.role in ("province", "admin")


def closing_refusal(province: AdminUnit, year: int, month: int, user) -> str | None:
    """Why the month may not be closed (asked before the page asks to confirm), or None."""
    if not can_close(province, user):
        return _("Only province staff can close a month for their province.")
    if month_end(year, month) >= today_vn():
        return _("A month can be closed only after it has ended.")
    if closure_id(province, year, month) is not None:
        return _("This month is already closed.")
    return None


def close_month(province: AdminUnit, year: int, month: int, user) -> MonthClosure:
    """Freeze the month: store the province's figures as they are now and lock its visits."""
    refusal = closing_refusal(province, year, month, user)
    if refusal:
        raise ClosingError(refusal)
    snapshot = compute_figures(province, year, month, full=True)
    closure = MonthClosure(province_id=province.id, year=year, month=month, closed_by_id=user.id,
                           snapshot=json.dumps(snapshot, ensure_ascii=False, sort_keys=True))
    db.session.add(closure)
    db.session.flush()
    record("close_month", "month_closure", closure.id, province.id,
           after={"month": f"{year:04d}-{month:02d}"}, user=user)
    return closure


def may_override(unit: AdminUnit, user) -> bool:
    """Province staff (and administrators) who see the unit may correct its closed months."""
    return user is not None and user.role in ("province", "admin") and can_see(unit, user)


def is_closed(unit: AdminUnit, day: date | None) -> bool:
    return day is not None and closure_id(unit, day.year, day.month) is not None


def can_correct_visit(visit, user) -> bool:
    """A visit dated in a closed month: province staff may correct it, giving a reason."""
    return may_override(visit.hamlet, user) and is_closed(visit.hamlet, visit.visited_on)


def reopen_month(closure: MonthClosure, user, reason: str) -> None:
    """Unfreeze a month closed by mistake (or to let teams add late visits); the reason is audited."""
    province = closure.province
    if not can_close(province, user):
        raise ClosingError(_("Only province staff can reopen a month for their province."))
    if not (reason or "").strip():
        raise ClosingError(_("Give the reason for reopening the month."))
    try:
        reason = reason_rule(reason)
    except RuleError as exc:
        raise ClosingError(exc.message) from None
    record("reopen_month", "month_closure", closure.id, province.id,
           before={"month": f"{closure.year:04d}-{closure.month:02d}", "closed_at": closure.closed_at,
                   "closed_by": closure.closed_by.username if closure.closed_by else None},
           after={"reason": reason}, user=user)
    db.session.delete(closure)
    db.session.flush()


def ensure_visit_date_editable(hamlet_or_unit: AdminUnit, visit_date: date, user, reason: str = "") -> None:
    """Raise MonthClosedError unless a visit dated `visit_date` in this unit may be written.

    Open month: allowed. Closed month: only province staff (or an administrator) who see the unit
    and give a reason; the override is added to the audit trail in the caller's transaction.
    """
    closed = closure_id(hamlet_or_unit, visit_date.year, visit_date.month)
    if closed is None:
        return
    label = month_label(visit_date.year, visit_date.month)
    if user is None or user.role not in ("province", "admin") or not can_see(hamlet_or_unit, user):
        raise MonthClosedError(_("Month %(month)s is closed: visits dated in it can no longer be added, "
                                 "changed or deleted. Ask province staff if a correction is needed.",
                                 month=label))
    reason = (reason or "").strip()
    if not reason:
        raise MonthClosedError(_("Month %(month)s is closed. Give a reason to change a visit dated in it.",
                                 month=label))
    try:
        reason = reason_rule(reason)
    except RuleError as exc:
        raise MonthClosedError(exc.message) from None
    record("edit_closed_month", "month_closure", closed, hamlet_or_unit.id,
           after={"visit_date": visit_date, "reason": reason}, user=user)
