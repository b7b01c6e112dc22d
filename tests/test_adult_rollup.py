"""The adult roll-up's fast path (adult counts summed per ancestor in SQL, kept in the worker's memory
under the adult_counts token) gives the same adults as AdultTree, the Python walk, and as a plain sum
of the leaves' latest counts, before and after the counts and the tree change."""
from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from app.areas.operations import move_subtree
from app.coverage import adults, rollup
from app.extensions import db as _db
from app.units import hamlet_changes
from app.units import operations as units
from app.units.models import AdminUnit, AdultCount
from tests import migration_files

DATES = [date(2023, 12, 31), date(2024, 1, 1), date(2024, 3, 15), date(2024, 5, 31), date(2024, 6, 1),
         date(2024, 9, 14), date(2024, 9, 15), date(2025, 6, 30), date(2025, 7, 1), date(2026, 3, 31)]


class _Plain:
    """The plain way, from every unit and count in the database: the leaves counted on `on` below a
    unit today (itself if none), each at its latest count by then."""

    def __init__(self):
        self.children, self.retired = defaultdict(list), {}
        for uid, parent_id, retired_on in _db.session.execute(
                sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on)):
            self.children[parent_id].append(uid)
            self.retired[uid] = retired_on
        self.counts = defaultdict(list)
        for uid, effective_on, n in _db.session.execute(sa.select(AdultCount.unit_id, AdultCount.effective_on,
                                                                  AdultCount.adults)):
            self.counts[uid].append((effective_on, n))

    def adults(self, unit_id: int, on: date) -> int:
        leaves, stack = [], [unit_id]
        while stack:
            u = stack.pop()
            kids = [c for c in self.children[u] if self.retired[c] is None or self.retired[c] > on]
            stack.extend(kids) if kids else leaves.append(u)
        latest = [max(((d, n) for d, n in self.counts[leaf] if d <= on), default=(None, 0)) for leaf in leaves]
        return sum(n for _d, n in latest)


def _assert_rolled_up_as_plain(units_, walked=()) -> None:
    """Each unit with its children, on every date: the fast path (None where a unit below is retired:
    `walked`), AdultTree and the plain sum agree; and so do the page's figures (adult_months)."""
    plain_way = _Plain()
    for unit in units_:
        _db.session.refresh(unit)
        kids = list(_db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == unit.id)))
        asked = [unit.id] + [k.id for k in kids]
        token, _activity, any_retired = rollup.adult_tokens_and_retired([unit])
        assert any_retired == (unit in walked), unit.name
        fast = None if any_retired else rollup.adult_roll_up(token, asked)
        reference = adults.AdultTree([unit])
        for on in DATES:
            plain = {u: plain_way.adults(u, on) for u in asked}
            assert {u: reference.adults(u, on) for u in asked} == plain, (unit.name, on)
            if fast is not None:
                assert {u: fast.adults(u, on) for u in asked} == plain, (unit.name, on)
        figures = adults.adult_months([unit, *kids], [(2024, 5), (2026, 3)])
        for u in [unit, *kids]:
            assert figures[u.id][(2024, 5)].adults == plain_way.adults(u.id, date(2024, 5, 31)), u.name
            assert figures[u.id][(2026, 3)].adults == plain_way.adults(u.id, date(2026, 3, 31)), u.name


def test_the_remembered_adult_roll_up_equals_the_walk_and_a_plain_sum_after_every_change(db, tree):
    everyone = [tree.province, tree.district, tree.other_district, tree.commune, tree.sibling_commune,
                tree.other_commune, tree.hamlet]
    units.set_adult_count(tree.hamlet, 1000, date(2024, 1, 1))
    units.set_adult_count(tree.hamlet, 1050, date(2024, 6, 1))
    units.set_adult_count(tree.hamlet2, 800, date(2024, 1, 1))
    units.set_adult_count(tree.other_hamlet, 600, date(2024, 9, 15))
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)  # remembered now

    units.set_adult_count(tree.hamlet2, 820, date(2024, 3, 15))  # through the app, between two known counts
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)
    db.session.execute(sa.text("UPDATE adult_counts SET adults = 111 WHERE unit_id = :u"),
                       {"u": tree.other_hamlet.id})  # by hand: the trigger still replaces the token
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)
    # The tree's shape: a commune counted alone, then a hamlet below it that counts instead.
    units.set_adult_count(tree.sibling_commune, 500, date(2024, 1, 1))
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)
    hamlet = units.create_unit("Khu vực 5", "hamlet", tree.sibling_commune)
    units.set_adult_count(hamlet, 90, date(2024, 5, 31))
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)
    # A hamlet moved to another commune (new path): both communes and their districts follow.
    move_subtree(hamlet, tree.other_commune)
    db.session.commit()
    _assert_rolled_up_as_plain(everyone)

    # A hamlet merge retires the merged hamlet: above it the walk takes over, elsewhere the fast path stays.
    hamlet_changes.merge_hamlets(tree.hamlet2, tree.hamlet, date(2024, 9, 15), households=700)
    units.set_adult_count(tree.hamlet, 1800, date(2024, 9, 15))
    db.session.commit()
    tree.refresh()
    _assert_rolled_up_as_plain(everyone, walked=(tree.province, tree.district, tree.commune))


def test_a_reorganization_s_new_units_take_the_fast_path_with_the_hamlets_adults(db):
    from tests import maps_world

    class NotYet(maps_world.Reformed):
        def reform(self):  # the plan is applied below, once the roll-up is remembered
            pass

    world = NotYet()
    for i, hamlet in enumerate(world.hamlets.values()):
        units.set_adult_count(hamlet, 100 * (i + 1), date(2024, 1, 1))
    units.set_adult_count(world.hamlets["Khu vực 1"], 150, date(2025, 9, 1))
    db.session.commit()
    olds = [world.old_province, world.vi_thanh_city, world.chau_thanh_a, world.phuong_1, world.mot_ngan_old]
    _assert_rolled_up_as_plain(olds)
    maps_world.Reformed.reform(world)
    db.session.commit()
    _assert_rolled_up_as_plain([world.province, world.vi_thanh, world.mot_ngan, world.tan_hoa])
    _assert_rolled_up_as_plain(olds, walked=olds)  # retired: the walk, as the map then was
    assert adults.adult_months([world.province], [(2025, 3)])[world.province.id][(2025, 3)].adults == 2100


def test_the_migration_carries_the_token_triggers_this_module_builds():
    migration = migration_files.load("a7d2c5e91b04")
    for dialect in ("sqlite", "postgresql"):
        assert migration.INSTALL[dialect] == rollup.adult_token_ddl(dialect)
