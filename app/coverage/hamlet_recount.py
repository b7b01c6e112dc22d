"""Recount the coverage tallies of units above the hamlets from their hamlets' own tallies.

Faster than recounting them from every adoption and first visit (store.expected_tallies_sql, the
plain way, which `flask coverage verify` runs): a hamlet's tallies do not change when it moves, so
a unit's month is the sum of its hamlets' months, every month for a hamlet under it today and the
months before the day it left for a hamlet it had, the month split by that day counted from the
events (and households' moves) of its first days. tests/test_hamlet_recount.py holds it equal to the plain way.
"""
from __future__ import annotations

from datetime import date

from app.extensions import db


def _month(day: date) -> int:
    return day.year * 100 + day.month


def recount(unit_ids: set[int]) -> None:
    """Replace these units' tallies and totals (units above the hamlets) in the caller's transaction."""
    from app.coverage import store
    conn = db.session.connection()
    if not unit_ids:
        return
    ids = ", ".join(str(i) for i in sorted(unit_ids))
    hamlets = "SELECT id FROM admin_units WHERE level = 'hamlet'"
    if conn.exec_driver_sql(f"SELECT 1 FROM admin_units WHERE id IN ({ids}) AND level = 'hamlet'").first():
        raise ValueError("hamlet_recount.recount counts units above the hamlets")
    untils = sorted(r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0])[:10]) for r in
                    conn.exec_driver_sql(f"SELECT DISTINCT until FROM unit_ancestors WHERE ancestor_id IN ({ids}) "
                                         "AND until IS NOT NULL"))
    parts = [f"SELECT ua.ancestor_id AS unit_id, t.service_id, t.month, t.households FROM coverage_tallies t "
             f"JOIN unit_ancestors ua ON ua.unit_id = t.unit_id AND ua.ancestor_id IN ({ids}) "
             f"WHERE ua.until IS NULL AND t.unit_id IN ({hamlets})"]
    for until in untils:
        day = f"'{until.isoformat()}'"
        parts.append(f"SELECT ua.ancestor_id, t.service_id, t.month, t.households FROM coverage_tallies t "
                     f"JOIN unit_ancestors ua ON ua.unit_id = t.unit_id AND ua.ancestor_id IN ({ids}) "
                     f"AND ua.until = {day} WHERE t.month < {_month(until)} AND t.unit_id IN ({hamlets})")
        if until.day == 1:
            continue
        first = f"'{until.replace(day=1).isoformat()}'"
        leaving = (f"SELECT ua.unit_id FROM unit_ancestors ua WHERE ua.ancestor_id IN ({ids}) "
                   f"AND ua.until = {day}")
        events = ("SELECT a.hamlet_id, a.service_id, count(*) AS n FROM adoptions a "
                  "JOIN households h ON h.id = a.household_id WHERE h.merged_into_id IS NULL "
                  f"AND a.adopted_on >= {first} AND a.adopted_on < {day} AND a.hamlet_id IN ({leaving}) "
                  "GROUP BY a.hamlet_id, a.service_id "
                  "UNION ALL SELECT r.hamlet_id, 0, count(*) FROM household_reach r "
                  "JOIN households h ON h.id = r.household_id WHERE h.merged_into_id IS NULL "
                  f"AND r.first_visited_on >= {first} AND r.first_visited_on < {day} "
                  f"AND r.hamlet_id IN ({leaving}) GROUP BY r.hamlet_id "
                  "UNION ALL SELECT x.hamlet_id, x.service_id, sum(x.n) FROM ("
                  + store.moves_sql(where=f"m.moved_on >= {first} AND m.moved_on < {day}")
                  + f") x WHERE x.hamlet_id IN ({leaving}) GROUP BY x.hamlet_id, x.service_id")
        parts.append(f"SELECT ua.ancestor_id, x.service_id, {_month(until)}, x.n FROM ({events}) x "
                     f"JOIN unit_ancestors ua ON ua.unit_id = x.hamlet_id AND ua.ancestor_id IN ({ids}) "
                     f"AND ua.until = {day}")
    conn.exec_driver_sql(f"DELETE FROM coverage_tallies WHERE unit_id IN ({ids})")
    conn.exec_driver_sql(f"DELETE FROM coverage_totals WHERE unit_id IN ({ids})")
    # The hamlets' tallies are read, never written, so the deletes above do not touch them.
    conn.exec_driver_sql("INSERT INTO coverage_tallies (unit_id, service_id, month, households) "
                         "SELECT unit_id, service_id, month, sum(households) FROM ("
                         + " UNION ALL ".join(parts) + ") p GROUP BY unit_id, service_id, month")
    conn.exec_driver_sql("INSERT INTO coverage_totals (unit_id, service_id, households) "
                         + store.expected_totals_sql(f"SELECT unit_id, service_id, households FROM coverage_tallies "
                                                     f"WHERE unit_id IN ({ids})"))
