"""The reorganization's recount from the hamlets' tallies (app/coverage/hamlet_recount.py) gives what
the plain recount from every adoption and first visit gives (`flask coverage verify`)."""
from datetime import date

import pytest
import sqlalchemy as sa

from app.coverage import hamlet_recount
from app.extensions import db as _db
from app.units.models import AdminUnit, unit_for_code
from app.visits.models import Service
from tests.test_coverage import households, visit
from tests.test_reorganize import PLAN, plan_csv, reorganize, tally, world  # noqa: F401 (world: a fixture)


def test_a_plan_dated_mid_month_counts_the_days_before_it_under_the_old_units_and_all_under_the_new(
        runner, world, tmp_path):  # noqa: F811
    # The world's last visits are on 3 July; a plan from 5 July splits July between the maps.
    result = reorganize(runner, plan_csv(tmp_path, PLAN, day="2025-07-05"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    july_before = tally(world.commune, 202507)
    assert july_before > 0 and tally(world.province, 202507) > 0
    vi_thanh = unit_for_code("31321")
    assert tally(vi_thanh.id, 202507) == sum(tally(h, 202507) for h in (world.hamlet, world.hamlet2, world.hamlet3))
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_plan_from_the_first_of_a_month_leaves_that_month_to_the_new_units(runner, world, tmp_path):  # noqa: F811
    result = reorganize(runner, plan_csv(tmp_path, PLAN, day="2025-07-01"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert tally(world.commune, 202507) == 0 and tally(world.commune, 202505) > 0
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_plan_from_the_second_of_a_month_counts_the_first_under_the_old_units(runner, world, tmp_path):  # noqa: F811
    # One household reached on 1 July, before a plan from 2 July: July's first day stays Phường I's.
    hamlet = _db.session.get(AdminUnit, world.hamlet)
    wallet = _db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    visit(households(hamlet, 1)[0], date(2025, 7, 1), adopted=[wallet])
    wallet_id = wallet.id
    _db.session.commit()
    result = reorganize(runner, plan_csv(tmp_path, PLAN, day="2025-07-02"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert tally(world.commune, 202507) == 1 and tally(world.commune, 202507, wallet_id) == 1
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_the_recount_refuses_hamlets_whose_tallies_it_reads(app, world):  # noqa: F811
    with pytest.raises(ValueError):
        hamlet_recount.recount({world.hamlet})


def test_a_hamlet_split_in_the_days_before_a_plan_is_recounted_with_its_households_earlier_visits(
        runner, world, tmp_path):  # noqa: F811
    # Khu vực 1 is split on 2 July, a plan from 5 July moves its parts to Phường Vị Thanh: the two parts count their
    # households' visits of March and May from 2 July, under Phường I until 5 July and under Vị Thanh since.
    from app.units import hamlet_changes
    hamlet = _db.session.get(AdminUnit, world.hamlet)
    ids = [h.id for h in hamlet_changes.households_of(hamlet)]
    parts = hamlet_changes.split_hamlet(hamlet, date(2025, 7, 2), [hamlet_changes.Part("Khu vực 1A", 200),
                                                                   hamlet_changes.Part("Khu vực 1B", 120)],
                                        {h: i % 2 for i, h in enumerate(ids)})
    part_ids = [p.id for p in parts]
    _db.session.commit()
    phuong_i_july = tally(world.commune, 202507)
    result = reorganize(runner, plan_csv(tmp_path, PLAN, day="2025-07-05"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert tally(world.commune, 202507) == phuong_i_july
    assert sum(tally(p, 202507) for p in part_ids) == len(ids)  # reached in March or May, moved on 2 July
    vi_thanh = unit_for_code("31321")
    assert tally(vi_thanh.id, 202507) == sum(tally(h, 202507) for h in (*part_ids, world.hamlet2, world.hamlet3))
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output
