"""`flask demo seed --scale province --reform`: the province seed carried through the 2025 reform.

Tiền Giang (82) becomes part of new Đồng Tháp from 1 July 2025 (the two-level list gives new Đồng
Tháp the code 82 again), by the official plan drafted and completed as the small demo completes
Cần Thơ's (app/demo/reform.py) and applied by `reorganize.apply_plan`, the code behind
`flask units reorganize --plan` and the web page. Then, as the demo does: the communes that old
Đồng Tháp formed with made-up hamlets, the province's targets, an area of the communes that took
in the former district of tg-district (its officer re-bound to it), and the classes, shifts and
dossier totals dated from the reform logged on the new communes, as the communes would have.
"""
from __future__ import annotations

import random
import time
from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.demo import reform
from app.demo.province import ADULT_TARGETS, PROVINCE, TARGETS
from app.extensions import db
from app.units import gso, reorganize
from app.units.models import AdminUnit, UnitSuccession

NEW_PROVINCE = "82"   # new Đồng Tháp carries Tiền Giang's code
REFORM_ON = reform.REFORM_ON
AREA_NAME = "Khu vực Cái Bè"
SOURCE = "demo: official plan for Đồng Tháp (82)"


def old_province() -> AdminUnit:
    return db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == PROVINCE, AdminUnit.valid_on_clause(REFORM_ON - timedelta(days=1))))


def new_province() -> AdminUnit:
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == NEW_PROVINCE,
                                                        AdminUnit.retired_on.is_(None)))


def plan_lines() -> list[reorganize.PlanLine]:
    """The official draft for new Đồng Tháp, kept to Tiền Giang's lines, split communes' hamlets
    dealt out in turn among the candidates (as the small demo does)."""
    return reform.official_plan_lines(old_province(), NEW_PROVINCE, REFORM_ON)


def plan_rows(lines: list[reorganize.PlanLine]) -> list[list[str]]:
    """The lines as a plan file's rows (plan_sheet.HEADER order), for `flask units reorganize --plan`."""
    return [[ln.effective_on, ln.old_code, "", ln.hamlet, ln.new_code, ln.new_name, ln.account]
            for ln in lines]


def apply_official_plan() -> reorganize.Outcome:
    plan = reorganize.check_plan(SOURCE, plan_lines())
    if not plan.ok:
        raise RuntimeError("the plan has problems: " + "; ".join(m for _l, m in plan.problems()[:5]))
    outcome = reorganize.apply_plan(plan)
    db.session.flush()
    return outcome


def after_reform(rng: random.Random, echo=print) -> dict[str, float]:
    """What follows the plan in the story (the caller commits); returns the time of each step."""
    from app.demo.seed import HAMLET_NAMES
    timings: dict[str, float] = {}
    t = time.monotonic()

    def lap(name: str) -> None:
        nonlocal t
        now = time.monotonic()
        timings[name] = round(now - t, 1)
        echo(f"  {name}: {timings[name]} s")
        t = now

    old = old_province()
    # The communes that old Đồng Tháp formed, so the province has all of them, with made-up hamlets.
    gso.import_province(NEW_PROVINCE, on=REFORM_ON)
    db.session.flush()
    province = new_province()
    reform.rename_clashing_hamlets(province)
    reform.seed_new_hamlets(rng, province, HAMLET_NAMES, REFORM_ON)
    lap("the rest of new Đồng Tháp")
    seed_targets(province)
    district = db.session.scalar(sa.select(AdminUnit).join(User, User.unit_id == AdminUnit.id)
                                 .where(User.username == "tg-district"))
    if district is not None and district.level == "district":
        rebind_district_officer(reform.seed_area(province, district, AREA_NAME))
    db.session.flush()
    lap("targets and the area")
    move_activities_since(old, REFORM_ON)
    lap("classes and shifts since the reform on the new communes")
    return timings


def seed_targets(province: AdminUnit) -> None:
    from app.coverage.models import AdultTarget
    from app.visits.models import Service, Target
    services = dict(db.session.execute(sa.select(Service.code, Service.id).where(Service.active)).all())
    for code, share in TARGETS.items():
        if code in services:
            db.session.add(Target(service_id=services[code], province_id=province.id, share=share,
                                  due_on=date(2026, 12, 31)))
    for indicator, share in ADULT_TARGETS.items():
        db.session.add(AdultTarget(province_id=province.id, indicator=indicator, share=share,
                                   due_on=date(2026, 12, 31)))


def rebind_district_officer(area: AdminUnit) -> None:
    """The reorganization deactivated tg-district (its district ended); the province names it the
    area's officer, so benchmarks keep a level between the province and its communes."""
    from app.audit.models import record
    from app.users.operations import enable_account
    account = db.session.scalar(sa.select(User).where(User.username == "tg-district"))
    old = account.unit_id
    account.unit_id = area.id
    record("update", "user", account.id, area.id, before={"unit_id": old},
           after={"unit": area.name, "username": account.username})
    enable_account(account)


def move_activities_since(old: AdminUnit, day: date) -> None:
    """Classes, shifts and monthly dossier totals dated from `day` on the old province's communes go
    to the commune that succeeded each (a class held in a hamlet: that hamlet's commune now), as if
    logged on the new map; then the tables kept from them are rebuilt. The seed logged them on the
    old map to today; the reorganization, rightly, does not move records dated after it."""
    from app.coverage import activity_months, named_learners
    conn = db.session.connection()
    old_communes = sa.select(AdminUnit.id).where(AdminUnit.within(old), AdminUnit.level == "commune")
    heirs = dict(conn.execute(sa.select(UnitSuccession.old_unit_id, sa.func.min(UnitSuccession.new_unit_id))
                              .where(UnitSuccession.old_unit_id.in_(old_communes))
                              .group_by(UnitSuccession.old_unit_id)).all())
    if not heirs:
        return
    classes, shifts = sa.table("classes", sa.column("commune_id"), sa.column("held_on"),
                               sa.column("place_hamlet_id")), \
        sa.table("centre_shifts", sa.column("commune_id"), sa.column("held_on"))
    for table in (classes, shifts):
        conn.execute(sa.update(table).where(table.c.held_on >= day, table.c.commune_id.in_(list(heirs)))
                     .values(commune_id=sa.case(heirs, value=table.c.commune_id)))
    hamlet_parent = sa.select(AdminUnit.parent_id).where(AdminUnit.id == classes.c.place_hamlet_id) \
        .scalar_subquery()
    conn.execute(sa.update(classes).where(classes.c.held_on >= day, classes.c.place_hamlet_id.is_not(None),
                                          classes.c.commune_id.in_(set(heirs.values())))
                 .values(commune_id=hamlet_parent))
    # A named learner is known by commune, name and birth year (activities.models.person_key).
    pos = "instr" if conn.dialect.name == "sqlite" else "strpos"
    conn.exec_driver_sql(
        f"UPDATE class_learners SET person_key = substr(CAST((SELECT c.commune_id FROM classes c "
        f"WHERE c.id = class_learners.class_id) AS TEXT) || substr(person_key, {pos}(person_key, '|')), 1, 255) "
        f"WHERE class_id IN (SELECT id FROM classes WHERE held_on >= '{day.isoformat()}')")
    # Monthly totals: several old communes' months add up in their heir's.
    month = day.year * 100 + day.month
    totals = sa.table("commune_dossier_totals", sa.column("commune_id"), sa.column("month"),
                      sa.column("dossiers"), sa.column("recorded_at"))
    heir_case = sa.case(heirs, value=totals.c.commune_id)
    moved = conn.execute(sa.select(heir_case.label("heir"), totals.c.month, sa.func.sum(totals.c.dossiers),
                                   sa.func.max(totals.c.recorded_at))
                         .where(totals.c.month >= month, totals.c.commune_id.in_(list(heirs)))
                         .group_by(heir_case, totals.c.month)).all()
    conn.execute(sa.delete(totals).where(totals.c.month >= month, totals.c.commune_id.in_(list(heirs))))
    if moved:
        conn.execute(sa.insert(totals), [{"commune_id": h, "month": m, "dossiers": n, "recorded_at": at}
                                         for h, m, n, at in moved])
    named_learners.rebuild(conn)
    activity_months.rebuild(conn)


def reform_province(echo=print) -> dict[str, float]:
    """Apply the official plan to the seeded province, then what follows it; the caller commits."""
    t0 = time.monotonic()
    outcome = apply_official_plan()
    timings = {"apply": round(time.monotonic() - t0, 1)}
    echo(f"  the official plan for Đồng Tháp applied: {timings['apply']} s ({len(outcome.created)} units created, "
         f"{len(outcome.retired)} ended, {outcome.hamlets_moved} hamlets moved, {len(outcome.teams)} teams moved)")
    timings.update(after_reform(random.Random(87), echo))
    return timings
