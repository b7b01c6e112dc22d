"""The adult indicators: ratios of sums at every level, per month in Vietnam's calendar, apart from households."""
from datetime import date, datetime, timezone

import sqlalchemy as sa
import time_machine

from app.coverage.adults import adult_month, adult_months
from app.coverage.queries import coverage
from app.dates import today_vn
from tests import adult_world
from tests.adult_world import COMMUNE, PROVINCE


def figures(f):
    return dict(adults=f.adults, attendances=f.attendances, named=f.named, working=f.working, online=f.online,
                online_counted=f.online_counted, commune_dossiers=f.commune_dossiers)


def test_the_communes_and_the_provinces_adult_figures_equal_the_hand_summed_values(db, tree):
    adult_world.build(tree)
    commune, province = adult_month(tree.commune, *adult_world.MONTH), adult_month(tree.province, *adult_world.MONTH)
    assert figures(commune) == COMMUNE
    assert figures(province) == PROVINCE
    assert commune.named_share == 5 / 1800 and province.named_share == 7 / 2400
    assert commune.online_share == 15 / 60 and province.online_share == 15 / 60
    hamlet = adult_month(tree.hamlet, *adult_world.MONTH)
    # Khu vực 1: the class held there (30); its 3 named residents (An counted once) and Em, whose
    # hamlet was not given, counted where the class was held.
    assert (hamlet.attendances, hamlet.named, hamlet.adults) == (30, 4, 1000)


def test_named_learners_accumulate_and_attendances_stay_in_their_month(db, tree):
    adult_world.build(tree)
    months = adult_months([tree.commune], [(2026, 2), (2026, 3), (2026, 4)])[tree.commune.id]
    assert [m.attendances for m in months.values()] == [0, 55, 0]
    assert [m.named for m in months.values()] == [0, 5, 5]


def test_a_class_does_not_change_the_household_coverage(db, tree, team, leader):
    from tests.visits_helpers import form, household
    home = household(tree.hamlet)
    resp = leader.post("/visits/new", data=form(home.id, on=date(2026, 3, 2), members=[team[1][0].id],
                                                services={"vneid": "adopted"}))
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    before = coverage(tree.commune, date(2026, 3, 31))
    adult_world.build(tree, household_id=home.id)
    after = coverage(tree.commune, date(2026, 3, 31))
    assert (after.total.households, after.total.reached) == (before.total.households, before.total.reached) == (730, 1)
    assert {c: f.adopted for c, f in after.total.services.items()} == {c: f.adopted for c, f in before.total.services.items()}
    assert after.total.services["vneid"].adopted == 1  # the class's 16 VNeID learners are adults, not households


def test_a_class_on_the_1st_at_six_in_the_morning_vietnam_time_counts_in_that_month(db, tree):
    # 23:00 UTC on 28 February is 06:00 on 1 March in Vietnam: the class's day, as the form defaults it.
    with time_machine.travel(datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc), tick=False):
        held_on = today_vn()
    assert held_on == date(2026, 3, 1)
    adult_world.add_class(tree.commune, held_on, 30, (0, 30, 0))
    db.session.commit()
    assert adult_month(tree.commune, 2026, 3).attendances == 30
    assert adult_month(tree.commune, 2026, 2).attendances == 0


def test_the_coverage_page_shows_the_adult_section_beside_the_households(db, tree, client, login_as):
    adult_world.build(tree)
    login_as("district", tree.district)
    page = client.get(f"/coverage/{tree.district.id}?month=2026-03").get_data(as_text=True)
    section = page[page.index('id="adults"'):]
    # Phường I: 1.800 adults, 55 attendances, 5 named (0,3 %), 15 online dossiers (25,0 %).
    assert "1.800" in section and ">55<" in section and "0,3%" in section and "25,0%" in section
    assert "Households reached and services adopted" in page or "hộ" in page  # the household part is still there


def test_province_staff_set_an_adult_target_and_the_coverage_page_shows_it(db, tree, client, login_as):
    login_as("province", tree.province)
    resp = client.post("/coverage/adult-targets", data={"named_share": "80", "named_due_on": "2026-12-31",
                                                         "online_share": "", "online_due_on": ""})
    assert resp.status_code == 303
    page = client.get(f"/coverage/{tree.province.id}?month=2026-03").get_data(as_text=True)
    assert "80%" in page[page.index('id="adults"'):]
    # A share without its date is refused beside the field, and nothing changes.
    resp = client.post("/coverage/adult-targets", data={"online_share": "80", "online_due_on": ""})
    assert resp.status_code == 400
    from app.coverage.adults import adult_targets
    assert set(adult_targets(tree.province.id)) == {"named_share"}
