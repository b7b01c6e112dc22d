"""Coverage "as the map was": a month's figures on the units valid then, each under its parent then.

The plain way, from the leaves: a unit's figure in a month is the sum of the tallies and household
counts of the units that stood below it with nothing below them (hamlets, as a rule) on that
month's last day. Exact, since visits hang on households in hamlets and hamlets move whole. Today's
map (app.coverage.queries) reads each unit's own running tallies instead.

A unit not yet valid in the month stands for the units it replaced (its predecessors then); a
unit no longer valid in it has no figures.

Fast path: a unit under which nothing began, ended or moved since the month is on the same map then
as today, so its figures are today's map's (`coverage`, `monthly_series`: each unit's own running
tallies); faster than summing every leaf's tallies, which read all of a city's 10,000 hamlets for its
page. tests/test_maps_fast.py holds both ways to the same figures; bench/README.md ("Fast paths").
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.coverage.models import CoverageTally
from app.coverage.queries import (
    REACH,
    CoverageMonth,
    CoverageRow,
    CoverageTable,
    ServiceFigure,
    coverage,
    month_key,
    monthly_series,
    services_and_targets,
)
from app.dates import month_end
from app.extensions import db
from app.id_lists import chunks
from app.units.history import predecessors_on, same_map_since, shape_on
from app.units.models import AdminUnit, HamletChange, HouseholdCount


@dataclass
class ThenTable:
    """A month as the map was: the table, or None when the unit had no figures then, and the units
    that stood for the unit in that month when it did not exist yet (its predecessors)."""
    table: CoverageTable | None
    stand_ins: list[tuple[AdminUnit, bool]]


def _leaf_figures(leaves: list[int], on: date) -> tuple[dict[int, dict[int, int]], dict[int, int]]:
    """Per leaf: its tallies up to the month of `on` and its household count in effect on `on`."""
    tallies: dict[int, dict[int, int]] = {u: defaultdict(int) for u in leaves}
    households: dict[int, int] = dict.fromkeys(leaves, 0)
    t = CoverageTally.__table__.c
    for chunk in chunks(leaves):
        for unit_id, service_id, n in db.session.execute(
                sa.select(t.unit_id, t.service_id, sa.func.sum(t.households))
                .where(t.unit_id.in_(chunk), t.month <= month_key(on.year, on.month))
                .group_by(t.unit_id, t.service_id)):
            tallies[unit_id][service_id] += int(n or 0)
        for unit_id, _day, n in _dated_counts(chunk, on):
            households[unit_id] = n  # the latest count in effect wins
    return tallies, households


def _dated_counts(leaves: list[int], upto: date):
    """The leaves' household counts in effect from a day up to `upto`: (unit, effective day, households),
    the earliest first."""
    return db.session.execute(
        sa.select(HouseholdCount.unit_id, HouseholdCount.effective_on, HouseholdCount.households)
        .where(HouseholdCount.unit_id.in_(leaves), HouseholdCount.effective_on <= upto)
        .order_by(HouseholdCount.effective_on))



def _row(unit: AdminUnit, leaves: list[int], tallies, households, services, targets) -> CoverageRow:
    total = sum(households[leaf] for leaf in leaves)
    tally: dict[int, int] = defaultdict(int)
    for leaf in leaves:
        for key, n in tallies[leaf].items():
            tally[key] += n
    return _summed_row(unit, total, tally, services, targets)


def _summed_row(unit: AdminUnit, total: int, tally: dict[int, int], services, targets) -> CoverageRow:
    """A row of its households and its tally ({service id or REACH: households}), summed already."""
    figures = {}
    for s in services:
        target = targets.get(s.id)
        n = tally.get(s.id, 0)
        figures[s.code] = ServiceFigure(service=s, adopted=n, share=n / total if total else None,
                                        target_share=float(target.share) if target else None,
                                        target_date=target.due_on if target else None)
    return CoverageRow(households=total, reached=tally.get(REACH, 0), services=figures, unit=unit)


def _table(unit: AdminUnit, rows_of: list[tuple[AdminUnit, list[int]]], on: date,
           total_leaves: list[int], ended: frozenset[int] = frozenset()) -> CoverageTable:
    """`ended`: leaves that no longer stood on `on` (carried hamlets), whose tallies count but households do not."""
    services, targets = services_and_targets(unit, on)
    leaves = sorted(set(total_leaves) | {leaf for _u, ls in rows_of for leaf in ls})
    tallies, households = _leaf_figures(leaves, on)
    for leaf in ended:
        households[leaf] = 0
    rows = [_row(u, ls, tallies, households, services, targets) for u, ls in rows_of]
    rows.sort(key=lambda r: (r.unit.name_folded, r.unit.id))
    return CoverageTable(unit=unit, on=on, services=services, rows=rows,
                         total=_row(unit, total_leaves, tallies, households, services, targets))


def coverage_then(unit: AdminUnit, on: date) -> ThenTable:
    """The unit's children valid on `on`, each under the parent it had then, with their figures."""
    if unit.valid_on(on):
        if unit.level == "hamlet" or same_map_since(unit, on):
            return ThenTable(coverage(unit, on), [])
        return ThenTable(coverage_from_leaves(unit, on), [])
    stand_ins = predecessors_on(unit, on)
    if not stand_ins:
        return ThenTable(None, [])
    rows = [(old, shape_on(old, on).leaves_below(old.id)) for old, _split in stand_ins]
    return ThenTable(_table(unit, rows, on, sorted({leaf for _u, ls in rows for leaf in ls})), stand_ins)


def coverage_from_leaves(unit: AdminUnit, on: date) -> CoverageTable:
    """The plain way for a unit valid on `on`: its children then, each the sum of its leaves then."""
    tree = shape_on(unit, on)
    carried = _carried_on(tree, on)

    def counted(unit_id: int) -> list[int]:
        """Its leaves then, and the carried hamlets of its communes then."""
        return tree.leaves_below(unit_id) + [h for h, c in carried.items() if _at_or_below(tree, c, unit_id)]
    kid_ids = tree.children.get(unit.id, ())
    kids = list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(kid_ids)))) if kid_ids else []
    rows = [(k, counted(k.id)) for k in kids]
    return _table(unit, rows, on, counted(unit.id), frozenset(carried))


def _carried_on(tree, on: date) -> dict[int, int]:
    """{hamlet: its commune} of the hamlets a merge or a split ended by `on` in the communes of the map: their
    visits before the change count in the commune and above, in no row (as on today's map: coverage's carried)."""
    out: dict[int, int] = {}
    for chunk in chunks([tree.root_id, *tree.parents]):
        out.update(db.session.execute(
            sa.select(HamletChange.from_unit_id, HamletChange.commune_id).distinct()
            .join(AdminUnit, AdminUnit.id == HamletChange.from_unit_id)
            .where(HamletChange.kind.in_(("merge", "split")), HamletChange.commune_id.in_(chunk),
                   AdminUnit.retired_on <= on)).all())
    return out


def _at_or_below(tree, unit_id: int, top: int) -> bool:
    while unit_id is not None:
        if unit_id == top:
            return True
        unit_id = tree.parents.get(unit_id)
    return False


def series_then(unit: AdminUnit, months: list[tuple[int, int]]) -> list[CoverageMonth | None]:
    """The unit's figures month by month as the map was (its predecessors' before it existed);
    None for a month it no longer existed in."""
    if months and unit.retired_on is None and same_map_since(unit, month_end(*min(months))):
        return monthly_series(unit, months)
    return series_from_leaves(unit, months)


def series_from_leaves(unit: AdminUnit, months: list[tuple[int, int]]) -> list[CoverageMonth | None]:
    """The plain way: each month, the sum of the leaves below the unit (or its predecessors) then.

    The months that have the same leaves (all those before a reform, as a rule) are summed together:
    their tallies month by month and their household counts, each read once and summed over the
    leaves in SQL, then added up month by month (a province's twelve months on the old map read
    each of its thousand hamlets' tallies twelve times, one row per hamlet and service: 1.6 s)."""
    services, _targets = services_and_targets(unit)
    plan: list[tuple[tuple[int, int], date, tuple[tuple[int, ...], tuple[int, ...]]]] = []
    for year, month in months:
        on = month_end(year, month)
        carried: set[int] = set()
        if unit.level == "hamlet" and unit.valid_on(on):
            leaves = {unit.id}
        elif unit.valid_on(on):
            tree = shape_on(unit, on)
            leaves = set(tree.leaves_below(unit.id))
            # As coverage_from_leaves counts them: the hamlets a merge or a split ended, tallies without households.
            carried = {h for h, c in _carried_on(tree, on).items() if _at_or_below(tree, c, unit.id)} - leaves
        else:
            leaves = {leaf for old, _s in predecessors_on(unit, on) for leaf in shape_on(old, on).leaves_below(old.id)}
        plan.append(((year, month), on, (tuple(sorted(leaves)), tuple(sorted(carried)))))
    same_leaves: dict[tuple[tuple[int, ...], tuple[int, ...]], list[date]] = defaultdict(list)
    for _month, on, leaves in plan:
        same_leaves[leaves].append(on)
    summed = {(leaves, on): figures for leaves, days in same_leaves.items()
              for on, figures in _summed_by_month(list(leaves[0]), days, list(leaves[1])).items()}
    out: list[CoverageMonth | None] = []
    for (year, month), on, leaves in plan:
        if not leaves[0] and not unit.valid_on(on):
            out.append(None)
            continue
        households, tally = summed[(leaves, on)]
        # Each month against the target milestone in force at its end.
        targets = services_and_targets(unit, on)[1]
        out.append(CoverageMonth(year, month, on, _summed_row(unit, households, tally, services, targets)))
    return out


def _summed_by_month(leaves: list[int], days: list[date],
                     ended: list[int] = ()) -> dict[date, tuple[int, dict[int, int]]]:
    """For each day (a month's end), the leaves' households (each leaf's count in effect then) and their
    tallies up to that month ({service id or REACH: households}), summed over the leaves; `ended` (carried
    hamlets) add their tallies only."""
    if not leaves and not ended:
        return {on: (0, {}) for on in days}
    last = max(days)
    t = CoverageTally.__table__.c
    by_month: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for chunk in chunks([*leaves, *ended]):
        for month, service_id, n in db.session.execute(
                sa.select(t.month, t.service_id, sa.func.sum(t.households))
                .where(t.unit_id.in_(chunk), t.month <= month_key(last.year, last.month))
                .group_by(t.month, t.service_id)):
            by_month[month][service_id] += int(n or 0)
    for chunk in chunks(leaves):
        for unit_id, effective_on, n in _dated_counts(chunk, last):
            counts[unit_id].append((effective_on, n))
    out = {}
    for on in days:
        key = month_key(on.year, on.month)
        tally: dict[int, int] = defaultdict(int)
        for month, per_service in by_month.items():
            if month <= key:
                for service_id, n in per_service.items():
                    tally[service_id] += n
        # Each leaf's latest count in effect on the day, as _leaf_figures reads it.
        households = sum(next((n for day, n in reversed(dated) if day <= on), 0) for dated in counts.values())
        out[on] = (households, tally)
    return out
