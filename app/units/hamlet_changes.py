"""Hamlet changes decided by the commune (merge, split, rename), each from a date, in the caller's
transaction (nothing here commits).

A household moves whole to its new hamlet; its visits (and the adoptions they set) dated on or after
the change follow it, and those dated before stay on the old hamlet, which counts them until the
change; from its day they count in the new hamlet (HouseholdMove; the coverage triggers move the
tallies in the change's month). So every household keeps counting once, the commune and everything
above it keep exactly the figures they had, a hamlet's months before the change read as the map was
then, and the new hamlet's row counts all its households' visits. That is why the date may not lie
in a closed month (or before one): no figure of a closed month changes.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from app import rules
from app.audit.models import record
from app.dates import month_label, today_vn
from app.extensions import db
from app.households.models import Household
from app.reports.models import MonthClosure
from app.teams.models import team_hamlets
from app.templating import locale_date
from app.text import by_name
from app.units import operations as unit_ops
from app.units.models import AdminUnit, HamletChange, HouseholdMove
from app.visits.models import Adoption, Visit
from app.visits.operations import lock_households


class HamletChangeError(ValueError):
    """A change the forms would refuse; str() is the translated message."""


@dataclass
class Part:
    """One hamlet a split makes: its name and household count from the date."""
    name: str
    households: int


@dataclass
class Arrival:
    """One hamlet a merge or a split sends households to, as its confirmation says it before anything is done."""
    name: str            # its name from the date
    renamed_from: str | None  # its name until then, when the change renames it
    households: int      # the households registered in the app that move to it
    visits: int          # their visits dated from the date, which move with them
    count: int           # its household count from the date
    adults: int | None = None  # its adult population from the date, carried over (None: no hamlet before had one)


@dataclass
class Summary:
    """What a merge or a split from `on` will do: the hamlet ends the day before; where its households go."""
    on: date
    count_before: int | None  # the ending hamlet's household count on its last day
    arrivals: list[Arrival]
    # The households the arriving hamlets take over: the counts in effect on the day of the hamlets the change
    # ends or merges (None when none has one); and the commune's household count that day before the change.
    replaced: int | None = None
    commune_households: int = 0

    @property
    def last_day(self) -> date:
        return self.on - timedelta(days=1)

    @property
    def counted(self) -> int:
        """The arriving hamlets' household counts from the date, added up."""
        return sum(a.count for a in self.arrivals)

    @property
    def commune_households_after(self) -> int:
        """The commune's household count from the date: what the arriving hamlets count instead of those before."""
        return self.commune_households + self.counted - (self.replaced or 0)

    @property
    def far_from_before(self) -> bool:
        """The new counts add up to a number far from the households they take over: a digit typed twice or left
        out (rules.slip_of_a_digit), or more than a quarter more or less, which no change of the map explains."""
        return bool(self.replaced) and (rules.slip_of_a_digit(self.counted, self.replaced)
                                         or 4 * abs(self.counted - self.replaced) > self.replaced)


def _movers(source: AdminUnit):
    """The households a change of `source` moves (duplicates merged into one follow it)."""
    return sa.select(Household.id).where(Household.hamlet_id == source.id, Household.merged_into_id.is_(None))


def _visits_moving(source: AdminUnit, on: date) -> dict[int, int]:
    """Per household of `source`, its visits dated from `on`: those a change from that day moves (_move_households)."""
    movers = _movers(source)
    return dict(db.session.execute(
        sa.select(Visit.household_id, sa.func.count(Visit.id))
        .where(Visit.household_id.in_(movers), Visit.visited_on >= on).group_by(Visit.household_id)).all())


def merge_summary(source: AdminUnit, target: AdminUnit, on: date, households: int,
                  new_name: str | None = None) -> Summary:
    """What merge_hamlets with the same arguments will do."""
    renamed = bool(new_name) and new_name != target.name
    moved = db.session.scalar(sa.select(sa.func.count()).select_from(_movers(source).subquery()))
    arrival = Arrival(new_name if renamed else target.name, target.name if renamed else None, moved,
                      sum(_visits_moving(source, on).values()), households, merged_adults(source, target, on))
    return Summary(on, count_on(source, on - timedelta(days=1)), [arrival],
                   suggested_merge_count(source, target, on), _commune_households(source, on))


def split_summary(source: AdminUnit, on: date, parts: list[Part], assignment: dict[int, int]) -> Summary:
    """What split_hamlet with the same arguments will do."""
    moving = _visits_moving(source, on)
    adults = split_adults(source, on, [part.households for part in parts]) or [None] * len(parts)
    arrivals = [Arrival(part.name, None, sum(1 for p in assignment.values() if p == i),
                        sum(moving.get(h, 0) for h, p in assignment.items() if p == i), part.households, adults[i])
                for i, part in enumerate(parts)]
    return Summary(on, count_on(source, on - timedelta(days=1)), arrivals, count_on(source, on),
                   _commune_households(source, on))


def _commune_households(hamlet: AdminUnit, on: date) -> int:
    """The household count of the hamlet's commune on the day, as it stands before the change: its hamlets' counts
    in effect that day, added up."""
    return sum(unit_ops.hamlet_counts(hamlet.parent, on).values())


def households_of(hamlet: AdminUnit) -> list[Household]:
    """The hamlet's households a split assigns (duplicates merged into another follow that one)."""
    return list(db.session.scalars(
        sa.select(Household).where(Household.hamlet_id == hamlet.id, Household.merged_into_id.is_(None))
        .order_by(Household.head_name_folded, Household.id)))


def sibling_hamlets(hamlet: AdminUnit) -> list[AdminUnit]:
    """The other active hamlets of the same commune: what a hamlet may be merged into."""
    return by_name(db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == hamlet.parent_id, AdminUnit.level == "hamlet",
                                   AdminUnit.id != hamlet.id, AdminUnit.retired_on.is_(None))).all())


def history(hamlet: AdminUnit) -> list[HamletChange]:
    """Every change the hamlet took part in, oldest first."""
    return list(db.session.scalars(
        sa.select(HamletChange).where(sa.or_(HamletChange.from_unit_id == hamlet.id,
                                             HamletChange.to_unit_id == hamlet.id))
        .options(orm.selectinload(HamletChange.recorded_by))
        .order_by(HamletChange.effective_on, HamletChange.id)))


@dataclass
class Ending:
    """How a hamlet ended by a merge or a split: from when, and the hamlets its households went to (a retired hamlet
    has none: its households leave the figures)."""
    kind: str  # merge | split
    on: date
    into: list[AdminUnit]


def endings(hamlets) -> dict[int, Ending]:
    """{hamlet id: Ending} of those among `hamlets` a merge or a split ended; the hamlets it made under their names
    of today."""
    return endings_of([h.id for h in hamlets if h.retired_on is not None])


def endings_of(ids: list[int]) -> dict[int, Ending]:
    """endings() of the hamlets of these ids."""
    found: dict[int, Ending] = {}
    if not ids:
        return found
    for change, into in db.session.execute(
            sa.select(HamletChange, AdminUnit).join(AdminUnit, AdminUnit.id == HamletChange.to_unit_id)
            .where(HamletChange.from_unit_id.in_(ids), HamletChange.kind.in_(("merge", "split")))
            .order_by(HamletChange.id)):
        found.setdefault(change.from_unit_id, Ending(change.kind, change.effective_on, [])).into.append(into)
    for ending in found.values():
        ending.into = by_name(ending.into)
    return found


def earliest_date(hamlet: AdminUnit, households: bool = True) -> date | None:
    """The first day a new change of this hamlet may take effect: the day it came into being, or of
    its latest change, whichever is later (a history read in order); with `households`, also of the latest
    household moved into or out of it by itself (a merge or a split moves its households' events in order)."""
    latest = db.session.scalar(
        sa.select(sa.func.max(HamletChange.effective_on))
        .where(sa.or_(HamletChange.from_unit_id == hamlet.id, HamletChange.to_unit_id == hamlet.id)))
    moved = db.session.scalar(
        sa.select(sa.func.max(HouseholdMove.moved_on))
        .where(sa.or_(HouseholdMove.from_hamlet_id == hamlet.id, HouseholdMove.to_hamlet_id == hamlet.id))
    ) if households else None
    return max(filter(None, [latest, moved, hamlet.valid_from]), default=None)


def first_closed_month_from(unit: AdminUnit, on: date) -> tuple[int, int] | None:
    """The earliest closed month of the unit's province from the month of `on` on, if any."""
    province_id = int(unit.path.strip("/").split("/")[0])
    row = db.session.execute(
        sa.select(MonthClosure.year, MonthClosure.month)
        .where(MonthClosure.province_id == province_id,
               MonthClosure.year * 100 + MonthClosure.month >= on.year * 100 + on.month)
        .order_by(MonthClosure.year, MonthClosure.month).limit(1)).first()
    return (row[0], row[1]) if row else None


def date_problem(hamlets: list[AdminUnit], on: date, households: bool = True) -> str | None:
    """Why a change of these hamlets may not take effect on this date, or None (`households`: as earliest_date)."""
    if on > today_vn():
        return _("The change must already be in effect: give today's date or an earlier one.")
    for hamlet in hamlets:
        if hamlet.retired_on is not None and on >= hamlet.retired_on:
            return _("%(name)s was in effect until %(day)s: a change to it takes effect on that day at the latest.",
                     name=hamlet.name, day=locale_date(hamlet.last_day))
        earliest = earliest_date(hamlet, households)
        if earliest is not None and on < earliest:
            return _("%(name)s has existed in its present form only since %(date)s: give that date or a later one.",
                     name=hamlet.name, date=locale_date(earliest))
    closed = first_closed_month_from(hamlets[0], on)
    if closed is not None:
        return _("Month %(month)s is closed: a change may only take effect after the last closed month, "
                 "so that no closed month's figures change.", month=month_label(closed[0], closed[1]))
    return None


def count_on(hamlet: AdminUnit, on: date) -> int | None:
    current = hamlet.households_on(on)
    return current.households if current is not None else None


def suggested_merge_count(source: AdminUnit, target: AdminUnit, on: date) -> int | None:
    """The two counts in effect on the day added up (what the merged hamlet counts unless told)."""
    counts = [c for c in (count_on(source, on), count_on(target, on)) if c is not None]
    return sum(counts) if counts else None


def suggested_split_counts(source: AdminUnit, on: date, assigned: list[int]) -> list[int] | None:
    """The old count shared in proportion to the registered households each part receives
    (`assigned[i]` of them), rounded so the parts add up to the old count; None without a count."""
    total = count_on(source, on)
    return None if total is None else shared(total, assigned)


def adults_on(hamlet: AdminUnit, on: date) -> int | None:
    """The hamlet's adult population in effect on the day (set_adult_count), None when it has none."""
    return unit_ops.figure_on(hamlet.id, on, "adults")


def merged_adults(source: AdminUnit, target: AdminUnit, on: date) -> int | None:
    """The merged hamlet's adult population from `on`: both hamlets' in effect up to then, added up (one without
    any adds nothing); None when neither has one. A figure dated that very day counts: the commune counted it."""
    figures = [a for a in (adults_on(source, on), adults_on(target, on)) if a is not None]
    return sum(figures) if figures else None


def split_adults(source: AdminUnit, on: date, counts: list[int]) -> list[int] | None:
    """The ended hamlet's adult population shared among the new hamlets in proportion to their household counts
    (`counts`; evenly when they are all 0), in whole numbers adding up to it exactly; None when it has none."""
    total = adults_on(source, on)
    return None if total is None else shared(total, counts)


def shared(total: int, weights: list[int]) -> list[int]:
    """`total` shared in proportion to `weights` (evenly when they add up to 0), in whole numbers adding up to
    `total`: each part its share rounded down, and the remainder, one each, to the parts whose share lost the
    most to the rounding (the largest remainders; the first of equal ones)."""
    assigned, n = weights, sum(weights)
    if n == 0:  # nothing to weigh by (no household registered, or counts of 0): shared evenly
        assigned, n = [1] * len(assigned), len(assigned)
    share = [total * a // n for a in assigned]
    order = sorted(range(len(assigned)), key=lambda i: -(total * assigned[i] % n))
    for i in order[: total - sum(share)]:
        share[i] += 1
    return share


def _move_households(household_ids: list[int], source: AdminUnit, target: AdminUnit, on: date) -> None:
    """Households to their new hamlet, with their visits (and adoptions) dated from `on`; the
    coverage triggers move the tallies of those visits within the commune."""
    if not household_ids:
        return
    lock_households(household_ids)
    duplicates = sa.select(Household.id).where(Household.merged_into_id.in_(household_ids))
    db.session.execute(sa.update(Household).where(sa.or_(Household.id.in_(household_ids),
                                                         Household.id.in_(duplicates)))
                       .values(hamlet_id=target.id).execution_options(synchronize_session=False))
    moved_visits = (sa.select(Visit.id).where(Visit.household_id.in_(household_ids), Visit.visited_on >= on)
                    .scalar_subquery())
    db.session.execute(sa.update(Adoption).where(Adoption.visit_id.in_(moved_visits))
                       .values(hamlet_id=target.id).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Visit).where(Visit.household_id.in_(household_ids), Visit.visited_on >= on)
                       .values(hamlet_id=target.id).execution_options(synchronize_session=False))
    # Their earlier visits stay where they were recorded, and count in the new hamlet from the date (the coverage
    # triggers move the tallies): those recorded in the hamlet left, and those an earlier change brought it.
    # Every earlier move of a household left all it had then in the hamlet it went to, so what each earlier move
    # brought is in the hamlet it leaves now: once per hamlet the events were recorded in.
    source_id = sa.literal(source.id)
    here = sa.select(Household.id, source_id, source_id, sa.literal(target.id), sa.literal(on)).where(
        Household.id.in_(household_ids))
    brought = sa.select(HouseholdMove.household_id, HouseholdMove.recorded_in_id, source_id, sa.literal(target.id),
                        sa.literal(on)).distinct().where(HouseholdMove.household_id.in_(household_ids),
                                                         HouseholdMove.recorded_in_id != source.id)
    db.session.execute(sa.insert(HouseholdMove).from_select(
        ["household_id", "recorded_in_id", "from_hamlet_id", "to_hamlet_id", "moved_on"], sa.union_all(here, brought)))


def last_move(household: Household) -> date | None:
    """The day the household last moved to another hamlet (by a merge, a split or by itself), if it ever did."""
    return db.session.scalar(sa.select(sa.func.max(HouseholdMove.moved_on))
                             .where(HouseholdMove.household_id == household.id))


def household_date_problem(household: Household, target: AdminUnit, on: date) -> str | None:
    """Why the household may not move to the hamlet from this date, or None: as a change of its hamlet and the
    target (date_problem), and not before its last move, so that its moves are read in order."""
    last = last_move(household)
    if last is not None and on < last:
        return _("This household last moved to another hamlet on %(date)s: give that date or a later one.",
                 date=locale_date(last))
    # Another household's moves do not order this one's.
    return date_problem([household.hamlet, target], on, households=False)


def lock_household_move(household: Household) -> None:
    """Before a household's move is checked: the lock a merge or a split of its commune's hamlets takes (the
    commune's, to the commit: units.operations.lock_unit), then the household's, in the order a merge takes them;
    the household and its hamlet read again under them. A merge or a split committed since the form was read is
    seen then, and one confirmed now waits for the move and sees it: the household never lands in a hamlet that has
    just ended, nor stays in one a merge did not find it in."""
    locked: set[int] = set()
    while household.hamlet.parent_id not in locked:  # again if a reorganization moved its hamlet meanwhile
        locked.add(household.hamlet.parent_id)
        unit_ops.lock_unit(household.hamlet.parent_id)
        db.session.refresh(household)
        db.session.refresh(household.hamlet)
    lock_households([household.id])


def ended_target_problem(household: Household, hamlet_id: int | None) -> str | None:
    """Why the household may not move into this hamlet of its commune, when a merge or a split ended it (since the
    form listed it, as a rule): where its households went, and from when. None for any other hamlet (one of another
    commune is not named)."""
    hamlet = db.session.get(AdminUnit, hamlet_id) if hamlet_id is not None else None
    if (hamlet is None or hamlet.level != "hamlet" or hamlet.retired_on is None
            or hamlet.parent_id != household.hamlet.parent_id):
        return None
    ending = endings_of([hamlet.id]).get(hamlet.id)
    if ending is None:
        return None
    names, day = ", ".join(u.name for u in ending.into), locale_date(ending.on)
    if ending.kind == "merge":
        return _("%(name)s was merged into %(names)s from %(date)s: choose again the hamlet the household moves to.",
                 name=hamlet.name, names=names, date=day)
    return _("%(name)s was split into %(names)s from %(date)s: choose again the hamlet the household moves to.",
             name=hamlet.name, names=names, date=day)


def move_household(household: Household, target: AdminUnit, on: date, user=None) -> AdminUnit:
    """Move one household to another hamlet of its commune from `on`, as a merge or a split moves its households:
    its visits from that day go with it, and its earlier ones count in `target` from then (HouseholdMove). Returns
    the hamlet it left."""
    # Checked under the locks a merge or a split takes, on what holds now: one committed since the form was read
    # has moved the household (and its last move) already, or ended the target.
    lock_household_move(household)
    db.session.refresh(target)
    source = household.hamlet
    if (target.level != "hamlet" or target.parent_id != source.parent_id or target.id == source.id
            or target.retired_on is not None or household.merged_into_id is not None):
        raise HamletChangeError(ended_target_problem(household, target.id)
                                or _("Choose another active hamlet of this commune."))
    problem = household_date_problem(household, target, on)
    if problem:
        raise HamletChangeError(problem)
    _move_households([household.id], source, target, on)
    record("move", "household", household.id, target.id, before={"hamlet_id": source.id},
           after={"hamlet_id": target.id, "effective_on": on.isoformat()}, user=user)
    db.session.expire(household)
    return source


@dataclass
class MoveDone:
    """A household's own move, as the page after it tells it: from where, to where, from when, and its visits from
    that day, which went with it."""
    source: AdminUnit
    target: AdminUnit
    on: date
    visits: int


def move_done(household: Household, source_id: int, on: date) -> MoveDone | None:
    """The household's move from `source_id` on `on`, if it is where that move took it (None otherwise: moved on
    since, or no such move)."""
    if household.merged_into_id is not None or not db.session.scalar(sa.select(sa.exists().where(
            HouseholdMove.household_id == household.id, HouseholdMove.from_hamlet_id == source_id,
            HouseholdMove.to_hamlet_id == household.hamlet_id, HouseholdMove.moved_on == on))):
        return None
    if last_move(household) != on:
        return None
    visits = db.session.scalar(sa.select(sa.func.count(Visit.id)).where(
        Visit.household_id == household.id, Visit.visited_on >= on, Visit.hamlet_id == household.hamlet_id))
    return MoveDone(db.session.get(AdminUnit, source_id), household.hamlet, on, visits)


def _extend_teams(source: AdminUnit, targets: list[AdminUnit]) -> None:
    """Teams that served the old hamlet serve its successors, so they still find its households."""
    teams = list(db.session.scalars(sa.select(team_hamlets.c.team_id).where(team_hamlets.c.hamlet_id == source.id)))
    for target in targets:
        have = set(db.session.scalars(sa.select(team_hamlets.c.team_id)
                                      .where(team_hamlets.c.hamlet_id == target.id)))
        rows = [{"team_id": t, "hamlet_id": target.id} for t in teams if t not in have]
        if rows:
            db.session.execute(team_hamlets.insert(), rows)


def _link(kind: str, on: date, source: AdminUnit, target: AdminUnit, moved: int, user,
          from_name: str | None = None) -> HamletChange:
    change = HamletChange(kind=kind, effective_on=on, commune_id=source.parent_id, from_unit_id=source.id,
                          to_unit_id=target.id, from_name=from_name or source.name, to_name=target.name,
                          households_moved=moved, recorded_by_id=user.id if user is not None else None)
    db.session.add(change)
    return change


def _check(hamlets: list[AdminUnit], on: date) -> None:
    commune_ids = {h.parent_id for h in hamlets}
    if any(h.level != "hamlet" or h.retired_on is not None for h in hamlets) or len(commune_ids) != 1:
        raise HamletChangeError(_("Only active hamlets of the same commune can be changed together."))
    problem = date_problem(hamlets, on)
    if problem:
        raise HamletChangeError(problem)


def merge_hamlets(source: AdminUnit, target: AdminUnit, on: date, households: int,
                  new_name: str | None = None, user=None) -> HamletChange:
    """Merge `source` into `target` from `on`: source ends the day before, its households move, the
    target counts `households` from that day (and takes `new_name` if given)."""
    if source.id == target.id:
        raise HamletChangeError(_("A hamlet cannot be merged into itself."))
    _check([source, target], on)
    ids = list(db.session.scalars(sa.select(Household.id).where(Household.hamlet_id == source.id,
                                                                Household.merged_into_id.is_(None))))
    source_count, source_adults = count_on(source, on), adults_on(source, on)
    adults = merged_adults(source, target, on)
    _move_households(ids, source, target, on)
    _extend_teams(source, [target])
    if new_name and new_name != target.name:
        rename_hamlet(target, new_name, on, user=user)
    unit_ops.retire_unit(source, on, user=user)
    unit_ops.set_household_count(target, households, on, user=user)
    if adults is not None:  # audited as any adult population is (set_adult_count)
        unit_ops.set_adult_count(target, adults, on, user=user)
    change = _link("merge", on, source, target, len(ids), user)
    record("merge", "unit", source.id, source.parent_id,
           before={"name": source.name, "households": source_count, "adults": source_adults},
           after={"merged_into": target.name, "effective_on": on, "households_moved": len(ids),
                  "households": households, "adults": adults}, user=user)
    return change


def split_hamlet(source: AdminUnit, on: date, parts: list[Part], assignment: dict[int, int],
                 user=None) -> list[AdminUnit]:
    """Split `source` from `on` into new hamlets, each household to the part `assignment` gives it
    (household id -> index in `parts`); every household must be given one."""
    _check([source], on)
    if len(parts) < 2:
        raise HamletChangeError(_("A split makes at least two hamlets."))
    households = [h.id for h in households_of(source)]
    unassigned = [h for h in households if assignment.get(h) not in range(len(parts))]
    if unassigned:
        raise HamletChangeError(_("%(n)d households are not assigned to a new hamlet.", n=len(unassigned)))
    source_count, source_adults = count_on(source, on), adults_on(source, on)
    adults = split_adults(source, on, [part.households for part in parts])
    made = []
    for i, part in enumerate(parts):
        hamlet = unit_ops.create_unit(part.name, "hamlet", source.parent, user=user)
        hamlet.valid_from, hamlet.kind = on, source.kind
        unit_ops.set_household_count(hamlet, part.households, on, user=user)
        if adults is not None:  # audited as any adult population is (set_adult_count)
            unit_ops.set_adult_count(hamlet, adults[i], on, user=user)
        ids = [h for h in households if assignment[h] == i]
        _move_households(ids, source, hamlet, on)
        _link("split", on, source, hamlet, len(ids), user)
        made.append(hamlet)
    _extend_teams(source, made)
    unit_ops.retire_unit(source, on, user=user)
    record("split", "unit", source.id, source.parent_id,
           before={"name": source.name, "households": source_count, "adults": source_adults},
           after={"split_into": ", ".join(h.name for h in made), "effective_on": on,
                  "households_moved": len(households), "households": [part.households for part in parts],
                  "adults": adults}, user=user)
    return made


def rename_hamlet(hamlet: AdminUnit, name: str, on: date, user=None) -> HamletChange:
    """The commune's official renaming from a date, kept in the hamlet's history."""
    _check([hamlet], on)
    before = hamlet.name
    unit_ops.rename_unit(hamlet, name, user=user)
    return _link("rename", on, hamlet, hamlet, 0, user, from_name=before)
