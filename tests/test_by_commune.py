"""The communes' adult month sums, named learners' first months and dossier totals read once and
added up per unit (app/coverage/by_commune.py) equal the plain queries joined through unit_ancestors,
on the adult world, on a reorganized one (former ancestors included), and after the tree changes."""
from datetime import date

import sqlalchemy as sa

from app.activities.models import Class
from app.areas.operations import move_subtree
from app.coverage import activity_months, adults, by_commune, named_learners, rollup
from app.extensions import db as _db
from app.units.models import AdminUnit
from tests import adult_world, migration_files
from tests.test_adult_maps import build

RANGES = [(202501, 202501), (202503, 202503), (202408, 202603), (202603, 202603), (202609, 202612)]


def _assert_as_plain() -> None:
    upper = sorted(_db.session.scalars(sa.select(AdminUnit.id).where(AdminUnit.level != "hamlet")))
    token, _activity, _retired = rollup.adult_tokens_and_retired(list(_db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.id.in_(upper)))))
    for asked in [upper, upper[:1], upper[1:3]]:
        communes = by_commune.commune_map(asked, token)
        for first, last in RANGES:
            plain = sorted((u, m, s, int(n), int(c))
                           for u, m, s, n, c in activity_months.upper_sums(asked, first, last))
            assert sorted(by_commune.upper_sums(communes, first, last)) == plain, (asked, first, last)
            firsts = {u: by_m for u, by_m in named_learners.upper_firsts(asked, first, last).items()}
            assert by_commune.upper_firsts(communes, first, last) == firsts, (asked, first, last)
            keys = list(range(first, last + 1))
            assert by_commune.dossier_totals(communes, keys) == adults.dossier_totals(asked, keys)


def test_the_communes_read_once_equal_the_plain_queries_on_the_adult_world(db, tree):
    adult_world.build(tree)
    # A class at the commune's cultural house, its named learner of no hamlet: counted by the commune
    # and the units above it only.
    adult_world.add_class(tree.commune, date(2026, 1, 9), 12, (0, 10, 2), named=[("Trịnh Văn Khách", 1980, None, None)])
    db.session.commit()
    _assert_as_plain()
    move_subtree(tree.commune, tree.other_district)  # the remembered map must follow the move
    db.session.commit()
    _assert_as_plain()


def test_the_communes_read_once_equal_the_plain_queries_across_a_reorganization(db):
    world = build()
    _assert_as_plain()
    move_subtree(world.phuong_7, world.chau_thanh_a)
    db.session.commit()
    _assert_as_plain()


def _figures(units, months):
    return {u.id: {m: f.as_dict() for m, f in by_month.items()}
            for u, by_month in zip(units, adults.adult_months(units, months).values(), strict=True)}


def _adult_rows_read(run) -> list[str]:
    """The statements `run` sends that read the adult month tables."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        if any(t in statement for t in ("activity_months", "named_learner_months", "commune_dossier_totals")):
            seen.append(statement)

    engine = _db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return seen


def test_the_remembered_month_figures_are_read_once_and_follow_every_change(db, tree):
    """A page between two changes reads none of the adult rows; after a class, a deleted class, a
    dossier total, a change by hand in SQL or a moved commune, the next page shows it, equal to
    figures read afresh."""
    from app.activities import operations as activities

    adult_world.build(tree)
    units = [tree.province, tree.district, tree.other_district, tree.commune, tree.hamlet, tree.other_hamlet]
    months = [(2026, 2), (2026, 3), (2026, 4)]

    def shown():
        return _figures(units, months)

    def fresh():
        by_commune._upper_figures.cache_clear()
        by_commune._hamlet_figures.cache_clear()
        return _figures(units, months)

    before = shown()
    assert before == fresh()
    assert before[tree.province.id][(2026, 3)]["attendances"] == adult_world.PROVINCE["attendances"]
    assert _adult_rows_read(shown) == []  # remembered: the second page reads no adult row

    adult_world.add_class(tree.commune, date(2026, 3, 28), 40, (0, 30, 10), hamlet=tree.hamlet2,
                          named=[("Ngô Thị Ích", 1980, tree.hamlet2, None)], results={"vneid": 9})
    db.session.commit()
    now = shown()
    assert now == fresh()
    assert now[tree.province.id][(2026, 3)]["attendances"] == 75 + 40
    assert now[tree.district.id][(2026, 3)]["named"] == 5 + 1
    assert now[tree.commune.id][(2026, 4)]["attendances"] == 0
    assert now[tree.commune.id][(2026, 3)]["working"]["vneid"] == 16 + 9

    klass = db.session.scalar(sa.select(Class).where(Class.learners_total == 40))
    activities.delete_class(klass)
    db.session.commit()
    assert shown() == before

    activities.set_dossier_total(tree.other_commune, 202603, 50)
    db.session.commit()
    now = shown()
    assert now == fresh()
    assert now[tree.province.id][(2026, 3)]["commune_dossiers"] == 60 + 50
    assert now[tree.province.id][(2026, 3)]["online_counted"] == 15 + 5

    db.session.execute(sa.text("UPDATE activity_months SET n = n + 100 WHERE commune_id = :c"),
                       {"c": tree.other_commune.id})  # by hand: the trigger still replaces the token
    db.session.commit()
    now = shown()
    assert now == fresh()
    assert now[tree.other_district.id] != before[tree.other_district.id]

    move_subtree(tree.commune, tree.other_district)  # the units' map changes: the other token
    db.session.commit()
    now = shown()
    assert now == fresh()
    assert now[tree.other_district.id][(2026, 3)]["attendances"] > now[tree.district.id][(2026, 3)]["attendances"]


def test_the_migration_carries_the_activity_token_triggers_this_module_builds():
    migration = migration_files.load("c4e7a1f93d62")
    for dialect in ("sqlite", "postgresql"):
        assert migration.INSTALL[dialect] == by_commune.activity_token_ddl(dialect)


def test_december_and_january_dossier_totals_count_and_a_total_of_none_adds_nothing(db, tree):
    """The months asked run across a new year: December's and January's totals are both counted, in the
    commune and every unit above it; a commune that entered 0 dossiers adds 0."""
    from app.activities import operations as activities

    adult_world.build(tree)
    units = [tree.province, tree.district, tree.commune]
    months = [(2025, 12), (2026, 1)]
    before = _figures(units, months)
    activities.set_dossier_total(tree.commune, 202512, 7)
    activities.set_dossier_total(tree.commune, 202601, 9)
    activities.set_dossier_total(tree.other_commune, 202601, 0)
    db.session.commit()
    after = _figures(units, months)
    for unit in units:
        added = {m: after[unit.id][m]["commune_dossiers"] - before[unit.id][m]["commune_dossiers"] for m in months}
        assert added == {(2025, 12): 7, (2026, 1): 9}, unit.name


def test_units_of_one_level_asked_together_each_count_their_own_communes(db, tree):
    """Two districts asked together (each commune under one of them only) get what each gets alone."""
    adult_world.build(tree)
    adult_world.add_class(tree.other_commune, date(2026, 3, 12), 25, (0, 20, 5))  # activity in both districts
    db.session.commit()
    months = [(2026, 2), (2026, 3), (2026, 4)]
    together = _figures([tree.district, tree.other_district], months)
    assert together[tree.district.id] == _figures([tree.district], months)[tree.district.id]
    assert together[tree.other_district.id] == _figures([tree.other_district], months)[tree.other_district.id]
    assert together[tree.other_district.id][(2026, 3)]["attendances"] >= 25
    assert together[tree.district.id] != together[tree.other_district.id]
