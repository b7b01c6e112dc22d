"""The household roll-up's fast path (counts summed per ancestor in SQL, kept in the worker's memory
under the triggers' token) gives the same households as a plain sum of the leaves' latest counts,
before and after the counts and the tree change."""
import os
import re
from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa

from app.coverage import rollup
from app.units import operations as units
from app.units.models import AdminUnit, HouseholdCount

DATES = [date(2023, 12, 31), date(2024, 1, 1), date(2024, 3, 15), date(2024, 5, 31), date(2024, 6, 1),
         date(2024, 9, 14), date(2024, 9, 15), date(2024, 12, 31), date(2025, 6, 30)]


def _plain_households(db, unit_id: int, on: date) -> int:
    """The leaves counted on `on` below the unit (itself if none), each at its latest count by then."""
    children, retired = defaultdict(list), {}
    for uid, parent_id, retired_on in db.session.execute(
            sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on)):
        children[parent_id].append(uid)
        retired[uid] = retired_on
    leaves, stack = [], [unit_id]
    while stack:
        u = stack.pop()
        kids = [c for c in children[u] if retired[c] is None or retired[c] > on]
        stack.extend(kids) if kids else leaves.append(u)
    hc = HouseholdCount.__table__.alias("hc")
    latest = (sa.select(sa.func.max(HouseholdCount.effective_on))
              .where(HouseholdCount.unit_id == hc.c.unit_id, HouseholdCount.effective_on <= on).scalar_subquery())
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(hc.c.households), 0))
                             .where(hc.c.unit_id.in_(leaves), hc.c.effective_on == latest))


def _assert_rolled_up_as_plain(db, tree, walked=()) -> None:
    """Every unit's households and its children's, on every date; `walked` names the units with a
    retired unit below them, whose roll-up is the Python walk (the others take the fast path)."""
    units_ = [tree.province, tree.district, tree.other_district, tree.commune, tree.sibling_commune,
              tree.other_commune, tree.hamlet]
    for unit in units_:
        view = rollup.subtree_of(unit)
        assert isinstance(view, rollup.Subtree if unit in walked else rollup.LiveSubtree), unit.name
        for on in DATES:
            asked = [unit.id] + view.active_children(unit.id, on)
            got = {u: view.households(u, on) for u in asked}
            assert got == {u: _plain_households(db, u, on) for u in asked}, (unit.name, on)
    for on in DATES:
        assert rollup.Subtree(units_).households(tree.province.id, on) == _plain_households(db, tree.province.id, on)


def test_the_remembered_roll_up_equals_a_plain_sum_of_the_leaves_after_every_change(db, tree):
    units.set_household_count(tree.hamlet, 350, date(2024, 6, 1))
    units.set_household_count(tree.hamlet2, 400, date(2024, 9, 15))
    db.session.commit()
    _assert_rolled_up_as_plain(db, tree)  # remembered now

    units.set_household_count(tree.hamlet, 360, date(2024, 3, 15))  # between two known counts
    db.session.commit()
    _assert_rolled_up_as_plain(db, tree)
    db.session.execute(sa.text("UPDATE household_counts SET households = 111 WHERE unit_id = :u"),
                       {"u": tree.other_hamlet.id})  # by hand: the trigger still replaces the token
    db.session.commit()
    _assert_rolled_up_as_plain(db, tree)
    # The tree's shape: a commune with its own count, then a hamlet below it that counts alone.
    units.set_household_count(tree.sibling_commune, 200, date(2024, 1, 1))
    db.session.commit()
    _assert_rolled_up_as_plain(db, tree)
    hamlet = units.create_unit("Khu vực 5", "hamlet", tree.sibling_commune)
    units.set_household_count(hamlet, 90, date(2024, 5, 31))
    db.session.commit()
    _assert_rolled_up_as_plain(db, tree)

    # A retired hamlet stops counting from its retirement: the plain walk of Subtree takes over.
    units.retire_unit(tree.hamlet2, date(2024, 9, 14))
    db.session.commit()
    tree.refresh()
    _assert_rolled_up_as_plain(db, tree, walked=(tree.province, tree.district, tree.commune))



def test_a_page_lists_a_renamed_added_or_retired_unit_at_once_in_its_name_order(db, tree, client, login_as):
    """The worker keeps a unit's children and their name order under the token: every change to the
    units replaces it, so the next page (the same worker) lists what the database holds."""
    login_as("province", tree.province)

    def rows(query=""):  # the table's units, in its order
        html = client.get(f"/coverage/{tree.district.id}{query}").get_data(as_text=True)
        return re.findall(r'<th scope="row">\s*<a [^>]*>([^<]*)</a>', html)

    assert rows() == ["Phường I", "Phường III"]  # kept now
    units.rename_unit(tree.commune, "Phường Vị Tân")
    db.session.commit()
    assert rows() == ["Phường III", "Phường Vị Tân"]
    # By hand, as a repair would: the trigger still replaces the token.
    db.session.execute(sa.text("UPDATE admin_units SET name = 'Phường An Bình', name_folded = 'phuong an binh' "
                               "WHERE id = :u"), {"u": tree.sibling_commune.id})
    db.session.commit()
    assert rows() == ["Phường An Bình", "Phường Vị Tân"]
    assert rows("?dir=desc") == ["Phường Vị Tân", "Phường An Bình"]
    units.create_unit("Phường Bảy", "commune", tree.district, "31324")
    db.session.commit()
    assert rows() == ["Phường An Bình", "Phường Bảy", "Phường Vị Tân"]
    units.retire_unit(tree.sibling_commune, date(2024, 9, 14))
    db.session.commit()
    assert rows() == ["Phường Bảy", "Phường Vị Tân"]


def _rows_read(plan: dict) -> int:
    """Rows every node of an executed plan produced or filtered out, over all its loops, on the units'
    tables: the one-row cache_tokens is left out (its index also counts the dead versions that each
    token replacement leaves until autovacuum, however many units there are)."""
    if plan.get("Relation Name") == "cache_tokens" or plan.get("Index Name", "").startswith("pk_cache_tokens"):
        return 0
    own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
           + plan.get("Rows Removed by Join Filter", 0)) * plan.get("Actual Loops", 1)
    return own + sum(_rows_read(child) for child in plan.get("Plans", ()))


def _executed_plan(db, sql: str, params: dict, generic: bool) -> dict:
    """The statement's plan, run, as a prepared statement gets it: after its fifth run PostgreSQL may
    keep one generic plan that knows nothing of the values (`generic`), or plan each run (not)."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    prepared = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql).replace("%%", "%")
    # Through the driver itself: the SQL carries a literal % that a parameter style would take for one.
    raw = db.session.connection().connection.driver_connection
    raw.execute(f"SET LOCAL plan_cache_mode = {'force_generic_plan' if generic else 'force_custom_plan'}")
    raw.execute(f"PREPARE plan_probe AS {prepared}")
    try:
        args = ", ".join(str(params[n]) if isinstance(params[n], int) else "'" + params[n] + "'" for n in names)
        return raw.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plan_probe({args})").fetchone()[0][0]["Plan"]
    finally:
        raw.execute("DEALLOCATE plan_probe")


@pytest.mark.skipif(os.environ.get("TEST_DB") != "postgres", reason="PostgreSQL's plans")
def test_a_small_units_page_reads_its_own_units_not_the_province_even_once_the_statement_is_prepared(db, tree):
    # A province of 600 hamlets more, all in one commune: a page of another reads none of them.
    big = units.create_unit("Xã Lớn", "commune", tree.district, "99999")
    db.session.flush()
    db.session.execute(sa.insert(AdminUnit), [
        {"name": f"Ấp {i}", "name_folded": f"ap {i}", "level": "hamlet", "parent_id": big.id, "depth": big.depth + 1,
         "path": big.path} for i in range(600)])
    db.session.execute(sa.update(AdminUnit).where(AdminUnit.parent_id == big.id)
                       .values(path=AdminUnit.path + sa.cast(AdminUnit.id, sa.String) + "/"))
    db.session.execute(sa.text("ANALYZE admin_units"))
    from sqlalchemy.dialects import postgresql
    dialect = postgresql.psycopg.dialect()
    # The children with "any retired below" beside them; for a unit without children, the latter alone.
    statements = [rollup._CHILDREN_AND_RETIRED.compile(dialect=dialect), rollup._RETIRED_BELOW.compile(dialect=dialect)]
    for unit in (tree.hamlet, tree.commune):
        shown = len(db.session.scalars(sa.select(AdminUnit.id).where(AdminUnit.within(unit))).all())
        for statement in statements:
            params = dict(statement.params, unit=unit.id, path=unit.path)
            for generic in (False, True):
                read = _rows_read(_executed_plan(db, str(statement), params, generic))
                assert read <= 3 * shown + 5, (unit.name, str(statement)[:40], generic, read)
