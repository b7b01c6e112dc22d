"""Coverage: roll-ups as ratios of sums, counts over time, months in Vietnam, scope and bad input."""
import itertools
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.coverage import queries
from app.dates import month_end, today_vn
from app.extensions import db as _db
from app.households.models import Household
from app.units import operations as units
from app.visits.models import Adoption, Target, Visit, VisitService
from tests.html_tree import parse

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _verify_after(app, runner):
    """After every scenario, `flask coverage verify` finds the tallies agreeing with the visits."""
    yield
    with app.app_context():
        _db.session.remove()
        result = runner.invoke(args=["coverage", "verify"])
        assert result.exit_code == 0, result.output


def make_services():
    from tests.conftest import only_services
    wallet, vneid = only_services(
        dict(code="ewallet", pillar="economy", name_vi="Ví điện tử", name_en="E-wallet", position=1),
        dict(code="vneid", pillar="government", name_vi="VNeID mức 2", name_en="VNeID level 2", position=2))
    return wallet, vneid


def households(hamlet, n):
    rows = [Household(hamlet_id=hamlet.id, head_name=f"Hộ {i}", head_name_folded=f"ho {i}") for i in range(n)]
    _db.session.add_all(rows)
    _db.session.flush()
    return rows


def visit(household, on, adopted=(), guided=(), team=None):
    """A visit as the visits feature stores it, Adoption kept as the earliest adopting visit."""
    v = Visit(household_id=household.id, hamlet_id=household.hamlet_id, visited_on=on,
              idempotency_key=f"k{next(_keys)}", team_id=team.id if team else None)
    _db.session.add(v)
    _db.session.flush()
    for s in adopted:
        _db.session.add(VisitService(visit_id=v.id, service_id=s.id, result="adopted"))
        existing = _db.session.get(Adoption, (household.id, s.id))
        if existing is None:
            _db.session.add(Adoption(household_id=household.id, service_id=s.id, hamlet_id=household.hamlet_id,
                                     adopted_on=on, visit_id=v.id))
        elif on < existing.adopted_on:
            existing.adopted_on, existing.visit_id = on, v.id
    for s in guided:
        _db.session.add(VisitService(visit_id=v.id, service_id=s.id, result="guided"))
    _db.session.flush()
    return v


def test_uneven_communes_roll_up_as_a_ratio_of_sums(db, tree):
    """A commune of 10 households beside one of 1,000: the district is 7+100 of 1,010, not the mean."""
    wallet, vneid = make_services()
    units.set_household_count(tree.hamlet, 10, date(2024, 1, 1))
    small = tree.hamlet  # Phường I now has hamlet (10) + hamlet2 (410): make hamlet2 part of the big one
    units.retire_unit(tree.hamlet2, date(2024, 1, 1))
    big_hamlet = units.create_unit("Khu vực 5", "hamlet", tree.sibling_commune)
    units.set_household_count(big_hamlet, 1000, date(2024, 1, 1))
    for h in households(small, 10)[:7]:
        visit(h, date(2024, 3, 5), adopted=[wallet])
    for h in households(big_hamlet, 1000)[:100]:
        visit(h, date(2024, 3, 6), adopted=[wallet], guided=[vneid])
    db.session.commit()

    table = queries.coverage(tree.district, date(2024, 3, 31))
    by_name = {r.name: r for r in table.rows}
    assert by_name["Phường I"].households == 10
    assert by_name["Phường I"].services["ewallet"].share == pytest.approx(0.7)
    assert by_name["Phường III"].households == 1000
    assert by_name["Phường III"].services["ewallet"].share == pytest.approx(0.1)
    # By hand: (7 + 100) / (10 + 1000) = 0.10594…, whereas the mean of 70% and 10% would be 40%.
    assert table.total.households == 1010
    assert table.total.services["ewallet"].adopted == 107
    assert table.total.services["ewallet"].share == pytest.approx(107 / 1010)
    assert table.total.reached == 107
    assert table.total.services["vneid"].adopted == 0
    # The province adds the other district's 530 households, none of them reached.
    prov = queries.coverage(tree.province, date(2024, 3, 31))
    assert prov.total.households == 1540
    assert prov.total.services["ewallet"].share == pytest.approx(107 / 1540)


def test_households_by_unit_follows_counts_over_time_and_retirement(db, tree):
    units.set_household_count(tree.hamlet, 350, date(2024, 7, 1))
    units.retire_unit(tree.hamlet2, date(2024, 9, 30))
    db.session.commit()
    got = lambda on: queries.households_by_unit([tree.commune, tree.district, tree.province, tree.hamlet], on)
    assert got(date(2023, 12, 31)) == {tree.commune.id: 0, tree.district.id: 0, tree.province.id: 0,
                                        tree.hamlet.id: 0}
    assert got(date(2024, 6, 30))[tree.commune.id] == 320 + 410
    assert got(date(2024, 7, 1))[tree.commune.id] == 350 + 410
    # Retired after the date still counts; retired on or before it does not.
    assert got(date(2024, 9, 29))[tree.district.id] == 350 + 410
    assert got(date(2024, 9, 30))[tree.district.id] == 350
    assert got(date(2024, 9, 30))[tree.province.id] == 350 + 530


def test_pages_roll_households_up_like_the_reference_at_every_date(db, tree):
    """The pages sum household counts in SQL (unit_ancestors) when nothing below is retired; at every
    date around the count changes they agree with households_by_unit, which walks the tree in Python."""
    units.set_household_count(tree.hamlet, 350, date(2024, 7, 1))
    units.set_household_count(tree.hamlet, 300, date(2025, 1, 1))  # counts may also go down
    units.set_household_count(tree.other_hamlet, 600, date(2024, 7, 15))
    lone = units.create_unit("Xã Không Ấp", "commune", tree.other_commune.parent)  # a leaf commune
    units.set_household_count(lone, 75, date(2024, 3, 1))
    db.session.commit()
    for on in (date(2023, 12, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 6, 30), date(2024, 7, 1),
               date(2024, 7, 14), date(2024, 7, 31), date(2024, 12, 31), date(2025, 1, 31)):
        for unit in (tree.province, tree.district, tree.other_commune.parent, tree.commune, tree.hamlet):
            table = queries.coverage(unit, on)
            reference = queries.households_by_unit([unit] + [r.unit for r in table.rows if r.unit], on)
            assert table.total.households == reference[unit.id], (unit.name, on)
            assert {r.unit.id: r.households for r in table.rows if r.unit} == \
                {u: n for u, n in reference.items() if u != unit.id}, (unit.name, on)
    assert queries.coverage(tree.province, date(2025, 1, 31)).total.households == 300 + 410 + 600 + 75


def test_share_uses_the_count_in_effect_at_the_end_of_the_month(db, tree):
    wallet, _ = make_services()
    units.set_household_count(tree.hamlet, 400, date(2024, 5, 15))
    for h in households(tree.hamlet, 40):
        visit(h, date(2024, 4, 10), adopted=[wallet])
    db.session.commit()
    april = queries.coverage(tree.hamlet, date(2024, 4, 30)).total
    may = queries.coverage(tree.hamlet, date(2024, 5, 31)).total
    assert april.households == 320 and april.services["ewallet"].share == pytest.approx(40 / 320)
    assert may.households == 400 and may.services["ewallet"].share == pytest.approx(0.1)


def test_a_province_without_districts_rolls_up_from_communes(db):
    wallet, _ = make_services()
    province = units.create_unit("Thành phố Cần Thơ", "province", None, "92")
    ninh_kieu = units.create_unit("Phường Ninh Kiều", "commune", province, "31147")
    cai_rang = units.create_unit("Phường Cái Răng", "commune", province, "31186")
    h1 = units.create_unit("Khu vực 1", "hamlet", ninh_kieu)
    h2 = units.create_unit("Khu vực 2", "hamlet", cai_rang)
    units.set_household_count(h1, 200, date(2025, 7, 1))
    units.set_household_count(h2, 600, date(2025, 7, 1))
    _db.session.add(Target(service_id=wallet.id, province_id=province.id, share=0.5, due_on=date(2025, 12, 31)))
    for h in households(h1, 150):
        visit(h, date(2025, 8, 1), adopted=[wallet])
    for h in households(h2, 60):
        visit(h, date(2025, 8, 2), adopted=[wallet])
    db.session.commit()
    table = queries.coverage(province, date(2025, 8, 31))
    assert [r.name for r in table.rows] == ["Phường Cái Răng", "Phường Ninh Kiều"]
    assert table.total.households == 800
    assert table.total.services["ewallet"].share == pytest.approx(210 / 800)
    cai = table.rows[0].services["ewallet"]
    assert cai.target_share == pytest.approx(0.5) and cai.below_target
    assert cai.gap == pytest.approx(0.1 - 0.5)
    assert not table.rows[1].services["ewallet"].below_target


def test_a_household_adopting_twice_counts_once_and_merged_households_not_at_all(db, tree):
    wallet, _ = make_services()
    h, other, dup = households(tree.hamlet, 3)
    visit(h, date(2024, 2, 1), adopted=[wallet])
    visit(h, date(2024, 3, 1), adopted=[wallet])
    visit(h, date(2024, 1, 20), guided=[wallet])
    visit(dup, date(2024, 2, 5), adopted=[wallet])
    db.session.commit()
    total = queries.coverage(tree.hamlet, date(2024, 3, 31)).total
    assert total.services["ewallet"].adopted == 2 and total.reached == 2
    dup.merged_into_id = other.id
    db.session.commit()
    total = queries.coverage(tree.hamlet, date(2024, 3, 31)).total
    assert total.services["ewallet"].adopted == 1 and total.reached == 1
    # As of January the household was reached (guided) but had adopted nothing.
    jan = queries.coverage(tree.hamlet, date(2024, 1, 31)).total
    assert jan.reached == 1 and jan.services["ewallet"].adopted == 0


def test_month_boundaries_are_vietnamese_calendar_days(db, tree):
    wallet, _ = make_services()
    a, b = households(tree.hamlet, 2)
    visit(a, date(2024, 1, 31), adopted=[wallet])
    visit(b, date(2024, 2, 1), adopted=[wallet])
    db.session.commit()
    series = queries.monthly_series(tree.hamlet, [(2024, 1), (2024, 2)])
    assert [m.row.services["ewallet"].adopted for m in series] == [1, 2]
    assert series[0].on == date(2024, 1, 31)
    # 17:30 UTC on 31 January is already 1 February in Hồ Chí Minh City (UTC+7).
    assert queries.default_month(datetime(2024, 1, 31, 17, 30, tzinfo=UTC)) == (2024, 2)
    assert queries.default_month(datetime(2024, 1, 31, 16, 59, tzinfo=UTC)) == (2024, 1)


def test_edits_and_deletions_show_in_every_ancestor_on_the_next_load(db, tree):
    wallet, vneid = make_services()
    a, b = households(tree.hamlet, 2)
    late = visit(a, date(2024, 5, 20), adopted=[wallet])
    db.session.commit()
    on_april = lambda unit: queries.coverage(unit, date(2024, 4, 30)).total
    on_may = lambda unit: queries.coverage(unit, date(2024, 5, 31)).total
    assert [on_may(u).services["ewallet"].adopted
            for u in (tree.hamlet, tree.commune, tree.district, tree.province)] == [1, 1, 1, 1]
    assert on_april(tree.province).services["ewallet"].adopted == 0

    # An earlier adopting visit is logged: the adoption moves to April everywhere above.
    early = visit(a, date(2024, 4, 2), adopted=[wallet])
    db.session.commit()
    assert on_april(tree.province).services["ewallet"].adopted == 1
    assert on_april(tree.district).reached == 1

    # The visit's date is corrected to May; adoption and reach follow it.
    early.visited_on = date(2024, 5, 2)
    adoption = db.session.get(Adoption, (a.id, wallet.id))
    adoption.adopted_on = date(2024, 5, 2)
    db.session.commit()
    assert on_april(tree.province).reached == 0
    assert on_may(tree.province).services["ewallet"].adopted == 1

    # Both visits deleted: nothing is left anywhere.
    db.session.delete(db.session.get(Adoption, (a.id, wallet.id)))
    db.session.flush()
    db.session.delete(early)
    db.session.delete(late)
    db.session.commit()
    for unit in (tree.hamlet, tree.commune, tree.district, tree.province):
        row = on_may(unit)
        assert row.reached == 0 and row.services["ewallet"].adopted == 0


def test_a_partial_month_counts_up_to_the_day(db, tree):
    wallet, _ = make_services()
    a, b = households(tree.hamlet, 2)
    visit(a, date(2024, 6, 3), adopted=[wallet])
    visit(b, date(2024, 6, 20), adopted=[wallet])
    db.session.commit()
    assert queries.coverage(tree.district, date(2024, 6, 10)).total.services["ewallet"].adopted == 1
    assert queries.coverage(tree.district, date(2024, 6, 10)).total.reached == 1
    assert queries.coverage(tree.district, date(2024, 6, 30)).total.services["ewallet"].adopted == 2


def test_verify_reports_a_tally_that_disagrees_with_the_visits(app, db, tree, runner):
    wallet, _ = make_services()
    (a,) = households(tree.hamlet, 1)
    visit(a, date(2024, 6, 3), adopted=[wallet])
    db.session.commit()
    assert runner.invoke(args=["coverage", "verify"]).exit_code == 0
    db.session.execute(sa.text("UPDATE coverage_tallies SET households = households + 5 "
                               "WHERE unit_id = :u AND service_id = :s"), {"u": tree.district.id, "s": wallet.id})
    db.session.execute(sa.text("UPDATE adoptions SET visit_id = visit_id"))  # a no-op write stays unnoticed
    db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "coverage_tallies: 1 rows expected but missing or different, 1 rows stored" in result.output
    # Each wrong row is shown both ways (unit, service, month, households), so it can be found.
    lines = result.output.splitlines()
    assert f"  expected ({tree.district.id}, {wallet.id}, 202406, 1)" in lines
    assert f"  stored   ({tree.district.id}, {wallet.id}, 202406, 6)" in lines
    # A rebuild from the visits repairs it (and the autouse check after the test agrees).
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0
    assert queries.coverage(tree.district, date(2024, 6, 30)).total.services["ewallet"].adopted == 1


def test_verify_reports_a_tally_row_lost_or_stray_on_its_own(app, db, tree, runner):
    """A row gone (a hand-run DELETE) or one too many (a hand-run INSERT) is a fault by itself, with
    nothing different beside it."""
    wallet, _ = make_services()
    (a,) = households(tree.hamlet, 1)
    visit(a, date(2024, 6, 3), adopted=[wallet])
    db.session.commit()
    db.session.execute(sa.text("DELETE FROM coverage_tallies WHERE unit_id = :u AND service_id = :s"),
                       {"u": tree.district.id, "s": wallet.id})
    db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "coverage_tallies: 1 rows expected but missing or different, 0 rows stored" in result.output
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0
    db.session.execute(sa.text("INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
                               "VALUES (:u, :s, 202403, 2)"), {"u": tree.district.id, "s": wallet.id})
    db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "coverage_tallies: 0 rows expected but missing or different, 1 rows stored" in result.output
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0


def test_verify_names_a_lost_trigger_and_rebuild_puts_it_back(app, db, tree, runner):
    """A table rebuilt by a migration (SQLite's batch mode) loses its triggers, and with them the live
    tallies: verify says which and what to run."""
    on = " ON visits" if db.engine.dialect.name == "postgresql" else ""
    db.session.execute(sa.text(f"DROP TRIGGER cov_visits_ins{on}"))
    db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "triggers missing (run `flask coverage rebuild`): cov_visits_ins" in result.output
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["coverage", "verify"]).exit_code == 0


def test_verify_reports_a_running_total_that_disagrees_and_rebuild_repairs_it(app, db, tree, runner):
    """The current month reads the running totals: a wrong one would show on every page until found."""
    wallet, _ = make_services()
    (a,) = households(tree.hamlet, 1)
    visit(a, date(2024, 6, 3), adopted=[wallet])
    db.session.commit()
    this_month = month_end(*queries.default_month())
    assert queries.coverage(tree.district, this_month).total.services["ewallet"].adopted == 1
    # A unit's total row is the sum of its children's: the hamlet's own total is what the commune sums.
    db.session.execute(sa.text("UPDATE coverage_totals SET households = households + 5 "
                               "WHERE unit_id = :u AND service_id = :s"), {"u": tree.hamlet.id, "s": wallet.id})
    db.session.commit()
    assert queries.coverage(tree.commune, this_month).total.services["ewallet"].adopted == 6
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "coverage_totals: 1 rows expected but missing or different, 1 rows stored" in result.output
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0
    assert queries.coverage(tree.district, this_month).total.services["ewallet"].adopted == 1


def test_a_past_month_is_the_running_total_less_the_later_months(db, tree):
    wallet, vneid = make_services()
    a, b, c = households(tree.hamlet, 3)
    visit(a, date(2024, 5, 3), adopted=[wallet])
    visit(b, date(2024, 6, 20), adopted=[wallet, vneid])
    visit(c, date(2024, 8, 1), adopted=[vneid])
    db.session.commit()
    may, june, july, aug = (queries.coverage(tree.commune, d).total for d in
                            (date(2024, 5, 31), date(2024, 6, 30), date(2024, 7, 31), date(2024, 8, 31)))
    assert [m.services["ewallet"].adopted for m in (may, june, july, aug)] == [1, 2, 2, 2]
    assert [m.services["vneid"].adopted for m in (may, june, july, aug)] == [0, 1, 1, 2]
    assert [m.reached for m in (may, june, july, aug)] == [1, 2, 2, 3]
    series = queries.monthly_series(tree.commune, [(2024, 5), (2024, 6), (2024, 7)])
    assert [m.row.services["vneid"].adopted for m in series] == [0, 1, 1]
    assert [m.row.reached for m in series] == [1, 2, 2]


def test_the_trend_shows_each_month_as_the_table_does_with_a_retired_hamlet_and_a_deleted_visit(db, tree):
    """The 12-month trend is read another way (running totals less later months, in one statement) than
    the table of each month: the same figures, also after a hamlet is retired (its households leave its
    commune's figures from that month) and after a visit is deleted (its service's total back to 0)."""
    wallet, vneid = make_services()
    a, gone = households(tree.hamlet, 2)
    b, c = households(tree.hamlet2, 2)
    visit(a, date(2024, 5, 3), adopted=[wallet])
    visit(b, date(2024, 6, 20), adopted=[wallet, vneid])
    visit(c, date(2024, 7, 10), adopted=[vneid])
    mistaken = visit(gone, date(2024, 6, 2), adopted=[vneid])
    db.session.commit()
    db.session.delete(db.session.get(Adoption, (gone.id, vneid.id)))
    db.session.flush()
    db.session.delete(mistaken)
    units.retire_unit(tree.hamlet2, date(2024, 8, 1))
    db.session.commit()
    months = [(2024, 5), (2024, 6), (2024, 7), (2024, 8)]
    for unit, wallets, vneids, reached in ((tree.commune, [1, 2, 2, 1], [0, 1, 2, 0], [1, 2, 3, 1]),
                                           (tree.hamlet, [1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1])):
        series = [m.row for m in queries.monthly_series(unit, months)]
        tables = [queries.coverage(unit, month_end(y, m)).total for y, m in months]
        assert [r.services["ewallet"].adopted for r in series] == wallets, unit.name
        assert [r.services["vneid"].adopted for r in series] == vneids, unit.name
        assert [r.reached for r in series] == reached, unit.name
        assert [(r.services["ewallet"].adopted, r.services["vneid"].adopted, r.reached) for r in series] == \
            [(r.services["ewallet"].adopted, r.services["vneid"].adopted, r.reached) for r in tables], unit.name


def test_a_retired_hamlet_leaves_its_commune_district_and_province_alike_from_its_retirement(db, tree):
    """A hamlet retired with visits in it stops counting from that day at every level above it, not only
    in its commune: the district's and the province's tables and trends lose its households, adopters and
    reach in the same month (each level is the sum of the one below)."""
    wallet, _vneid = make_services()
    (a,) = households(tree.hamlet, 1)
    b, c = households(tree.hamlet2, 2)
    visit(a, date(2024, 5, 3), adopted=[wallet])
    visit(b, date(2024, 5, 4), adopted=[wallet])
    visit(c, date(2024, 5, 5))
    units.retire_unit(tree.hamlet2, date(2024, 8, 1))
    db.session.commit()
    other_district = 530
    for unit, households_july, households_august in (
            (tree.commune, 320 + 410, 320), (tree.district, 320 + 410, 320),
            (tree.province, 320 + 410 + other_district, 320 + other_district)):
        july, august = (queries.coverage(unit, month_end(2024, m)).total for m in (7, 8))
        assert (july.households, july.services["ewallet"].adopted, july.reached) == (households_july, 2, 3), unit.name
        assert (august.households, august.services["ewallet"].adopted, august.reached) == \
            (households_august, 1, 1), unit.name
        trend = [m.row for m in queries.monthly_series(unit, [(2024, 7), (2024, 8)])]
        assert [(r.households, r.services["ewallet"].adopted, r.reached) for r in trend] == \
            [(households_july, 2, 3), (households_august, 1, 1)], unit.name
    # The province's rows are its districts, each as its own page shows it.
    province = queries.coverage(tree.province, month_end(2024, 8))
    assert {r.name: (r.households, r.services["ewallet"].adopted, r.reached) for r in province.rows}[
        tree.district.name] == (320, 1, 1)


def test_a_day_inside_a_month_counts_the_days_up_to_it_across_a_new_year(db, tree):
    """coverage(unit, on) on a day that is not a month's end: the whole months before it, and the days of
    its month up to it (adopters and reach), never the rest of the month; in January the months before
    are last year's."""
    wallet, vneid = make_services()
    a, b, c, d = households(tree.hamlet, 4)
    visit(a, date(2024, 12, 20), adopted=[wallet])
    visit(b, date(2025, 1, 10), adopted=[wallet, vneid])
    visit(c, date(2025, 1, 25), adopted=[vneid])
    visit(d, date(2025, 2, 3))
    db.session.commit()

    def figures(on):
        total = queries.coverage(tree.commune, on).total
        return total.services["ewallet"].adopted, total.services["vneid"].adopted, total.reached

    assert figures(date(2024, 12, 19)) == (0, 0, 0)
    assert figures(date(2024, 12, 20)) == (1, 0, 1)
    assert figures(date(2025, 1, 9)) == (1, 0, 1)
    assert figures(date(2025, 1, 10)) == (2, 1, 2)
    assert figures(date(2025, 1, 24)) == (2, 1, 2)
    assert figures(date(2025, 1, 31)) == (2, 2, 3)
    assert figures(date(2025, 2, 2)) == (2, 2, 3)
    assert figures(date(2025, 2, 15)) == (2, 2, 4)


def test_this_and_last_month_leave_out_what_came_after_them_as_months_further_back_do(db, tree):
    # The months shown most (this one, the last) take the later tallies ungrouped through another index
    # (app/coverage/queries.py, _SUMS_UPTO_RECENT); further back they are grouped in SQL. Same figures.
    from datetime import timedelta

    wallet, vneid = make_services()
    today = today_vn()
    this = today.replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    earlier = (last - timedelta(days=1)).replace(day=1)
    a, b, c, d = households(tree.hamlet, 4)
    visit(a, earlier, adopted=[wallet])
    visit(b, last, adopted=[wallet, vneid])
    visit(c, this, adopted=[vneid])
    visit(d, today, adopted=[wallet], guided=[vneid])
    db.session.commit()
    shown = [queries.coverage(tree.commune, month_end(m.year, m.month)).total for m in (earlier, last, this)]
    assert [t.services["ewallet"].adopted for t in shown] == [1, 2, 3]
    assert [t.services["vneid"].adopted for t in shown] == [0, 1, 2]
    assert [t.reached for t in shown] == [1, 2, 4]
    units = [tree.province.id, tree.district.id, tree.commune.id, tree.hamlet.id]
    for m in (earlier, last, this):
        upto = queries.month_key(m.year, m.month)
        sums = []
        for statement in (queries._SUMS_UPTO, queries._SUMS_UPTO_RECENT):
            total: dict = {}
            for stmt, chunk in statement.chunked(units):
                for unit_id, service_id, n in db.session.execute(stmt, {"units": chunk, "upto": upto}):
                    total[(unit_id, service_id)] = total.get((unit_id, service_id), 0) + int(n or 0)
            sums.append(total)
        assert sums[0] == sums[1], m



def test_a_day_inside_a_month_counts_that_month_from_its_first_day(db, tree):
    # The current month's page shows figures as of today, not a month's end: its days are counted from the
    # adoptions and first visits themselves, from the 1st up to the day shown (app/coverage/queries.py, _sums).
    wallet, _vneid = make_services()
    before, first, shown, after = households(tree.hamlet, 4)
    visit(before, date(2024, 2, 29), adopted=[wallet])
    visit(first, date(2024, 3, 1), adopted=[wallet])
    visit(shown, date(2024, 3, 5), adopted=[wallet])
    visit(after, date(2024, 3, 6), adopted=[wallet])
    db.session.commit()
    for unit in (tree.hamlet, tree.commune, tree.province):
        on_the_5th = queries.coverage(unit, date(2024, 3, 5)).total
        assert (on_the_5th.services["ewallet"].adopted, on_the_5th.reached) == (3, 3), unit.name
        on_the_1st = queries.coverage(unit, date(2024, 3, 1)).total
        assert (on_the_1st.services["ewallet"].adopted, on_the_1st.reached) == (2, 2), unit.name

def _page_data(tree):
    wallet, vneid = make_services()
    _db.session.add(Target(service_id=wallet.id, province_id=tree.province.id, share=0.5, due_on=date(2025, 12, 31)))
    for h in households(tree.hamlet, 40):
        visit(h, date(2024, 3, 5), adopted=[wallet])
    for h in households(tree.hamlet2, 300)[:250]:
        visit(h, date(2024, 3, 9), adopted=[wallet, vneid])
    _db.session.commit()
    return wallet, vneid


def test_district_officer_sees_communes_with_targets_and_totals(db, tree, client, login_as):
    _page_data(tree)
    login_as("district", tree.district)
    resp = client.get(f"/coverage/{tree.district.id}?month=2024-03")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # Phường I: 290 of 730 households (39,7%) is below the 50% target: marked by text, not colour alone.
    assert "Phường I" in html and "Phường III" in html
    assert "39,7%" in html and "Dưới chỉ tiêu:" in html
    # The district total is the ratio of sums: 290 / 730 (Phường III has no households).
    assert "730" in html
    assert 'style="' not in html
    assert "Độ phủ" in html  # the navigation link
    # The target row: the e-wallet's share and its date apart, as a screen reader reads them; the others none.
    row = parse(html).find(**{"class": "targets"})
    cells = [" ".join(td.text().split()) for td in row.find_all("td")]
    assert "50% đến 31/12/2025" in cells and set(cells) == {"50% đến 31/12/2025", "–"}


def test_the_month_in_progress_is_counted_as_of_today_and_a_past_one_to_its_end(db, tree, client, login_as):
    _page_data(tree)
    login_as("district", tree.district)
    past = parse(client.get(f"/coverage/{tree.district.id}?month=2024-03").get_data(as_text=True))
    assert "tính đến cuối tháng 03/2024" in past.find(**{"class": "meta"}).text()
    today = today_vn()
    now = parse(client.get(f"/coverage/{tree.district.id}").get_data(as_text=True))
    assert f"tháng {today:%m/%Y}, tính đến hôm nay (tháng chưa kết thúc)" in now.find(**{"class": "meta"}).text()


def test_the_trend_loads_with_htmx_or_through_a_plain_link(db, tree, client, login_as):
    _page_data(tree)
    login_as("district", tree.district)
    html = client.get(f"/coverage/{tree.district.id}?month=2024-03").get_data(as_text=True)
    # The page carries the table at once and the trend as a placeholder htmx fills when scrolled to.
    assert "<svg" not in html and 'hx-trigger="intersect once"' in html
    assert f'hx-get="/coverage/{tree.district.id}/trend?month=2024-03"' in html
    assert "Xem diễn biến từng tháng" in html  # the link for phones without JavaScript
    resp = client.get(f"/coverage/{tree.district.id}/trend?month=2024-03", headers={"HX-Request": "true"})
    part = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in part
    assert "<svg" in part and "polyline" in part and 'style="' not in part
    assert "trend-table" in part and "03/2024" in part and "04/2023" in part
    assert "Theo từng tháng, 04/2023 – 03/2024" in part  # twelve months to the month shown
    # Without JavaScript: the link shows the whole page with the trend in it.
    html = client.get(f"/coverage/{tree.district.id}?month=2024-03&trend=1").get_data(as_text=True)
    assert "<html" in html and "coverage-table" in html and "<svg" in html and "trend-table" in html
    assert "hx-trigger" not in html.split('id="trend"')[1].split(">")[0]
    plain = client.get(f"/coverage/{tree.district.id}/trend?month=2024-03")
    assert plain.status_code == 302 and "trend=1" in plain.headers["Location"]
    # Bad month: the reason, 400; another district: 404.
    bad = client.get(f"/coverage/{tree.district.id}/trend?month=2099-01", headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "chưa bắt đầu" in bad.get_data(as_text=True)
    assert client.get(f"/coverage/{tree.other_district.id}/trend?month=2024-03",
                      headers={"HX-Request": "true"}).status_code == 404


def test_sorting_by_a_column_orders_the_rows(db, tree, client, login_as):
    _page_data(tree)
    login_as("commune", tree.commune)
    html = client.get(f"/coverage/{tree.commune.id}?month=2024-03&sort=s-ewallet&dir=desc").get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    assert body.index("Khu vực 2") < body.index("Khu vực 1")  # 250/410 before 40/320
    # The sorted column's heading turns the order round; every other heading sorts its own column
    # ascending; each keeps the month.
    head = html[html.index("<thead>"):html.index("</thead>")].replace("&amp;", "&")
    base = f"/coverage/{tree.commune.id}?month=2024-03"
    assert f'href="{base}&sort=s-ewallet&dir=asc"' in head and f'href="{base}&sort=name&dir=asc"' in head
    html = client.get(f"/coverage/{tree.commune.id}?month=2024-03&sort=s-ewallet&dir=asc").get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    assert body.index("Khu vực 1") < body.index("Khu vực 2")
    head = html[html.index("<thead>"):html.index("</thead>")].replace("&amp;", "&")
    assert f'href="{base}&sort=s-ewallet&dir=desc"' in head and f'href="{base}&sort=name&dir=asc"' in head
    assert f'href="{base}&sort=households&dir=asc"' in head
    # An unknown column falls back to the name order instead of failing.
    assert client.get(f"/coverage/{tree.commune.id}?sort=nonsense").status_code == 200


def test_each_sort_orders_the_rows_by_its_own_figure(db, tree, client, login_as):
    # Hamlets whose name order is none of the figures' orders: Ấp Mới 90 of 100 (90%), Khu vực 1 40 of 320
    # (12,5%), Khu vực 2 250 of 410 (61%); Ấp Trống and Ấp Vắng have no count yet, so no share ("–").
    wallet, _vneid = _page_data(tree)
    new = units.create_unit("Ấp Mới", "hamlet", tree.commune)
    units.set_household_count(new, 100, date(2024, 1, 1))
    for h in households(new, 90):
        visit(h, date(2024, 3, 7), adopted=[wallet])
    units.create_unit("Ấp Vắng", "hamlet", tree.commune)
    units.create_unit("Ấp Trống", "hamlet", tree.commune)
    _db.session.commit()
    login_as("commune", tree.commune)

    def order(query: str) -> list[str]:
        html = client.get(f"/coverage/{tree.commune.id}?month=2024-03{query}").get_data(as_text=True)
        body = html[html.index("<tbody>"):html.index("</tbody>")]
        return re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', body)

    assert order("") == ["Ấp Mới", "Ấp Trống", "Ấp Vắng", "Khu vực 1", "Khu vực 2"]
    # By a share: the units without one after the lowest going down, before it going up; ties by name.
    assert order("&sort=s-ewallet&dir=desc") == ["Ấp Mới", "Khu vực 2", "Khu vực 1", "Ấp Trống", "Ấp Vắng"]
    assert order("&sort=s-ewallet&dir=asc") == ["Ấp Trống", "Ấp Vắng", "Khu vực 1", "Khu vực 2", "Ấp Mới"]
    assert order("&sort=reach&dir=desc") == ["Ấp Mới", "Khu vực 2", "Khu vực 1", "Ấp Trống", "Ấp Vắng"]
    assert order("&sort=reach&dir=asc") == ["Ấp Trống", "Ấp Vắng", "Khu vực 1", "Khu vực 2", "Ấp Mới"]
    assert order("&sort=reached&dir=desc") == ["Khu vực 2", "Ấp Mới", "Khu vực 1", "Ấp Trống", "Ấp Vắng"]
    assert order("&sort=households&dir=desc") == ["Khu vực 2", "Khu vực 1", "Ấp Mới", "Ấp Trống", "Ấp Vắng"]
    # A service that is not shown, or no column at all: the names, in the direction asked.
    assert order("&sort=s-bogus&dir=desc") == order("&sort=nonsense&dir=desc") == \
        ["Khu vực 2", "Khu vực 1", "Ấp Vắng", "Ấp Trống", "Ấp Mới"]
    # The header marks the column the rows follow, for screen readers too.
    for query, marked in (("&sort=reach&dir=desc", "Tỷ lệ tiếp cận"), ("&sort=s-bogus&dir=desc", "Đơn vị")):
        html = client.get(f"/coverage/{tree.commune.id}?month=2024-03{query}").get_data(as_text=True)
        headers = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)">\s*<a [^>]*>([^<]+)<', html)
        assert headers == [("descending", marked)], (query, headers)
    # A phone shows one service at a time: the one asked for, else the first.
    for query, shown in (("&service=vneid", "vneid"), ("&service=bogus", "ewallet"), ("", "ewallet")):
        html = client.get(f"/coverage/{tree.commune.id}?month=2024-03{query}").get_data(as_text=True)
        assert re.findall(r'<option value="(\w+)" selected>', html.split('id="service"')[1])[:1] == [shown], query


def test_the_page_says_which_household_count_its_figure_uses(db, tree, client, login_as):
    # A commune sums its hamlets' counts; a hamlet, whose rows are teams, and a commune with no hamlet use
    # their own.
    from tests.visits_helpers import make_team
    _page_data(tree)
    make_team(tree.commune, [tree.hamlet])  # the hamlet's page lists it as a row
    empty = units.create_unit("Xã Không Ấp", "commune", tree.district)
    _db.session.commit()
    login_as("district", tree.district)
    sums = "Số hộ: tổng số hộ có hiệu lực khi đó của các thôn, ấp thuộc đơn vị hiện nay"
    own = "Số hộ: số hộ của chính đơn vị có hiệu lực vào cuối tháng."
    for unit, said in ((tree.commune, sums), (tree.hamlet, own), (empty, own)):
        html = " ".join(client.get(f"/coverage/{unit.id}?month=2024-03").get_data(as_text=True).split())
        assert said in html and (sums if said == own else own) not in html, unit.name


def test_drill_down_with_htmx_returns_only_the_content(db, tree, client, login_as):
    _page_data(tree)
    login_as("district", tree.district)
    resp = client.get(f"/coverage/{tree.commune.id}?month=2024-03", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html and "Khu vực 1" in html
    assert 'hx-push-url="true"' in html
    # A history restore gets the whole page.
    resp = client.get(f"/coverage/{tree.commune.id}?month=2024-03",
                      headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in resp.get_data(as_text=True)


def test_a_hamlet_shows_the_teams_serving_it(db, tree, client, login_as):
    from app.teams.models import Team
    wallet, _ = make_services()
    team = Team(commune_id=tree.commune.id, name="Tổ CNSCĐ Khu vực 1", name_folded="to cnscd khu vuc 1")
    team.hamlets.append(_db.session.get(type(tree.hamlet), tree.hamlet.id))
    # A second team serving the hamlet, with no visit yet, and another hamlet's team.
    idle = Team(commune_id=tree.commune.id, name="Tổ CNSCĐ Khu vực 1B", name_folded="to cnscd khu vuc 1b")
    idle.hamlets.append(_db.session.get(type(tree.hamlet), tree.hamlet.id))
    elsewhere = Team(commune_id=tree.commune.id, name="Tổ CNSCĐ Khu vực 2", name_folded="to cnscd khu vuc 2")
    elsewhere.hamlets.append(_db.session.get(type(tree.hamlet2), tree.hamlet2.id))
    _db.session.add_all([team, idle, elsewhere])
    _db.session.flush()
    visited = households(tree.hamlet, 10)
    for h in visited:
        visit(h, date(2024, 3, 5), adopted=[wallet], team=team)
    last_day = households(tree.hamlet, 1)[0]
    visit(last_day, date(2024, 3, 31), adopted=[wallet], team=team)  # March's last day counts in March
    visit(households(tree.hamlet2, 1)[0], date(2024, 3, 6), adopted=[wallet], team=elsewhere)
    _db.session.commit()
    table = queries.coverage(tree.hamlet, date(2024, 3, 31))
    assert [r.name for r in table.rows] == ["Tổ CNSCĐ Khu vực 1", "Tổ CNSCĐ Khu vực 1B"]
    assert table.rows[0].reached == 11 and table.rows[0].services["ewallet"].adopted == 11
    assert table.rows[1].reached == 0 and table.rows[1].services["ewallet"].adopted == 0
    before = queries.coverage(tree.hamlet, date(2024, 3, 30)).rows[0]
    assert before.reached == 10 and before.services["ewallet"].adopted == 10
    # A household found to be another's double (merged into it) counts for the team no more.
    visited[0].merged_into_id = visited[1].id
    _db.session.commit()
    merged = queries.coverage(tree.hamlet, date(2024, 3, 31)).rows[0]
    assert merged.reached == 10 and merged.services["ewallet"].adopted == 10
    login_as("commune", tree.commune)
    assert "Tổ CNSCĐ Khu vực 1" in client.get(f"/coverage/{tree.hamlet.id}?month=2024-03").get_data(as_text=True)


def test_a_hamlet_no_team_serves_shows_its_figures_and_says_no_team_serves_it(db, tree, client, login_as):
    units.set_household_count(tree.hamlet, 320, date(2024, 1, 1))
    _db.session.commit()
    table = queries.coverage(tree.hamlet, date(2024, 3, 31))
    assert table.rows == [] and table.total.households == 320 and table.total.reached == 0
    login_as("commune", tree.commune)
    resp = client.get(f"/coverage/{tree.hamlet.id}?month=2024-03")
    assert resp.status_code == 200
    assert "Chưa có tổ nào phụ trách ấp này." in resp.get_data(as_text=True)


def test_a_district_officer_gets_404_for_another_district(db, tree, client, login_as):
    login_as("district", tree.district)
    assert client.get(f"/coverage/{tree.other_district.id}").status_code == 404
    assert client.get(f"/coverage/{tree.other_commune.id}").status_code == 404
    assert client.get(f"/coverage/{tree.province.id}").status_code == 404
    assert client.get("/coverage/999999").status_code == 404


def test_field_roles_may_not_open_coverage(db, tree, client, login_as):
    login_as("team_member", tree.commune)
    assert client.get(f"/coverage/{tree.commune.id}").status_code == 403


_EXAMPLE = "Nhập tháng theo dạng tháng/năm, ví dụ 10/2024."  # as the reports' month field says it


@pytest.mark.parametrize("month, message", [
    ("2024-13", _EXAMPLE),
    ("2024/03", _EXAMPLE),
    ("<script>", _EXAMPLE),
    ("9999-01", "Tháng này chưa bắt đầu"),
    ("2023-12", "Không có số liệu trước 01/2024"),
])
def test_bad_months_get_a_clear_message_and_400(db, tree, client, login_as, month, message):
    _page_data(tree)
    login_as("district", tree.district)
    resp = client.get(f"/coverage/{tree.district.id}", query_string={"month": month})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message.format(*queries.default_month()) in html
    assert "<tbody>" not in html  # no figures for a month that cannot be shown


def test_the_first_month_with_records_and_the_current_month_are_shown(db, tree, client, login_as):
    # The records begin in January 2024 (the tree's household counts); the current month is open but shown.
    _page_data(tree)
    login_as("district", tree.district)
    year, month = queries.default_month()
    nxt = (year + month // 12, month % 12 + 1)
    for asked, status in (("2024-01", 200), (f"{year}-{month:02d}", 200), ("2023-12", 400),
                          (f"{nxt[0]}-{nxt[1]:02d}", 400)):
        assert client.get(f"/coverage/{tree.district.id}", query_string={"month": asked}).status_code == status, asked


def test_the_migrations_install_the_triggers_this_version_builds(db):
    """The migrations hold frozen copies of the trigger SQL: a change to app/coverage/store.py that
    no migration carries would leave every database built from them behind the code."""
    from app.coverage import store
    from tests.conftest import MIGRATED_TRIGGERS
    expected = store.expected_definitions(db.engine.dialect.name)
    assert sorted(MIGRATED_TRIGGERS) == sorted(expected)
    for name, definition in expected.items():
        assert MIGRATED_TRIGGERS[name] == definition, name


def test_household_counts_are_kept_between_loads_and_a_change_shows_on_the_next(app, db, tree, runner):
    """Workers keep each unit's household-count history in memory (read on every page) under a token
    the database replaces whenever a count or the tree's shape changes, whoever changes it."""
    from app.coverage.models import HOUSEHOLD_COUNTS, CacheToken
    make_services()
    on = date(2024, 6, 30)
    reads = []

    def spy(_conn, _cursor, statement, *_rest):
        if "unit_ancestors.ancestor_id, hc.effective_on" in statement:
            reads.append(statement)

    def district() -> int:
        figure = queries.coverage(tree.district, on).total.households
        assert figure == queries.households_by_unit([tree.district], on)[tree.district.id]  # the plain walk
        return figure

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        assert district() == 320 + 410
        assert queries.coverage(tree.province, on).total.households == 320 + 410 + 530
        read = len(reads)
        assert district() == 730 and len(reads) == read  # kept: not read again
        units.set_household_count(tree.hamlet, 350, date(2024, 6, 1))
        db.session.commit()
        assert district() == 350 + 410 and len(reads) > read
        assert queries.coverage(tree.province, on).total.households == 350 + 410 + 530
        # A count fixed by hand in SQL: the trigger replaces the token all the same.
        db.session.execute(sa.text("UPDATE household_counts SET households = 300 WHERE unit_id = :u"),
                           {"u": tree.hamlet2.id})
        db.session.commit()
        assert district() == 350 + 300
        # The tree's shape: a commune counting its own households gets a hamlet, which then counts alone.
        units.set_household_count(tree.sibling_commune, 200, date(2024, 1, 1))
        db.session.commit()
        assert district() == 350 + 300 + 200
        units.create_unit("Khu vực 5", "hamlet", tree.sibling_commune)
        db.session.commit()
        assert district() == 350 + 300
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    household_token = sa.select(CacheToken.token).where(CacheToken.name == HOUSEHOLD_COUNTS)  # not the adults'
    token = db.session.scalar(household_token)
    assert runner.invoke(args=["coverage", "rebuild"]).exit_code == 0  # a bulk load runs without triggers
    db.session.expire_all()
    assert db.session.scalar(household_token) != token


def test_coverage_as_of_a_day_within_a_month_counts_up_to_that_day(db, tree):
    """Coverage is defined as of a date: a day inside a month takes the earlier months whole and this
    month's adoptions and first visits up to and including that day."""
    from tests.report_data import Activity, household, visit
    activity = Activity(tree)  # e-wallets: Hộ Ba 20 Sep, Hộ Một 1 Oct, Hộ Bốn 31 Oct (Khu vực 2)
    h6 = household(tree.hamlet, "Hộ Sáu")
    visit(h6, date(2024, 12, 10), activity.team, {activity.wallet: "adopted"})
    visit(activity.households["h2"], date(2025, 1, 8), activity.team, {activity.wallet: "adopted"})
    _db.session.commit()

    def wallets_and_reach(unit, day):
        total = queries.coverage(unit, day).total
        return total.services["e_wallet"].adopted, total.reached

    assert wallets_and_reach(tree.commune, date(2024, 9, 30)) == (1, 1)  # Hộ Ba
    assert wallets_and_reach(tree.commune, date(2024, 10, 1)) == (2, 2)  # and Hộ Một, that day
    assert wallets_and_reach(tree.commune, date(2024, 10, 15)) == (2, 3)  # Hộ Hai visited, not adopting
    assert wallets_and_reach(tree.commune, date(2024, 10, 30)) == (2, 3)
    assert wallets_and_reach(tree.commune, date(2024, 10, 31)) == (3, 4)  # Hộ Bốn
    assert wallets_and_reach(tree.hamlet, date(2024, 10, 31)) == (2, 3)  # Khu vực 1 only
    # Across a year's turn: December whole, then January up to the day.
    assert wallets_and_reach(tree.commune, date(2025, 1, 7)) == (4, 5)  # Hộ Sáu in December
    assert wallets_and_reach(tree.commune, date(2025, 1, 8)) == (5, 5)  # Hộ Hai, 8 January
    # February: January whole (the month before it, not December's), then February up to the day.
    assert wallets_and_reach(tree.commune, date(2025, 2, 10)) == (5, 5)
