"""Changes to the administrative tree, each with its audit event, in the caller's transaction."""
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _

from app import rules
from app.audit.models import record
from app.database import sqlite_write_lock_now
from app.extensions import db
from app.templating import locale_date
from app.text import fold
from app.units.history import carried_on_by
from app.units.models import AdminUnit, AdultCount, HamletChange, HouseholdCount

# Namespace of the PostgreSQL advisory locks taken per unit while something of it is checked and saved (the
# second key is the unit's id).
UNIT_LOCK = 7321


def lock_unit(unit_id: int) -> None:
    """Before something of the unit's is checked and saved (a name among a commune's hamlets, its active teams
    or its teams' members, a province's areas or class topics; a hamlet's count for a day): two posts of one
    form at the same moment (a double tap on a weak signal, two workers, two officers) must not both find it
    free and both save it. PostgreSQL: the unit's advisory lock, held to the commit. SQLite: the database's
    write lock now (BEGIN IMMEDIATE) rather than at the insert, after the check."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(UNIT_LOCK, unit_id)))
    sqlite_write_lock_now(connection)


def find_child_by_name(parent: AdminUnit, name: str) -> AdminUnit | None:
    """The child bearing the name (diacritics and case aside): the active one if any (a hamlet ended
    by a merge may share its name with a later one), else the latest to end."""
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.parent_id == parent.id,
                                                        AdminUnit.name_folded == fold(name))
                             .order_by(AdminUnit.retired_on.is_not(None), AdminUnit.retired_on.desc(),
                                       AdminUnit.id.desc()).limit(1))


def children_by_name(parent: AdminUnit) -> dict[str, AdminUnit]:
    """Every child by its folded name; where an ended child shares its name with an active one, the active
    one, as `find_child_by_name` (ended ones first, so the active one overwrites them)."""
    return {u.name_folded: u for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == parent.id)
        .order_by(AdminUnit.retired_on.is_(None), AdminUnit.retired_on, AdminUnit.id))}


def create_unit(name: str, level: str, parent: AdminUnit | None, code: str | None = None,
                user=None) -> AdminUnit:
    """Raises rules.RuleError for a code the forms and imports would refuse (they check it first)."""
    code = rules.unit_code(code) or None
    unit = AdminUnit(code=code, level=level)
    unit.set_name(name)
    db.session.add(unit)
    db.session.flush()
    unit.place_under(parent)
    record("create", "unit", unit.id, unit.id, after={"name": name, "level": level, "code": code},
           user=user)
    return unit


def rename_unit(unit: AdminUnit, name: str, user=None) -> None:
    before = unit.name
    unit.set_name(name)
    record("update", "unit", unit.id, unit.id, before={"name": before}, after={"name": name}, user=user)


def retire_unit(unit: AdminUnit, on: date, user=None) -> None:
    unit.retired_on = on
    record("retire", "unit", unit.id, unit.id, before={"retired_on": None}, after={"retired_on": on},
           user=user)


def ended_by_change(unit: AdminUnit) -> bool:
    """Whether the hamlet ended by a merge into another or a split: its households went with the change,
    so it cannot simply be made active again (one retired by hand can)."""
    return unit.retired_on is not None and bool(db.session.scalar(sa.select(sa.exists().where(
        HamletChange.from_unit_id == unit.id, HamletChange.kind.in_(("merge", "split"))))))


def ended_commune_refusal(unit: AdminUnit) -> str | None:
    """Why a hamlet retired by hand cannot be made active again: its commune has ended (a hamlet retired before a
    reorganization's day stays under the old commune, whose other hamlets went on), and active under it, it would
    count in no commune standing. Says where the commune's hamlets are now; None when it can be made active."""
    commune = unit.parent
    if unit.retired_on is None or commune is None or commune.retired_on is None:
        return None
    now = ", ".join(u.name for u in carried_on_by(commune))
    if now:
        return _("%(commune)s ended on %(date)s; its hamlets are now in %(now)s. %(name)s cannot be made active "
                 "again under it: if it still exists, add it to the commune it is in now.",
                 commune=commune.name, date=locale_date(commune.retired_on), now=now, name=unit.name)
    return _("%(commune)s ended on %(date)s. %(name)s cannot be made active again under it: if it still exists, "
             "add it to the commune it is in now.", commune=commune.name, date=locale_date(commune.retired_on),
             name=unit.name)


def restore_unit(unit: AdminUnit, user=None) -> None:
    """Raises ValueError for a hamlet ended by a merge or a split, or one of a commune that has ended (the page
    says why first: ended_commune_refusal)."""
    if ended_by_change(unit):
        raise ValueError("a hamlet ended by a merge or a split is not made active again")
    if ended_commune_refusal(unit):
        raise ValueError(f"hamlet {unit.id} is not made active again under the ended commune {unit.parent_id}")
    before = unit.retired_on
    unit.retired_on = None
    record("restore", "unit", unit.id, unit.id, before={"retired_on": before}, after={"retired_on": None},
           user=user)


def ended_refusal(unit: AdminUnit, effective_on: date) -> str | None:
    """Why a count in effect from `effective_on` cannot be given to the unit: it had ended by then, and a
    count from its end on is counted nowhere. None when it can."""
    if unit.retired_on is None or effective_on < unit.retired_on:
        return None
    return _("%(name)s was in effect until %(day)s: a count for it takes a date up to that day.",
             name=unit.name, day=locale_date(unit.last_day))


def set_household_count(unit: AdminUnit, households: int, effective_on: date, user=None) -> HouseholdCount:
    """Record the count in effect from a date; a second count for the same date replaces the first.

    Raises rules.RuleError for a count the forms and imports would refuse (they check it first)."""
    if isinstance(households, bool) or not isinstance(households, int):
        raise TypeError(f"a household count is an int, not {households!r}")
    rules.households(households)
    # Through the relationship, so that the unit's loaded counts see a new one.
    return _set_count(HouseholdCount, "households", households, unit, effective_on, "set_households", user,
                      link={"unit": unit})


def set_adult_count(unit: AdminUnit, adults: int, effective_on: date, user=None) -> AdultCount:
    """Record the adult population (aged 15 and over) in effect from a date; a second one for the
    same date replaces the first. Raises rules.RuleError for a number the forms and imports refuse."""
    if isinstance(adults, bool) or not isinstance(adults, int):
        raise TypeError(f"an adult count is an int, not {adults!r}")
    rules.adults(adults)
    return _set_count(AdultCount, "adults", adults, unit, effective_on, "set_adults", user, link={"unit_id": unit.id})


def _set_count(model, field: str, value: int, unit: AdminUnit, effective_on: date, action: str, user, link: dict):
    """The count (`model`, its figure in `field`) in effect from a date, replacing one of the same date;
    `link` ties a new row to the unit. Raises ValueError for a date from the unit's end on (the forms and
    imports say why first: `ended_refusal`)."""
    if ended_refusal(unit, effective_on):
        raise ValueError(f"unit {unit.id} ended on {unit.retired_on}: no count from {effective_on}")
    existing = db.session.scalar(sa.select(model).where(model.unit_id == unit.id, model.effective_on == effective_on))
    before = {field: getattr(existing, field) if existing else None, "effective_on": effective_on}
    if existing is None:
        existing = model(effective_on=effective_on, **{field: value}, **link)
        db.session.add(existing)
    setattr(existing, field, value)
    if user is not None:
        existing.recorded_by_id = user.id
    record(action, "unit", unit.id, unit.id, before=before, after={field: value, "effective_on": effective_on},
           user=user)
    return existing


# The figures a unit is given from a date on, each kept in its own table: its household count and its adult
# population (aged 15 and over).
FIGURES = {"households": HouseholdCount, "adults": AdultCount}


def figure_on(unit_id: int, on: date, figure: str = "households") -> int | None:
    """The unit's figure (`FIGURES`) in effect on `on`: the latest dated on or before it; None when none is."""
    model = FIGURES[figure]
    return db.session.scalar(sa.select(getattr(model, figure)).where(model.unit_id == unit_id, model.effective_on <= on)
                             .order_by(model.effective_on.desc()).limit(1))


def hamlet_counts(commune: AdminUnit, on: date, figure: str = "households") -> dict[int, int]:
    """The figure (`FIGURES`: the household count unless said) in effect on `on` of each hamlet of the commune valid
    that day (id → figure); a hamlet with none by then is left out."""
    model = FIGURES[figure]
    valid = sa.and_(AdminUnit.parent_id == commune.id, AdminUnit.level == "hamlet",
                    sa.or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= on),
                    sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > on))
    latest = (sa.select(model.unit_id, sa.func.max(model.effective_on).label("day"))
              .join(AdminUnit, AdminUnit.id == model.unit_id)
              .where(valid, model.effective_on <= on).group_by(model.unit_id).subquery())
    return dict(db.session.execute(sa.select(model.unit_id, getattr(model, figure)).join(
        latest, sa.and_(model.unit_id == latest.c.unit_id, model.effective_on == latest.c.day)
    )).tuples().all())


def usual_hamlet(figures: Iterable[int]) -> int | None:
    """A commune's usual hamlet (`rules.usual` of its hamlets' household counts, or adult populations)."""
    return rules.usual(figures)


def far_from_before(typed: int, before: int | None, figure: str = "households") -> str | None:
    """Why a household count (or, `figure="adults"`, an adult population) looks like a slip beside the one in
    effect before it (`rules.slip_of_a_digit`); None when it does not, or when there was none."""
    if not rules.slip_of_a_digit(typed, before):
        return None
    if figure == "adults":
        return _("%(typed)s is far from the adult population before, %(before)s: check for a digit typed twice or "
                 "left out.", typed=format_decimal(typed), before=format_decimal(before))
    return _("%(typed)s is far from the count before, %(before)s: check for a digit typed twice or left out.",
             typed=format_decimal(typed), before=format_decimal(before))


def far_from_other_hamlets(typed: int, others: Iterable[int], figure: str = "households") -> str | None:
    """Why a hamlet's first household count (or, `figure="adults"`, its first adult population) looks like a
    slip, compared with the commune's other hamlets (their figures of the same kind in `others`); None when it
    does not.

    Far means ten times their usual size or more, or a tenth of it or less: the rule a new figure follows against
    the one before (`rules.slip_of_a_digit`), with the median of the others as reference. A commune's hamlets
    do differ (80 households beside 800), but rarely tenfold from the middle, while a zero typed twice or left
    out is exactly tenfold. With no other hamlet to compare with, a figure above `rules.HAMLET_HOUSEHOLDS_UNLIKELY`
    (a hamlet has a few hundred households) or `rules.HAMLET_ADULTS_UNLIKELY` is asked about; nothing below it,
    for there is nothing to compare with."""
    adults = figure == "adults"
    usual = usual_hamlet(others)
    if usual is None:
        if typed <= (rules.HAMLET_ADULTS_UNLIKELY if adults else rules.HAMLET_HOUSEHOLDS_UNLIKELY):
            return None
        if adults:
            return _("%(typed)s adults is a lot for one hamlet, which usually has a few hundred to a thousand or "
                     "so: check for a digit typed twice.", typed=format_decimal(typed))
        return _("%(typed)s households is a lot for one hamlet, which usually has a few hundred: check for a "
                 "digit typed twice.", typed=format_decimal(typed))
    if not rules.slip_of_a_digit(typed, usual):
        return None
    if adults:
        return _("%(typed)s adults is far from the commune's other hamlets, which have about %(usual)s: check for "
                 "a digit typed twice or left out.", typed=format_decimal(typed), usual=format_decimal(usual))
    return _("%(typed)s households is far from the commune's other hamlets, which have about %(usual)s: "
             "check for a digit typed twice or left out.", typed=format_decimal(typed),
             usual=format_decimal(usual))
