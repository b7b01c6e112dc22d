"""The map in time: which units stood where on a given day, and which units replaced which.

Read-only questions about the administrative tree's past, asked by the coverage pages, reports
and the API when they show a month "as the map was" (the units valid in that month, each under
the parent it had then) rather than on today's units. A unit's current parent is its parent_id;
unit_placements record where it hung before it moved; unit_successions link old units to new.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import orm

from app.dates import month_end, month_start
from app.extensions import db
from app.id_lists import chunks
from app.units.models import AdminUnit, Reorganization, UnitPlacement, UnitSuccession
from app.units.official import KIND_WORDS
from app.worker_memo import kept_under_tokens


def _placed_on(day: date):
    return sa.and_(sa.or_(UnitPlacement.valid_from.is_(None), UnitPlacement.valid_from <= day),
                   sa.or_(UnitPlacement.valid_to.is_(None), UnitPlacement.valid_to > day))


@dataclass
class MapOn:
    """A unit's subtree as it stood on a day: only units valid then, each under its parent then."""
    root: AdminUnit
    day: date
    units: dict[int, AdminUnit] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    parents: dict[int, int] = field(default_factory=dict)
    depths: dict[int, int] = field(default_factory=dict)

    def ids(self) -> list[int]:
        return list(self.units)

    def leaves_below(self, unit_id: int) -> list[int]:
        """The units with nothing below them on the day, under unit_id (itself if it has nothing)."""
        return _leaves_below(self.children, unit_id)


def _leaves_below(children, unit_id: int) -> list[int]:
    out, stack = [], [unit_id]
    while stack:
        u = stack.pop()
        kids = children.get(u)
        if kids:
            stack.extend(kids)
        else:
            out.append(u)
    return out



def map_on(root: AdminUnit, day: date) -> MapOn:
    """Load the units that stood under `root` on `day`: its current subtree, plus every unit placed
    under one of those on that day (a hamlet that has since moved into a new commune), with its own
    subtree, until nothing more is found. A reorganization places every hamlet it moved (a province:
    a thousand and more), so the placed units are asked for by id, a chunk at a time, and what is
    below them by parent, level by level (mostly nothing: they are hamlets)."""
    found: dict[int, AdminUnit] = {}
    new = list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.within(root))))
    while new:
        found.update({u.id: u for u in new})
        placed: list[AdminUnit] = []
        for chunk in chunks([u.id for u in new]):
            placed += db.session.scalars(
                sa.select(AdminUnit).join(UnitPlacement, UnitPlacement.unit_id == AdminUnit.id)
                .where(UnitPlacement.parent_id.in_(chunk), _placed_on(day))).all()
        new = list({u.id: u for u in placed if u.id not in found}.values())
        level = [u.id for u in new]
        while level:  # the placed units' own subtrees, as they are today
            below = [u for chunk in chunks(level)
                     for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id.in_(chunk)))
                     if u.id not in found]
            new += below
            level = [u.id for u in below]
    placements = {}
    for chunk in chunks(list(found)):
        for unit_id, parent_id in db.session.execute(
                sa.select(UnitPlacement.unit_id, UnitPlacement.parent_id)
                .where(UnitPlacement.unit_id.in_(chunk), _placed_on(day))):
            placements[unit_id] = parent_id
    result = MapOn(root=root, day=day, depths={root.id: 0})
    by_parent: dict[int, list[AdminUnit]] = defaultdict(list)
    for u in found.values():
        parent = placements.get(u.id)
        if parent is None:
            parent = u.parent_id
            # An area is today's grouping, not a step of the map's history (app/areas/operations.py): on a day
            # it did not stand, the communes it now groups hung under the unit above it.
            while parent in found and found[parent].level == "area" and not found[parent].valid_on(day):
                parent = found[parent].parent_id
        if u.id != root.id and parent is not None and u.valid_on(day):
            by_parent[parent].append(u)
    result.units[root.id] = root
    stack = [root.id]
    while stack:
        u = stack.pop()
        for child in by_parent.get(u, ()):
            if child.id in result.units:
                continue
            result.units[child.id] = child
            result.children[u].append(child.id)
            result.parents[child.id] = u
            result.depths[child.id] = result.depths[u] + 1
            stack.append(child.id)
    return result




@dataclass(frozen=True)
class MapShape:
    """map_on's tree as ids only: its root, each unit's children and parent on the day. Kept per worker
    and shared by every request that asks the same question: nothing changes one once made."""
    root_id: int
    children: dict[int, tuple[int, ...]]
    parents: dict[int, int]

    def holds(self, unit_id: int) -> bool:
        return unit_id == self.root_id or unit_id in self.parents

    def leaves_below(self, unit_id: int) -> list[int]:
        """As MapOn.leaves_below."""
        return _leaves_below(self.children, unit_id)


def shape_on(root: AdminUnit, day: date) -> MapShape:
    """The ids of `map_on(root, day)`, kept per worker under the tree token (app/coverage/rollup.py), which
    any change to the units or their placements replaces. An old-map page sums its leaves month by month:
    its trend built the map twelve times a request (the demo's Hậu Giang: ~40 ms each)."""
    from app.coverage.rollup import tree_token
    return _shape_on((tree_token(),), root.id, day)


@kept_under_tokens(maxsize=128)
def _shape_on(root_id: int, day: date) -> MapShape:
    tree = map_on(db.session.get(AdminUnit, root_id), day)
    return MapShape(root_id, {u: tuple(kids) for u, kids in tree.children.items()}, dict(tree.parents))

def held_on_last_day(unit: AdminUnit) -> tuple[str, ...]:
    """For a unit that has ended: the paths, as they are today, of what it held on its last day (the
    units with nothing below them on its map of that day; empty if it held nothing). Where they lie now
    decides who may still read it (app.scope.can_see_in_time), asked on every request for an old unit's
    page, its sections and the old units in its breadcrumbs. Kept per worker under the tree token
    (app/coverage/rollup.py), which any change to the units or their placements replaces: building an old
    province's map of a day reads every unit it held (~40 ms for the demo's Hậu Giang)."""
    from app.coverage.rollup import tree_token
    return _held_on_last_day((tree_token(),), unit.id, unit.last_day)


@kept_under_tokens(maxsize=1024)
def _held_on_last_day(unit_id: int, day: date) -> tuple[str, ...]:
    last = map_on(db.session.get(AdminUnit, unit_id), day)
    return tuple(last.units[u].path for u in last.leaves_below(unit_id) if u != unit_id)

def predecessors(unit: AdminUnit) -> list[tuple[AdminUnit, bool]]:
    """The units this one replaced in a reorganization, each with whether it was split."""
    rows = db.session.execute(
        sa.select(AdminUnit, UnitSuccession.split).join(UnitSuccession, UnitSuccession.old_unit_id == AdminUnit.id)
        .where(UnitSuccession.new_unit_id == unit.id).order_by(AdminUnit.name_folded, AdminUnit.id)).all()
    return [(u, split) for u, split in rows]


def successors(unit: AdminUnit) -> list[AdminUnit]:
    return list(db.session.scalars(
        sa.select(AdminUnit).join(UnitSuccession, UnitSuccession.new_unit_id == AdminUnit.id)
        .where(UnitSuccession.old_unit_id == unit.id).order_by(AdminUnit.name_folded, AdminUnit.id)))


def carried_on_by(unit: AdminUnit) -> list[AdminUnit]:
    """For a unit that has ended: where what it held is today, which a later plan may have moved on again. A
    commune: the communes standing today that hold the hamlets it held on its last day (held_on_last_day); any other
    unit, or a commune none of whose hamlets is under a standing commune: its successors today, through those a later
    plan ended in turn (successions_now)."""
    ids: set[int] = set()
    if unit.level == "commune":
        ids = {int(path.strip("/").split("/")[-2]) for path in held_on_last_day(unit) if path.count("/") > 2}
    standing = [u for u in (db.session.get(AdminUnit, i) for i in ids) if u.retired_on is None]
    if not standing:
        now = successions_now().subquery()
        standing = list(db.session.scalars(sa.select(AdminUnit).join(now, now.c.new_id == AdminUnit.id)
                                           .where(now.c.old_id == unit.id)))
    return sorted(standing, key=lambda u: (u.name_folded, u.id))


def successions_now() -> sa.Select:
    """(old_id, new_id): each unit a reorganization ended, with the units that carry it on today: its successors,
    and in place of one a later plan ended in turn, that one's (a commune reorganized twice goes on in its
    successor's successor). One recursive statement, to be used as a subquery."""
    chain = (sa.select(UnitSuccession.old_unit_id.label("old_id"), UnitSuccession.new_unit_id.label("new_id"))
             .cte("succession_chain", recursive=True))
    later = orm.aliased(UnitSuccession)
    chain = chain.union(sa.select(chain.c.old_id, later.new_unit_id).join(later, later.old_unit_id == chain.c.new_id))
    return sa.select(chain.c.old_id, chain.c.new_id).where(chain.c.new_id.not_in(sa.select(UnitSuccession.old_unit_id)))


def predecessors_on(unit: AdminUnit, day: date) -> list[tuple[AdminUnit, bool]]:
    """The units that stood for this one on `day`: itself if it was valid then, else its
    predecessors (and theirs, back to that day). `split` says one of them also went elsewhere."""
    out, seen, stack = [], set(), [(unit, False)]
    while stack:
        u, split = stack.pop()
        if u.id in seen:
            continue
        seen.add(u.id)
        if u.valid_on(day):
            out.append((u, split))
        elif u.valid_from is not None and day < u.valid_from:
            stack.extend((p, split or s) for p, s in predecessors(u))
    return sorted(out, key=lambda p: (p[0].name_folded, p[0].id))


@dataclass(frozen=True)
class BeforeNote:
    """"before 07/2025: Phường I, III, VII of Thành phố Vị Thanh": where a new unit's earlier figures come from."""
    until: date
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (the predecessors' parent's name, their names shortened)
    split: tuple[str, ...]                           # predecessors that also went to other units


def _kind_word(name: str) -> str | None:
    """The official kind a unit's name opens with ("Thị trấn Một Ngàn" -> "Thị trấn"), if any."""
    return next((k for k in KIND_WORDS if name.startswith(k + " ") and name[len(k) + 1:].strip()), None)


def _shorten(names: list[str]) -> list[str]:
    """["Phường I", "Phường III"] -> ["Phường I", "III"]: the kind is said once when all share it
    (a kind of two words, "Thị trấn", whole)."""
    kinds = {_kind_word(n) for n in names}
    if len(names) < 2 or len(kinds) != 1 or None in kinds:
        return names
    cut = len(kinds.pop()) + 1
    return [names[0]] + [n[cut:] for n in names[1:]]


@functools.cache
def _before_note_statement() -> sa.Select:
    """Built once, on first use (two aliases of the units cost more than the query; at import time
    the mappers they configure may not all be defined yet)."""
    old, parent = orm.aliased(AdminUnit), orm.aliased(AdminUnit)
    placed_then = _placed_on(sa.bindparam("day", type_=sa.Date))
    placed = (sa.select(UnitPlacement.parent_id).where(UnitPlacement.unit_id == old.id, placed_then)
              .limit(1).correlate(old).scalar_subquery())
    return (sa.select(old.name, UnitSuccession.split, parent.id, parent.name)
            .select_from(UnitSuccession).join(old, old.id == UnitSuccession.old_unit_id)
            .outerjoin(parent, parent.id == sa.func.coalesce(placed, old.parent_id))
            .where(UnitSuccession.new_unit_id == sa.bindparam("unit")).order_by(old.name_folded, old.id))


def before_note(unit: AdminUnit) -> BeforeNote | None:
    """For a unit made by a reorganization: its predecessors, grouped under their parents then (the
    parent a predecessor had the day before, from its placements if it moved). Kept per worker under
    the tree token (app/coverage/rollup.py), which any change to the units, their successions or
    placements replaces: every page of a reorganized unit shows the note."""
    if unit.valid_from is None:
        return None
    from app.coverage.rollup import tree_token
    return _read_before_note((tree_token(),), unit.id, unit.valid_from)


@kept_under_tokens(maxsize=2048)
def _read_before_note(unit_id: int, valid_from: date) -> BeforeNote | None:
    """One statement: a commune made of four old ones costs one round trip, not six."""
    rows = db.session.execute(_before_note_statement(), {"unit": unit_id, "day": valid_from - timedelta(days=1)}).all()
    if not rows:
        return None
    from app.text import sort_key
    parents: dict[int | None, list[str]] = defaultdict(list)
    names = {}
    for name, _split, parent_id, parent_name in rows:
        parents[parent_id].append(name)
        names[parent_id] = parent_name or ""
    groups = tuple((names[pid], tuple(_shorten(sorted(olds, key=sort_key))))
                   for pid, olds in sorted(parents.items(), key=lambda kv: sort_key(names[kv[0]])))
    return BeforeNote(until=valid_from, groups=groups, split=tuple(name for name, split, _p, _n in rows if split))


def replaced_ids(units: list[sa.Row | AdminUnit]) -> set[int]:
    """Among these units (each with id, path and retired_on), those a reorganization ended: the old
    units of its successions, and every unit of its province retired on its effective date (a
    district abolished has no successor). Today's map leaves them out: their figures went on
    with the hamlets they held, into the new units."""
    retired = [u for u in units if u.retired_on is not None]
    if not retired:
        return set()
    ids = [u.id for u in retired]
    out = set(db.session.scalars(sa.select(UnitSuccession.old_unit_id).where(UnitSuccession.old_unit_id.in_(ids))))
    reorganized = db.session.execute(
        sa.select(Reorganization.effective_on, AdminUnit.path)
        .join(AdminUnit, AdminUnit.id == Reorganization.province_id)).all()
    for u in retired:
        if any(u.retired_on == on and AdminUnit.path_within(u.path, path) for on, path in reorganized):
            out.add(u.id)
    return out


def bearers_in_month(code: str, year: int, month: int, today: bool = False) -> list[AdminUnit]:
    """The units that bore a code in a month, the bearer at the month's end first (a code handed
    over mid-month), then the latest; with `today`, the unit bearing it now whatever the month."""
    start, end = month_start(year, month), month_end(year, month)
    q = sa.select(AdminUnit).where(AdminUnit.code == code)
    if today:
        q = q.where(AdminUnit.retired_on.is_(None))
    else:
        q = q.where(sa.or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= end),
                    sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > start))
    return sorted(db.session.scalars(q), reverse=True, key=lambda u: (u.valid_on(end), u.valid_from or date.min, u.id))


def last_counted_month(unit: AdminUnit) -> tuple[int, int] | None:
    """For a unit that has ended: the last month it stood at the end of. A month is counted at its end,
    so a unit that ended during a month (a reorganization effective on the 15th) was last counted the
    month before."""
    if unit.retired_on is None:
        return None
    last_day = unit.last_day
    if last_day == month_end(last_day.year, last_day.month):
        return last_day.year, last_day.month
    first = last_day.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def same_map_since(unit: AdminUnit, on: date) -> bool:
    """Nothing under the unit (itself included) began after `on`, ended, or hung elsewhere on `on`
    than it does today: its subtree on `on` is its subtree today. One statement, which stops at the
    first change it finds; kept per worker under the tree token (app/coverage/rollup.py), which any
    change to the units or their placements replaces (its prepared, generic plan cannot use the path
    index: it read every unit of the database, 10,170 on the city seed, 0.75 ms)."""
    from app.coverage.rollup import tree_token
    return _same_map_since((tree_token(),), unit.path, on)


@kept_under_tokens(maxsize=4096)
def _same_map_since(path: str, on: date) -> bool:
    """The question for the subtree at `path` (a unit's path names it)."""
    below = orm.aliased(AdminUnit)
    later = sa.or_(UnitPlacement.valid_to.is_(None), UnitPlacement.valid_to > on)
    changed = [
        # A unit that began after the day, or has ended (on whatever day: the plain way decides).
        sa.select(AdminUnit.id).where(AdminUnit.within(path),
                                      sa.or_(AdminUnit.valid_from > on, AdminUnit.retired_on.isnot(None))),
        # A unit below today that hung elsewhere on the day, or one that hung below then and has moved.
        sa.select(UnitPlacement.id).join(below, below.id == UnitPlacement.unit_id).where(below.within(path), later),
        sa.select(UnitPlacement.id).join(below, below.id == UnitPlacement.parent_id).where(below.within(path), later),
    ]
    return not any(db.session.execute(sa.select(*(sa.exists(q) for q in changed))).one())


# --- A commune's own figures across a reorganization ---------------------------------------------
# One-stop-centre shifts and the dossier totals are a commune's, not a hamlet's: they cannot follow hamlets
# into the new communes. On today's map an old commune's go on under one new commune: the one it went into
# whole, or for a split commune its main successor; as the map was they stay the old commune's.

def commune_heirs() -> dict[int, tuple[int, ...]]:
    """Each commune a reorganization ended -> the new communes that carry its own figures on today's map, its
    heir first, then its heir's heir (a commune reorganized twice). Kept per worker under the tree token
    (app/coverage/rollup.py), which any change to the units or their successions replaces."""
    from app.coverage.rollup import tree_token
    return _commune_heirs((tree_token(),))


def main_successor(successors: list[tuple[int, str | None, int]], old_code: str | None) -> int:
    """Of a split commune's successors (id, code, hamlets it took), the main one: the one that took its code, else
    the one that took most of its hamlets, else the first by code (so each old commune has one, and a province's
    total counts its figures once)."""
    return min(successors, key=lambda s: (s[1] != old_code or not old_code, -s[2], s[1] or "", s[0]))[0]


@kept_under_tokens(maxsize=4)
def _commune_heirs() -> dict[int, tuple[int, ...]]:
    from app.coverage.models import UnitAncestor
    old, new = orm.aliased(AdminUnit), orm.aliased(AdminUnit)
    rows = db.session.execute(
        sa.select(UnitSuccession.old_unit_id, old.code, old.retired_on, UnitSuccession.new_unit_id, new.code)
        .join(old, old.id == UnitSuccession.old_unit_id).join(new, new.id == UnitSuccession.new_unit_id)
        .where(old.level == "commune", new.level == "commune")).all()
    by_old: dict[int, list] = defaultdict(list)
    for old_id, old_code, retired_on, new_id, new_code in rows:
        by_old[old_id].append((old_code, retired_on, new_id, new_code))
    split = [old_id for old_id, succ in by_old.items() if len(succ) > 1]
    # The hamlets each part of a split commune took: placed under it until the day, below the part since.
    took: dict[tuple[int, int], int] = {}
    for chunk in chunks(split):
        for parent_id, new_id, n in db.session.execute(
                sa.select(UnitPlacement.parent_id, UnitAncestor.ancestor_id, sa.func.count())
                .join(UnitAncestor, UnitAncestor.unit_id == UnitPlacement.unit_id)
                .join(UnitSuccession, sa.and_(UnitSuccession.old_unit_id == UnitPlacement.parent_id,
                                              UnitSuccession.new_unit_id == UnitAncestor.ancestor_id))
                .join(old, old.id == UnitPlacement.parent_id)
                .where(UnitPlacement.parent_id.in_(chunk), UnitPlacement.valid_to == old.retired_on)
                .group_by(UnitPlacement.parent_id, UnitAncestor.ancestor_id)):
            took[(parent_id, new_id)] = n
    heir: dict[int, int] = {}
    for old_id, succ in by_old.items():
        if len(succ) == 1:
            heir[old_id] = succ[0][2]
        else:
            heir[old_id] = main_successor([(new_id, code, took.get((old_id, new_id), 0))
                                           for _c, _r, new_id, code in succ], succ[0][0])
    out = {}
    for old_id in heir:
        chain, u = [], old_id
        while u in heir and heir[u] not in chain:
            u = heir[u]
            chain.append(u)
        out[old_id] = tuple(chain)
    return out


@dataclass(frozen=True)
class CommuneFiguresNote:
    """Where a new commune's shifts and dossier totals before `until` come from on today's map: the old communes
    counted here (`here`, the split ones among them in `split_here`), and the split ones counted elsewhere, by the
    commune they count under (named with its code when an old one bore its name)."""
    until: date
    here: tuple[str, ...]
    split_here: tuple[str, ...]
    elsewhere: tuple[tuple[str, tuple[str, ...]], ...]


def commune_figures_note(unit: AdminUnit) -> CommuneFiguresNote | None:
    """For a commune made by a reorganization (None otherwise)."""
    if unit.level != "commune" or unit.valid_from is None:
        return None
    olds = predecessors(unit)
    if not olds:
        return None
    from app.text import sort_key
    heirs = commune_heirs()
    here, split_here = [], []
    elsewhere: dict[int, list[str]] = defaultdict(list)
    for old, split in olds:
        chain = heirs.get(old.id, ())
        if chain and chain[0] == unit.id:
            here.append(old.name)
            if split:
                split_here.append(old.name)
        elif chain:
            elsewhere[chain[0]].append(old.name)
    named = []
    for heir_id, names in elsewhere.items():
        heir = db.session.get(AdminUnit, heir_id)
        label = f"{heir.name} ({heir.code})" if heir.code and heir.name in names else heir.name
        named.append((label, tuple(sorted(names, key=sort_key))))
    return CommuneFiguresNote(until=unit.valid_from, here=tuple(sorted(here, key=sort_key)),
                              split_here=tuple(sorted(split_here, key=sort_key)),
                              elsewhere=tuple(sorted(named, key=lambda n: sort_key(n[0]))))
