"""The month tables (app/coverage/visit_months.py) against the plain queries they replaced: a month's
visits per hamlet and team, households visited per hamlet (merged ones left out) and new adoptions,
counted from the visits and adoptions themselves, after every kind of change a visit can go through."""
from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from app.coverage import store
from app.dates import month_end
from app.extensions import db
from app.households.models import Household
from app.households.operations import merge_households
from app.reports import queries
from app.reports.periods import Period
from app.reports.summary import compute_figures
from app.visits.models import Adoption, Visit, VisitService
from tests.report_data import Activity, household, visit

MONTHS = [(2024, 9), (2024, 10), (2024, 11), (2024, 12)]
QUARTERS = [Period.quarter(2024, 3), Period.quarter(2024, 4)]
OCTOBER = Period.month(2024, 10)


def plain_activity(root, start, end):
    """The plain way: the month's visits grouped by hamlet and team, and a distinct count of households."""
    hamlets = queries.subtree_ids(root)
    merged = sa.select(Household.id).where(Household.merged_into_id.isnot(None))
    visits, teams_in_hamlet, active = defaultdict(int), defaultdict(set), set()
    for h, t, n in db.session.execute(
            sa.select(Visit.hamlet_id, Visit.team_id, sa.func.count())
            .where(Visit.hamlet_id.in_(hamlets), Visit.visited_on.between(start, end))
            .group_by(Visit.hamlet_id, Visit.team_id)):
        visits[h] += n
        if t is not None:
            teams_in_hamlet[h].add(t)
            active.add(t)
    reached = dict(db.session.execute(
        sa.select(Visit.hamlet_id, sa.func.count(sa.distinct(Visit.household_id)))
        .where(Visit.household_id.notin_(merged), Visit.hamlet_id.in_(hamlets), Visit.visited_on.between(start, end))
        .group_by(Visit.hamlet_id)).all())
    return dict(visits), reached, dict(teams_in_hamlet), active


def plain_new_adoptions(root, start, end):
    merged = sa.select(Household.id).where(Household.merged_into_id.isnot(None))
    out = defaultdict(dict)
    for h, s, n in db.session.execute(
            sa.select(Adoption.hamlet_id, Adoption.service_id, sa.func.count())
            .where(Adoption.household_id.notin_(merged), Adoption.hamlet_id.in_(queries.subtree_ids(root)),
                   Adoption.adopted_on.between(start, end))
            .group_by(Adoption.hamlet_id, Adoption.service_id)):
        out[h][s] = n
    return dict(out)


def assert_same_as_plain(tree):
    db.session.flush()
    roots = [tree.province, tree.district, tree.commune, tree.other_commune,
             [tree.hamlet.id, tree.other_hamlet.id]]  # a list: the map as it was in a month
    for root in roots:
        for year, month in MONTHS:
            start, end = date(year, month, 1), month_end(year, month)
            one = Period.month(year, month)
            visits, reached, teams, active = queries.period_activity(root, one)
            assert (dict(visits), reached, dict(teams), active) == plain_activity(root, start, end), (root, month)
            assert dict(queries.new_adoptions_in(root, one)) == plain_new_adoptions(root, start, end)
        for period in QUARTERS:  # a quarter's households counted once, whichever of its months saw them
            start, end = date(period.year, period.first, 1), period.end
            visits, reached, teams, active = queries.period_activity(root, period)
            assert (dict(visits), reached, dict(teams), active) == plain_activity(root, start, end), (root, period)
            assert dict(queries.new_adoptions_in(root, period)) == plain_new_adoptions(root, start, end)
    assert store.verify(db.session.connection()) == []


def test_the_month_tables_count_what_the_visits_say(db, tree):
    a = Activity(tree)
    h1, h2 = a.households["h1"], a.households["h2"]
    # A second visit of a household in the month is one more visit, not one more household reached;
    # a visit with no team counts as a visit and names no team.
    visit(h1, date(2024, 10, 20), a.team, {a.wallet: "guided"})
    nobody = visit(h2, date(2024, 10, 21), a.team, {})
    nobody.team_id = None
    db.session.commit()
    visits, reached, teams, active = queries.period_activity(tree.commune, OCTOBER)
    assert visits == {tree.hamlet.id: 4, tree.hamlet2.id: 1}
    assert reached == {tree.hamlet.id: 2, tree.hamlet2.id: 1}
    assert teams == {tree.hamlet.id: {a.team.id}, tree.hamlet2.id: {a.team.id}} and active == {a.team.id}
    assert_same_as_plain(tree)
    # The same figures after a rebuild from the visits alone.
    store.rebuild(db.session.connection())
    db.session.commit()  # as `flask coverage rebuild` does (its triggers dropped and made again)
    assert_same_as_plain(tree)


def test_moved_changed_and_deleted_visits_leave_the_counts_exact(db, tree):
    a = Activity(tree)
    h1, h2, h4 = a.households["h1"], a.households["h2"], a.households["h4"]
    second = visit(h1, date(2024, 10, 9), a.team, {})
    db.session.commit()
    # Another month, another household, no team, another team: each a change of what is counted.
    second.visited_on = date(2024, 12, 2)
    db.session.flush()
    assert_same_as_plain(tree)
    second.household_id, second.hamlet_id = h4.id, h4.hamlet_id
    db.session.flush()
    assert_same_as_plain(tree)
    second.team_id = a.other_team.id
    db.session.flush()
    assert_same_as_plain(tree)
    db.session.delete(second)
    db.session.flush()
    assert_same_as_plain(tree)
    # One statement moving both of a household's October visits to another hamlet (as a hamlet split
    # does): the household leaves one hamlet's count and joins the other's, once.
    visit(h2, date(2024, 10, 25), a.team, {})
    db.session.execute(sa.update(Household).where(Household.id == h2.id).values(hamlet_id=tree.hamlet2.id))
    db.session.execute(sa.update(Visit).where(Visit.household_id == h2.id).values(hamlet_id=tree.hamlet2.id))
    db.session.execute(sa.update(Adoption).where(Adoption.household_id == h2.id).values(hamlet_id=tree.hamlet2.id))
    _visits, reached, _teams, _active = queries.period_activity(tree.commune, OCTOBER)
    assert reached == {tree.hamlet.id: 1, tree.hamlet2.id: 2}
    assert_same_as_plain(tree)
    # One statement deleting both: the household leaves October's count.
    october = sa.select(Visit.id).where(Visit.household_id == h2.id, Visit.visited_on < date(2024, 11, 1))
    db.session.execute(sa.delete(VisitService).where(VisitService.visit_id.in_(october)))
    db.session.execute(sa.delete(Visit).where(Visit.id.in_(october.scalar_subquery())))
    _visits, reached, _teams, _active = queries.period_activity(tree.commune, OCTOBER)
    assert reached == {tree.hamlet.id: 1, tree.hamlet2.id: 1}
    assert_same_as_plain(tree)


def test_a_merged_household_stops_counting_as_reached_and_counts_again_when_unmerged(db, tree):
    a = Activity(tree)
    h1, h3 = a.households["h1"], a.households["h3"]
    twin = household(tree.hamlet, "Hộ Một (trùng)")
    visit(twin, date(2024, 10, 3), a.team, {})
    db.session.commit()
    _v, reached, _t, _a = queries.period_activity(tree.commune, OCTOBER)
    assert reached[tree.hamlet.id] == 3
    merge_households(twin, h1)  # its visit moves to h1, reached already that month
    db.session.flush()
    _v, reached, _t, _a = queries.period_activity(tree.commune, OCTOBER)
    assert reached[tree.hamlet.id] == 2
    assert_same_as_plain(tree)
    # Merged without its visits moved (as an older merge left them): its months stop counting, then
    # count again when it is unmerged.
    db.session.execute(sa.update(Household).where(Household.id == h3.id).values(merged_into_id=h1.id))
    assert_same_as_plain(tree)
    db.session.execute(sa.update(Household).where(Household.id == h3.id).values(merged_into_id=None))
    assert_same_as_plain(tree)


def test_a_household_whose_only_neighbour_is_a_merged_duplicate_counts_as_reached(db, tree):
    """Whether a visit's household was merged away is asked of that household alone: a hamlet whose
    other registered household is a merged duplicate still counts the one visited, and stops when the
    visit goes."""
    from tests.visits_helpers import make_team
    team, _members = make_team(tree.commune, [tree.hamlet])
    kept, duplicate = household(tree.hamlet, "Hộ Giữ Lại"), household(tree.hamlet, "Hộ Trùng")
    duplicate.merged_into_id = kept.id
    db.session.flush()
    only = visit(kept, date(2024, 10, 5), team, {})
    _v, reached, _t, _a = queries.period_activity(tree.commune, OCTOBER)
    assert reached == {tree.hamlet.id: 1}
    assert_same_as_plain(tree)
    db.session.delete(only)
    db.session.flush()
    assert queries.period_activity(tree.commune, OCTOBER)[1] == {}
    assert_same_as_plain(tree)


def test_the_summary_reads_the_same_figures_as_before(db, tree):
    a = Activity(tree)
    visit(a.households["h1"], date(2024, 10, 28), a.team, {a.vneid: "adopted"})
    db.session.commit()
    figures = compute_figures(tree.province, 2024, 10)["figures"]
    assert figures[str(tree.commune.id)]["visits"] == 4
    assert figures[str(tree.commune.id)]["reached_month"] == 3
    assert figures[str(tree.province.id)]["visits"] == 5
    assert figures[str(tree.province.id)]["new"] == {"e_wallet": 3, "vneid": 2}
    assert figures[str(tree.province.id)]["active_teams"] == 2


def test_verify_names_each_table_whose_rows_the_visits_do_not_imply(db, tree):
    a = Activity(tree)
    h1 = a.households["h1"]
    assert store.verify(db.session.connection()) == []
    corruptions = [
        ("visit_months", "UPDATE visit_months SET visits = visits + 1 WHERE month = 202410"),
        ("reach_months", "UPDATE reach_months SET households = 7 WHERE month = 202411"),
        ("household_months", f"DELETE FROM household_months WHERE household_id = {h1.id}"),
        ("household_months", f"INSERT INTO household_months (household_id, month, hamlet_id) "
                             f"VALUES ({h1.id}, 202301, {tree.hamlet.id})"),
    ]
    for table, sql in corruptions:
        conn = db.session.connection()
        conn.exec_driver_sql(sql)
        problems = store.verify(conn)
        assert any(p.startswith(f"{table}:") for p in problems), (sql, problems)
        if sql.startswith("INSERT"):  # the stray row itself is shown, as written
            assert f"  ({h1.id}, 202301, {tree.hamlet.id})" in problems
        db.session.rollback()  # back to the recorded month, for the next one
        assert store.verify(db.session.connection()) == []


def test_a_rebuild_puts_the_month_tables_back_from_the_visits(db, tree, runner):
    """`flask coverage rebuild` (the repair verify points to) recomputes the month tables too: a month
    table broken by hand is right again, and the monthly figures with it."""
    Activity(tree)
    db.session.commit()
    before = queries.period_activity(tree.province, OCTOBER)
    conn = db.session.connection()
    conn.exec_driver_sql("UPDATE visit_months SET visits = visits + 3 WHERE month = 202410")
    conn.exec_driver_sql("DELETE FROM reach_months WHERE month = 202410")
    conn.exec_driver_sql("DELETE FROM household_months")
    db.session.commit()
    assert queries.period_activity(tree.province, OCTOBER) != before
    result = runner.invoke(args=["coverage", "rebuild"])
    assert result.exit_code == 0, result.output
    assert queries.period_activity(tree.province, OCTOBER) == before
    assert_same_as_plain(tree)
