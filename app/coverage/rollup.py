"""The household counts rolled up through the administrative tree, and each worker's cache of them.

Fast path: LiveSubtree sums the leaves' count changes per ancestor in SQL and keeps the result in this
worker's memory under a token the triggers replace; faster than Subtree, which loads every unit of the
subtree and its counts and walks them in Python (kept for subtrees with a retired unit, whose shape
changes from date to date). tests/test_rollup.py holds both equal to a plain sum of the leaves' counts;
bench/README.md ("Fast paths") has the figures.
"""
from __future__ import annotations

import functools
from bisect import bisect_right
from collections import defaultdict
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa

from app.coverage.models import ADULT_ACTIVITY, HOUSEHOLD_COUNTS, CacheToken, UnitAncestor
from app.extensions import db
from app.id_lists import chunks
from app.request_memo import per_request, remember
from app.units.models import AdminUnit, AdultCount, HouseholdCount, UnitPlacement
from app.worker_memo import kept_under_tokens


def _is_counted(retired_on: date | None, on: date) -> bool:
    return retired_on is None or retired_on > on


class Subtree:
    """The units below some roots, loaded once, with their household counts over time."""

    def __init__(self, roots: list[AdminUnit]):
        self.units: dict[int, sa.Row] = {}
        self._memo: dict[tuple[int, date], int] = {}
        self._timelines: dict[int, tuple[list[date], list[int]]] = {}
        self.any_retired = False
        if not roots:
            self.counts = {}
            self.children = {}
            return
        cond = sa.or_(*[AdminUnit.within(r) for r in roots])
        for row in db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.path,
                                                AdminUnit.retired_on, AdminUnit.level, AdminUnit.valid_from)
                                      .where(cond)):
            self.units[row.id] = row
        # Today's map below a unit valid today: units a reorganization ended are left out with
        # everything below them (their hamlets' figures went on in the new units), so a kept province
        # does not count them twice. Below an ended unit they stay: that is the map as it was.
        from app.units.history import replaced_ids
        gone = [] if any(r.retired_on is not None for r in roots) else [
            self.units[u].path for u in replaced_ids(list(self.units.values()))]
        if gone:
            self.units = {u: row for u, row in self.units.items()
                          if not any(AdminUnit.path_within(row.path, g) for g in gone)}
        self.any_retired = any(row.retired_on is not None for row in self.units.values())
        self.children: dict[int, list[int]] = defaultdict(list)
        for row in self.units.values():
            if row.parent_id in self.units:
                self.children[row.parent_id].append(row.id)
        # Units that hung here before a reorganization moved them (hamlets, moved whole): counted
        # under their former parent until the day they left, as the map then was.
        self.former: dict[int, list[tuple[int, date | None, date | None]]] = defaultdict(list)
        unit_ids = sa.select(AdminUnit.id).where(cond)
        placed = db.session.execute(sa.select(UnitPlacement.unit_id, UnitPlacement.parent_id, UnitPlacement.valid_from,
                                              UnitPlacement.valid_to).where(UnitPlacement.parent_id.in_(unit_ids))).all()
        for unit_id, parent_id, valid_from, valid_to in placed:
            self.former[parent_id].append((unit_id, valid_from, valid_to))
        moved_in = [p.unit_id for p in placed if p.unit_id not in self.units]
        for ids in chunks(moved_in):
            for row in db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.path,
                                                    AdminUnit.retired_on, AdminUnit.level, AdminUnit.valid_from)
                                          .where(AdminUnit.id.in_(ids))):
                self.units[row.id] = row
        self.any_retired = self.any_retired or bool(placed)
        self.carried = _ended_by_change([u for u, row in self.units.items()
                                         if row.retired_on is not None and row.level == "hamlet"])
        # Every count of every unit in the subtree, oldest first; a few per unit.
        self.counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for ids in [unit_ids, *chunks(moved_in)]:
            for unit_id, effective_on, households in db.session.execute(
                    sa.select(HouseholdCount.unit_id, HouseholdCount.effective_on, HouseholdCount.households)
                    .where(HouseholdCount.unit_id.in_(ids)).order_by(HouseholdCount.effective_on)):
                self.counts[unit_id].append((effective_on, households))

    def active_children(self, unit_id: int, on: date) -> list[int]:
        """The units below unit_id counted on `on`: not ended by then, and no hamlet before its first day."""
        kids = [c for c in self.children.get(unit_id, ()) if self._stood(c, on)]
        return kids + [c for c, start, end in self.former.get(unit_id, ())
                       if (start is None or start <= on) and (end is None or on < end) and self._stood(c, on)]

    def _stood(self, unit_id: int, on: date) -> bool:
        # A hamlet a split made did not exist before its day: no row of an earlier month. A reorganization's
        # new communes do stand back in time: today's map, their hamlets' figures before the reform.
        row = self.units[unit_id]
        begun = row.level != "hamlet" or row.valid_from is None or row.valid_from <= on
        return begun and _is_counted(row.retired_on, on)

    def retired_ids(self) -> list[int]:
        """Units retired below whose records no longer count from their end (not those a merge or split ended)."""
        return [u for u, row in self.units.items() if row.retired_on is not None and u not in self.carried]

    def carried_children(self, unit_id: int, on: date) -> list[int]:
        """unit_id's hamlets a merge or a split ended on or before `on`: shown in no row, counted in its total."""
        return [c for c in self.children.get(unit_id, ()) if c in self.carried
                and not _is_counted(self.units[c].retired_on, on)]

    def households(self, unit_id: int, on: date) -> int:
        if not self.any_retired:
            dates, totals = self._timeline(unit_id)
            i = bisect_right(dates, on)
            return totals[i - 1] if i else 0
        # Memoised: a province page asks for every level of a 1,000-hamlet tree for 13 dates.
        key = (unit_id, on)
        if key in self._memo:
            return self._memo[key]
        kids = self.active_children(unit_id, on)
        if kids:
            value = sum(self.households(k, on) for k in kids)
        else:
            value = 0
            for effective_on, households in self.counts.get(unit_id, ()):
                if effective_on > on:
                    break
                value = households
        self._memo[key] = value
        return value

    def _timeline(self, unit_id: int) -> tuple[list[date], list[int]]:
        """With no retired unit the tree never changes shape: a unit's households over time are one
        running sum of its leaves' count changes, so each date is a binary search."""
        if unit_id not in self._timelines:
            deltas: dict[date, int] = defaultdict(int)
            stack = [unit_id]
            while stack:
                u = stack.pop()
                kids = self.children.get(u)
                if kids:
                    stack.extend(kids)
                    continue
                previous = 0
                for effective_on, households in self.counts.get(u, ()):
                    deltas[effective_on] += households - previous
                    previous = households
            dates = sorted(deltas)
            totals, running = [], 0
            for d in dates:
                running += deltas[d]
                totals.append(running)
            self._timelines[unit_id] = (dates, totals)
        return self._timelines[unit_id]

    def excluded_below(self, unit_id: int, on: date) -> list[int]:
        """Topmost units under unit_id retired on or before `on`: their records no longer count. A hamlet a merge
        or a split ended is not one of them: its households went on in the commune's other hamlets, and its
        visits before the change stay its own (app/units/hamlet_changes.py), so they count on above it."""
        if not self.any_retired:
            return []
        out = []
        stack = list(self.children.get(unit_id, ()))
        while stack:
            u = stack.pop()
            if u in self.carried:
                continue
            if _is_counted(self.units[u].retired_on, on):
                stack.extend(self.children.get(u, ()))
            else:
                out.append(u)
        return out


class LiveSubtree:
    """A subtree none of whose units is retired, with household counts rolled up in SQL.

    Same figures as Subtree's no-retirement path (a unit's households are the sum of its leaves'
    counts in effect), but the leaves' count changes are summed per ancestor by the database through
    unit_ancestors, so a province page reads a few dozen rows instead of its 1,000-hamlet tree.
    """

    def __init__(self, root: AdminUnit, children: Children, token: int | None = None):
        self.root = root
        self.token = token
        # The children as (id, name, name_folded, level, path) rows, not units, and their name order: a
        # page shows 20 of them (a city's province has 168 communes); no unit object made for any.
        self.child_rows = children.by_id
        self._children = children
        self._timelines: dict[int, tuple[list[date], list[int]]] = {}

    def children_by_name(self, descending: bool = False) -> tuple[int, ...]:
        """The root's children's ids in the pages' name order (app.text.by_name)."""
        return self._children.by_name_descending if descending else self._children.by_name

    @property
    def rows_by_name(self) -> tuple[sa.Row, ...]:
        """The root's children's rows in the pages' name order."""
        return self._children.rows_by_name

    def active_children(self, unit_id: int, on: date) -> list[int]:
        return list(self._children.ids) if unit_id == self.root.id else []

    def excluded_below(self, unit_id: int, on: date) -> list[int]:
        return []

    def retired_ids(self) -> list[int]:
        return []

    def carried_children(self, unit_id: int, on: date) -> list[int]:
        return []

    def households(self, unit_id: int, on: date) -> int:
        """The root's or a child's households on `on` (a page asks for nothing else)."""
        timeline = self._timelines.get(unit_id)
        if timeline is None:
            # Their running totals, kept under the tree token, the root's (nothing retired below it) the
            # sum of the children's.
            timeline = _count_timelines_of((self.token,), self.root.id, self._children.ids)[unit_id]
            self._timelines[unit_id] = timeline
        dates, totals = timeline
        i = bisect_right(dates, on)
        return totals[i - 1] if i else 0


def _ended_by_change(hamlet_ids: list[int]) -> set[int]:
    """Those of the (retired) hamlets that a merge or a split ended (app.units.operations.ended_by_change)."""
    from app.units.models import HamletChange
    out: set[int] = set()
    for ids in chunks(hamlet_ids):
        out.update(db.session.scalars(sa.select(HamletChange.from_unit_id).where(
            HamletChange.from_unit_id.in_(ids), HamletChange.kind.in_(("merge", "split")))))
    return out


def _read_count_deltas(unit_ids: tuple[int, ...]) -> dict[int, list[tuple[date, int]]]:
    """Per unit, its leaves' count changes: (date, new count − the leaf's previous count)."""
    out: dict[int, list[tuple[date, int]]] = {u: [] for u in unit_ids}
    for chunk in chunks(list(unit_ids)):
        for unit_id, effective_on, delta in db.session.execute(_COUNT_DELTAS, {"units": chunk}):
            out[unit_id].append((effective_on, int(delta)))
    return out


# Household counts change a few times a year; every coverage page and trend reads them (a province
# page: every leaf's count history): kept under the tree token, which any count change replaces.
@kept_under_tokens(maxsize=1024)
def _count_timelines_of(root_id: int, children: tuple[int, ...]) -> dict[int, tuple[list[date], list[int]]]:
    """(dates, households from each date) of a unit's children and of the unit, which is their sum (no
    unit below it retired; a unit without children is its own leaf): made once per worker and token, not
    per request (a city's province page summed its 168 communes' count changes on every request)."""
    deltas = _read_count_deltas(children or (root_id,))
    timelines = {u: _running(entries) for u, entries in deltas.items()}
    timelines[root_id] = _running([d for u in (children or (root_id,)) for d in deltas[u]])
    return timelines


def _leaf_deltas(table: sa.Table, column: str, alias: str, current_ancestors_only: bool = False) -> sa.Select:
    """Each leaf's count changes (`table.column`, dated by effective_on) summed per ancestor and date
    (Core columns: no ORM per call). `current_ancestors_only`: today's ancestors, not former ones."""
    c, prev = table.alias(alias), table.alias("prev")
    units, ancestors = AdminUnit.__table__.c, UnitAncestor.__table__.c
    previous = (sa.select(prev.c[column])
                .where(prev.c.unit_id == c.c.unit_id, prev.c.effective_on < c.c.effective_on)
                .order_by(prev.c.effective_on.desc()).limit(1).scalar_subquery())
    is_leaf = ~sa.exists().where(units.parent_id == c.c.unit_id)
    conditions = [ancestors.ancestor_id.in_(sa.bindparam("units", expanding=True)), is_leaf]
    if current_ancestors_only:
        conditions.append(ancestors.until.is_(None))
    return (sa.select(ancestors.ancestor_id, c.c.effective_on, sa.func.sum(c.c[column] - sa.func.coalesce(previous, 0)))
            .join_from(UnitAncestor.__table__, c, c.c.unit_id == ancestors.unit_id)
            .where(*conditions)
            .group_by(ancestors.ancestor_id, c.c.effective_on))


_COUNT_DELTAS = _leaf_deltas(HouseholdCount.__table__, "households", "hc")  # built once


def _running(entries: list[tuple[date, int]]) -> tuple[list[date], list[int]]:
    """(dates, totals) from count changes, so a date's total is one binary search."""
    by_date: dict[date, int] = defaultdict(int)
    for day, delta in entries:
        by_date[day] += delta
    dates = sorted(by_date)
    totals, running = [], 0
    for day in dates:
        running += by_date[day]
        totals.append(running)
    return dates, totals


def _retired_below() -> sa.Select:
    # Over the retired units' own index (by path), so it reads the retired units under the page,
    # none usually, and in a prepared statement's generic plan at worst every retired unit: never the
    # whole subtree, as the join through unit_ancestors did once PostgreSQL stopped planning it per unit.
    units = AdminUnit.__table__.c
    return (sa.select(sa.literal(1)).select_from(AdminUnit.__table__)
            .where(AdminUnit.within(sa.bindparam("path")), units.retired_on.isnot(None)).limit(1))


# Built once: the statements' construction cost more than running them.
_RETIRED_BELOW = _retired_below()
_TOKENS = sa.select(CacheToken.name, CacheToken.token)
_UNITS = AdminUnit.__table__.c
_CHILDREN_AND_RETIRED = (sa.select(_UNITS.id, _UNITS.name, _UNITS.name_folded, _UNITS.level, _UNITS.path,
                                   _RETIRED_BELOW.exists().label("retired"))
                         .where(_UNITS.parent_id == sa.bindparam("unit")))


def _tokens() -> dict[str, int]:
    """Every cache token (a few rows), read once per request and before anything kept under one is:
    the triggers replace a token in the transaction that changes what is kept under it, so a result
    read after its token and kept under it is never older than the token says. A signed-in user's
    request has them already: the user loader reads them first (`read_tokens`)."""
    return per_request("cache_tokens", lambda: dict(db.session.execute(_TOKENS).all()))


def token(name: str) -> int | None:
    """The request's token `name` (None before its first: what is kept under it is then read every time)."""
    return _tokens().get(name)


@functools.cache
def _joined_tokens(dialect: str) -> sa.Select:
    """Every cache token as one text, name=token,…: one row and one column (built once per database)."""
    pairs = CacheToken.name + "=" + sa.cast(CacheToken.token, sa.Text)
    joined = sa.func.string_agg(pairs, ",") if dialect == "postgresql" else sa.func.group_concat(pairs, ",")
    return sa.select(joined)


def read_tokens(connection) -> None:
    """Read the request's tokens now, in one row, on the request's connection: what `_tokens()` gives for
    the rest of it. The user loader's first statement in a signed-in request."""
    tokens = {}
    for pair in (connection.execute(_joined_tokens(connection.dialect.name)).scalar() or "").split(","):
        name, _sep, value = pair.partition("=")
        if name:
            tokens[name] = int(value)
    remember("cache_tokens", tokens)


def tree_token() -> int | None:
    """The token of the units and their household counts (None before the first): the triggers replace
    it on any change to the household counts, the units, their successions or placements."""
    return _tokens().get(HOUSEHOLD_COUNTS)


class Children(NamedTuple):
    """A unit's children as (id, name, name_folded, level, path) rows, whether any unit of its subtree
    (itself included) is retired, and the children's ids in the pages' name order (app.text.by_name),
    each way; the rows by id and in name order. Kept per worker under the tree token; nothing changes
    one once made (a city's province page made the 168 communes' lookups on every request before)."""
    rows: tuple[sa.Row, ...]
    any_retired: bool
    by_name: tuple[int, ...]
    by_name_descending: tuple[int, ...]
    by_id: dict[int, sa.Row]
    rows_by_name: tuple[sa.Row, ...]
    ids: tuple[int, ...]


@kept_under_tokens(maxsize=2048)
def _children(unit_id: int, path: str) -> Children:
    """A unit's children (a city's province page read its 168 communes, and sorted them, to show 20,
    on every request before they were kept)."""
    from app.text import by_name
    rows = tuple(db.session.execute(_CHILDREN_AND_RETIRED, {"unit": unit_id, "path": path}).all())
    if rows:
        any_retired = bool(rows[0].retired)
    else:
        any_retired = db.session.execute(_RETIRED_BELOW, {"path": path}).first() is not None
    ordered = tuple(by_name(list(rows)))
    return Children(rows, any_retired, tuple(r.id for r in ordered),
                    tuple(r.id for r in by_name(list(rows), descending=True)), {r.id: r for r in rows}, ordered,
                    tuple(r.id for r in rows))


def _children_of(unit: AdminUnit, token: int | None) -> Children:
    return _children((token,), unit.id, unit.path)


def subtree_of(unit: AdminUnit) -> Subtree | LiveSubtree:
    """One view of a unit's subtree per request: the table and the trend of a page share it.

    Retired units change the tree's shape from date to date, which Subtree follows in Python; a
    subtree without any (the usual case) is rolled up in SQL."""
    def load():
        token = tree_token()
        children = _children_of(unit, token)
        return Subtree([unit]) if children.any_retired else LiveSubtree(unit, children, token)
    return per_request(("subtree", unit.id), load)


# --- Adults -------------------------------------------------------------------------------------
# Fast path: AdultRollUp sums the leaves' adult count changes per ancestor in SQL and keeps the result
# in this worker's memory under the adult_counts token (triggers of migration a7d2c5e91b04); faster
# than adults.AdultTree, which loads every unit below the roots and every count they had into Python
# (kept for subtrees with a retired unit, and as the reference). tests/test_adult_rollup.py holds
# both equal to a plain sum of the leaves' counts; bench/README.md ("Adult indicators") the figures.

ADULT_COUNTS = "adult_counts"  # cache_tokens.name: adult counts, and which units are leaves under which

def _token_upsert(name: str, dialect: str) -> str:
    """The statement that replaces cache_tokens row `name` with a random token."""
    value = "(random() * 9.2e18)::bigint" if dialect == "postgresql" else "random()"
    excluded = "EXCLUDED" if dialect == "postgresql" else "excluded"
    return (f"INSERT INTO cache_tokens (name, token) VALUES ('{name}', {value}) "
            f"ON CONFLICT (name) DO UPDATE SET token = {excluded}.token;")


def token_ddl(name: str, function: str, sqlite_triggers: list[tuple[str, str]],
              pg_triggers: list[tuple[str, str, str]], dialect: str) -> list[str]:
    """Triggers that replace token `name` whenever their tables change, in the same transaction:
    row-level on SQLite (name, "AFTER … ON table"), statement-level on PostgreSQL (name, table, events)
    through one plpgsql function, so a bulk load replaces the token once."""
    upsert = _token_upsert(name, dialect)
    if dialect == "postgresql":
        return [f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"    BEGIN\n      {upsert}\n      RETURN NULL;\n    END $$"] + [
            f"CREATE TRIGGER {trigger} {when} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            for trigger, table, when in pg_triggers]
    return [f"CREATE TRIGGER {trigger} {when} BEGIN {upsert} END" for trigger, when in sqlite_triggers]


def tables_token_ddl(name: str, prefix: str, tables: dict[str, str], dialect: str) -> list[str]:
    """`token_ddl` for a token replaced on any change to these tables ({table: its short name in the
    triggers' names}): `{prefix}_{short}_ins|upd|del` on SQLite, `{prefix}_{short}` on PostgreSQL, through
    the function `{prefix}_bump`."""
    sqlite = [(f"{prefix}_{short}_{event[:3].lower()}", f"AFTER {event} ON {table}")
              for table, short in tables.items() for event in ("INSERT", "UPDATE", "DELETE")]
    pg = [(f"{prefix}_{short}", table, "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE")  # a bulk load: once
          for table, short in tables.items()]
    return token_ddl(name, f"{prefix}_bump", sqlite, pg, dialect)


def replace_token(conn, name: str) -> None:
    """Mark every worker's cache under token `name` stale (the triggers do it on every change)."""
    conn.exec_driver_sql(_token_upsert(name, conn.dialect.name))


SQLITE_ADULT_TOKEN_TRIGGERS = [
    ("adult_token_counts_ins", "AFTER INSERT ON adult_counts"),
    ("adult_token_counts_upd", "AFTER UPDATE ON adult_counts"),
    ("adult_token_counts_del", "AFTER DELETE ON adult_counts"),
    ("adult_token_units_ins", "AFTER INSERT ON admin_units"),
    ("adult_token_units_upd", "AFTER UPDATE OF parent_id, path ON admin_units"),
    ("adult_token_units_del", "AFTER DELETE ON admin_units"),
    # The roll-up joins unit_ancestors: `flask coverage rebuild` rewrites it with the cov_* triggers off.
    ("adult_token_ancestors_ins", "AFTER INSERT ON unit_ancestors"),
    ("adult_token_ancestors_upd", "AFTER UPDATE ON unit_ancestors"),
    ("adult_token_ancestors_del", "AFTER DELETE ON unit_ancestors"),
]
PG_ADULT_TOKEN_TRIGGERS = [  # statement-level: a bulk load replaces the token once
    ("adult_token_counts", "adult_counts", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
    ("adult_token_units", "admin_units", "AFTER INSERT OR DELETE OR UPDATE OF parent_id, path OR TRUNCATE"),
    ("adult_token_ancestors", "unit_ancestors", "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE"),
]


def adult_token_ddl(dialect: str) -> list[str]:
    """The adult token's triggers as this module builds them (the migration carries a frozen copy)."""
    return token_ddl(ADULT_COUNTS, "adult_token_bump", SQLITE_ADULT_TOKEN_TRIGGERS, PG_ADULT_TOKEN_TRIGGERS, dialect)


def replace_adult_token(conn) -> None:
    """Mark every worker's cached adult roll-up stale (the triggers do it on every change)."""
    replace_token(conn, ADULT_COUNTS)


class AdultRollUp:
    """Adults of some units over time, for subtrees with no retired unit: the same figures as
    AdultTree (a unit with units below it is the sum of its leaves' counts in effect), each date
    a binary search in a running sum of the leaves' count changes."""

    def __init__(self, timelines: dict[int, tuple[list[date], list[int]]]):
        self._timelines = timelines

    def adults(self, unit_id: int, on: date) -> int:
        dates, totals = self._timelines[unit_id]
        i = bisect_right(dates, on)
        return totals[i - 1] if i else 0


# Built once: the statement's construction cost more than running it.
_ADULT_DELTAS = _leaf_deltas(AdultCount.__table__, "adults", "ac", current_ancestors_only=True)


def any_retired_below(roots: list) -> bool:
    """Whether a unit of the roots' subtrees (a root included) is retired: asked of each root's
    children as this worker keeps them under the tree token (one statement for a root not kept yet)."""
    token = tree_token()
    return any(_children_of(root, token).any_retired for root in roots)


def adult_tokens_and_retired(roots: list[AdminUnit]) -> tuple[int | None, int | None, bool]:
    """The adult roll-up's token, the adult_activity token (app/coverage/by_commune.py) and whether
    a unit below the roots (or a root) is retired: then the tree's shape changes with the date, which
    AdultTree follows and the fast path does not. The tokens are the request's (_tokens)."""
    if not roots:
        return None, None, False
    tokens = _tokens()
    return tokens.get(ADULT_COUNTS), tokens.get(ADULT_ACTIVITY), any_retired_below(roots)


def adult_roll_up(token: int | None, unit_ids: list[int]) -> AdultRollUp:
    """The adults of unit_ids rolled up in SQL, kept under the token (None: no token, read them);
    only for units with no retired unit below them (adult_tokens_and_retired)."""
    key = tuple(sorted(set(unit_ids)))
    return AdultRollUp(_adult_timelines_of((token,), key))


@kept_under_tokens(maxsize=1024)
def _adult_timelines_of(unit_ids: tuple[int, ...]) -> dict[int, tuple[list[date], list[int]]]:
    """Per unit, (dates, adults from each date): its leaves' count changes, summed as they run; kept
    under the adult token."""
    out: dict[int, list[tuple[date, int]]] = {u: [] for u in unit_ids}
    for chunk in chunks(list(unit_ids)):
        for unit_id, effective_on, delta in db.session.execute(_ADULT_DELTAS, {"units": chunk}):
            out[unit_id].append((effective_on, int(delta)))
    return {u: _running(entries) for u, entries in out.items()}
