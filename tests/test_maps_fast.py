""""As the map was" on a unit whose map has not changed since the month takes today's running tallies
(app.coverage.maps.same_map_since); the figures are those the plain sum of the leaves gives, and a
unit whose map did change since keeps the plain way."""
from datetime import date

import pytest

from app.coverage import maps, queries
from app.coverage.adults import adult_months_from_leaves
from app.dates import month_end
from app.extensions import db
from app.units.hamlet_changes import rename_hamlet
from app.units.operations import create_unit
from tests.maps_world import Reformed
from tests.test_coverage import households, visit


@pytest.fixture
def world(db):
    return Reformed()


def _figures(table) -> tuple:
    """What a reader sees: each row's unit, households, reach and adopters per service, and the total."""
    def row(r):
        return (r.unit.id if r.unit is not None else None, r.households, r.reached,
                tuple(sorted((code, f.adopted) for code, f in r.services.items())))
    return tuple(sorted(row(r) for r in table.rows)), row(table.total)


def _series(months) -> list:
    return [None if m is None else (m.year, m.month, _figures_row(m.row)) for m in months]


def _figures_row(r) -> tuple:
    return r.households, r.reached, tuple(sorted((code, f.adopted) for code, f in r.services.items()))


MONTHS = [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 13)]


def test_after_the_reform_the_new_units_map_is_today_s_and_the_figures_are_the_leaves_sums(world):
    for unit in (world.province, world.vi_thanh, world.mot_ngan, world.tan_hoa):
        for year, month in MONTHS:
            on = month_end(year, month)
            assert maps.same_map_since(unit, on), (unit.name, on)
            assert _figures(maps.coverage_then(unit, on).table) == _figures(maps.coverage_from_leaves(unit, on))
        assert _series(maps.series_then(unit, MONTHS)) == _series(maps.series_from_leaves(unit, MONTHS))
    # The province's figures after the reform hold the visits of its hamlets from before it.
    table = maps.coverage_then(world.province, month_end(2025, 9)).table
    assert table.total.services["ewallet"].adopted == 5


def test_a_unit_whose_map_changed_since_the_month_keeps_the_plain_way(world):
    # Before the reform: the old units ended, their hamlets moved since.
    for unit in (world.old_province, world.vi_thanh_city, world.phuong_1, world.mot_ngan_old):
        assert not maps.same_map_since(unit, month_end(2025, 3)), unit.name
    # A hamlet added to Xã Tân Hòa in 2026: its map in 2025 is not today's; from then on it is.
    assert maps.same_map_since(world.tan_hoa, month_end(2026, 1))  # the answer is kept under the tree token
    new = create_unit("Ấp Mới", "hamlet", world.tan_hoa)
    new.valid_from = date(2026, 3, 1)
    db.session.flush()
    visit(households(new, 1)[0], date(2026, 3, 9), adopted=[world.wallet])
    db.session.commit()
    assert not maps.same_map_since(world.tan_hoa, month_end(2026, 1))
    assert not maps.same_map_since(world.province, month_end(2026, 1))
    assert maps.same_map_since(world.tan_hoa, month_end(2026, 3))
    assert maps.same_map_since(world.vi_thanh, month_end(2026, 1))  # nothing changed under it
    for unit in (world.province, world.tan_hoa):
        for year, month in MONTHS:
            on = month_end(year, month)
            assert _figures(maps.coverage_then(unit, on).table) == _figures(maps.coverage_from_leaves(unit, on))
        assert _series(maps.series_then(unit, MONTHS)) == _series(maps.series_from_leaves(unit, MONTHS))
    january = maps.coverage_then(world.tan_hoa, month_end(2026, 1)).table
    assert new.id not in {r.unit.id for r in january.rows}


def test_a_hamlet_that_moved_or_ended_since_the_month_is_a_change(world):
    # Khu vực 4 moves from Phường Vị Thanh to Xã Một Ngàn in 2026, with its placement recorded.
    from app.areas.operations import move_subtree
    from app.units.models import UnitPlacement
    hamlet = world.hamlets["Khu vực 4"]
    db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=hamlet.parent_id, valid_from=date(2025, 7, 1),
                                 valid_to=date(2026, 2, 1)))
    move_subtree(hamlet, world.mot_ngan)
    db.session.commit()
    assert not maps.same_map_since(world.vi_thanh, month_end(2026, 1))  # it hung here then
    assert not maps.same_map_since(world.mot_ngan, month_end(2026, 1))  # it hangs here now
    assert maps.same_map_since(world.mot_ngan, month_end(2026, 2))
    for unit in (world.vi_thanh, world.mot_ngan, world.province):
        on = month_end(2026, 1)
        assert _figures(maps.coverage_then(unit, on).table) == _figures(maps.coverage_from_leaves(unit, on))
    # A renamed hamlet is the same unit: no change of map.
    rename_hamlet(world.hamlets["Khu vực 1"], "Khu vực Một", date(2026, 5, 1))
    db.session.commit()
    assert maps.same_map_since(world.vi_thanh, month_end(2026, 2))



def test_the_plain_way_follows_a_hamlet_that_moves_at_once(world):
    # The plain way's tree of a day is kept per worker as ids (app.units.history.shape_on): asked before a
    # move and again after it, it answers with the map after the move.
    from app.areas.operations import move_subtree
    from app.units.models import AdultCount, UnitPlacement
    db.session.add(AdultCount(unit_id=world.hamlets["Khu vực 4"].id, adults=70, effective_on=date(2025, 1, 1)))
    db.session.commit()
    march, months = month_end(2026, 3), [(2026, 1), (2026, 3)]
    assert maps.coverage_from_leaves(world.vi_thanh, march).total.households == 320 + 410 + 250 + 100
    assert [m.row.households for m in maps.series_from_leaves(world.vi_thanh, months)] == [1080, 1080]
    adults = adult_months_from_leaves([world.vi_thanh, world.mot_ngan], months)
    assert [adults[world.vi_thanh.id][m].adults for m in months] == [70, 70]
    # Khu vực 4 hung under Phường Vị Thanh until February 2026; it is in Xã Một Ngàn from then on.
    hamlet = world.hamlets["Khu vực 4"]
    db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=hamlet.parent_id, valid_from=date(2025, 7, 1),
                                 valid_to=date(2026, 2, 1)))
    move_subtree(hamlet, world.mot_ngan)
    db.session.commit()
    march_then = maps.coverage_from_leaves(world.vi_thanh, march)
    assert march_then.total.households == 320 + 410 + 250
    assert hamlet.id not in {r.unit.id for r in march_then.rows}
    assert [m.row.households for m in maps.series_from_leaves(world.vi_thanh, months)] == [1080, 980]
    assert [m.row.households for m in maps.series_from_leaves(world.mot_ngan, months)] == [530, 630]
    adults = adult_months_from_leaves([world.vi_thanh, world.mot_ngan], months)
    assert [adults[world.vi_thanh.id][m].adults for m in months] == [70, 0]
    assert [adults[world.mot_ngan.id][m].adults for m in months] == [0, 70]


def test_a_hamlet_placed_from_a_month_s_last_day_hangs_there_in_that_month(world):
    # Khu vực 4 leaves Phường Vị Thanh on 31 January 2026 for Xã Một Ngàn, and goes on to Xã Tân Hòa on
    # 1 March: January's map (its last day) has it in Xã Một Ngàn, February's too, March's in Xã Tân Hòa.
    from app.areas.operations import move_subtree
    from app.units.models import UnitPlacement
    hamlet = world.hamlets["Khu vực 4"]
    db.session.add_all([
        UnitPlacement(unit_id=hamlet.id, parent_id=world.vi_thanh.id, valid_from=date(2025, 7, 1),
                      valid_to=date(2026, 1, 31)),
        UnitPlacement(unit_id=hamlet.id, parent_id=world.mot_ngan.id, valid_from=date(2026, 1, 31),
                      valid_to=date(2026, 3, 1))])
    move_subtree(hamlet, world.tan_hoa)
    db.session.commit()
    months = [(2025, 12), (2026, 1), (2026, 2), (2026, 3)]
    assert [m.row.households for m in maps.series_from_leaves(world.vi_thanh, months)] == [1080, 980, 980, 980]
    assert [m.row.households for m in maps.series_from_leaves(world.mot_ngan, months)] == [530, 630, 630, 530]
    assert [m.row.households for m in maps.series_from_leaves(world.tan_hoa, months)] == [200, 200, 200, 300]
    january = maps.coverage_then(world.mot_ngan, month_end(2026, 1)).table
    assert hamlet.id in {r.unit.id for r in january.rows}
    assert hamlet.id not in {r.unit.id for r in maps.coverage_then(world.vi_thanh, month_end(2026, 1)).table.rows}


def test_the_plain_way_takes_each_hamlet_s_count_in_effect_in_each_month(world):
    from app.units.operations import set_household_count
    set_household_count(world.hamlets["Khu vực 1"], 400, date(2026, 2, 1))
    set_household_count(world.hamlets["Khu vực 1"], 380, date(2026, 3, 15))
    db.session.commit()
    months = [(2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]
    series = maps.series_from_leaves(world.vi_thanh, months)
    assert [m.row.households for m in series] == [1080, 1080, 1160, 1140, 1140]
    assert [maps.coverage_from_leaves(world.vi_thanh, month_end(*m)).total.households for m in months] == \
        [1080, 1080, 1160, 1140, 1140]
    assert _series(series) == _series(queries.monthly_series(world.vi_thanh, months))

def test_adults_as_the_map_was_after_the_reform_are_today_s_figures(db):
    from app.coverage import adults
    from tests.adult_world import add_class
    from tests.test_adult_maps import build
    world = build()
    add_class(world.vi_thanh, date(2025, 9, 12), 18, (2, 12, 4), hamlet=world.hamlets["Khu vực 2"],
              named=[("Võ Thị Lan", 1968, world.hamlets["Khu vực 2"], None)], results={"vneid": 6})
    db.session.commit()
    units = [world.province, world.vi_thanh, world.mot_ngan, world.tan_hoa, world.hamlets["Khu vực 2"]]
    months = MONTHS[:6]
    fast = adults.adult_months_then(units, months)
    assert fast == adults.adult_months_from_leaves(units, months)
    assert fast[world.vi_thanh.id][(2025, 9)] != fast[world.vi_thanh.id][(2025, 8)]  # September's class shows
    assert fast[world.vi_thanh.id][(2025, 9)].working == {"vneid": 6}
    # Before the reform the new units did not exist: the plain way, through the units that stood for them.
    before = [(2025, m) for m in range(1, 7)]
    assert adults.adult_months_then(units, before) == adults.adult_months_from_leaves(units, before)
