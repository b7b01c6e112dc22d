"""`flask demo seed` tells the 2025 reform: Hậu Giang on the old map with visits to June 2025,
reorganized by the official plan into Cần Thơ with its 103 communes, visits since, targets, an area
with its officer; and a commune's hamlet review afterwards keeps the tallies right."""
import os
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities.models import CentreShift, Class
from app.auth.models import User
from app.coverage import store
from app.coverage.models import CoverageTotal
from app.dates import VN, now_vn
from app.demo.seed import seed_demo
from app.extensions import db as _db
from app.teams.models import Member
from app.units import hamlet_changes
from app.units.models import AdminUnit, unit_for_code
from app.visits.models import Target, Visit

REFORM = date(2025, 7, 1)


def _tallies_disagree() -> int:
    """Rows where the stored tallies differ from a recomputation from the visits (the tallies part
    of `flask coverage verify`, over the stored ancestors; the whole command recomputes the
    ancestors too, which takes minutes on this database on SQLite)."""
    with _db.engine.connect() as conn:
        expected = store.expected_tallies_sql(conn, f"({store.expected_reach_sql()})")
        stored = "SELECT unit_id, service_id, month, households FROM coverage_tallies WHERE households <> 0"
        missing = f"SELECT * FROM ({expected}) e EXCEPT SELECT * FROM ({stored}) s"
        extra = f"SELECT * FROM ({stored}) s EXCEPT SELECT * FROM ({expected}) e"
        return sum(conn.execute(sa.text(f"SELECT count(*) FROM ({q}) d")).scalar() for q in (missing, extra))


def _count(query):
    return _db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def test_the_demo_carries_hau_giang_through_the_reform_into_can_tho(db):
    seed_demo()
    old, new = unit_for_code("93", on=date(2025, 6, 30)), unit_for_code("92", on=REFORM)
    assert (old.name, old.retired_on) == ("Tỉnh Hậu Giang", REFORM)
    below_old = sa.select(AdminUnit).where(AdminUnit.path.startswith(old.path))
    assert _count(below_old.where(AdminUnit.level == "district")) == 8
    assert _count(below_old.where(AdminUnit.level == "commune")) == 75
    below_new = sa.select(AdminUnit).where(AdminUnit.path.startswith(new.path), AdminUnit.level == "commune",
                                           AdminUnit.retired_on.is_(None))
    assert _count(below_new) == 103
    # Every hamlet of old Hậu Giang now hangs in a commune of Cần Thơ.
    assert _count(below_old.where(AdminUnit.level == "hamlet")) == 0
    days = _db.session.execute(sa.select(sa.func.min(Visit.visited_on), sa.func.max(Visit.visited_on))).one()
    assert days[0] < date(2023, 3, 1) and days[1] >= REFORM
    assert _count(sa.select(Visit).where(Visit.visited_on < REFORM)) > 300
    assert _count(sa.select(Visit).where(Visit.visited_on >= REFORM)) > 200
    # Each visit recorded on its own day in Vietnam (not all at the moment of seeding), none in the future.
    recorded = _db.session.execute(sa.select(Visit.visited_on, Visit.created_at)).all()
    assert all(at.astimezone(VN).date() == on and at <= now_vn() for on, at in recorded)
    # So is each class and each shift at the one-stop centre: the page says when it was recorded.
    for model in (Class, CentreShift):
        recorded = _db.session.execute(sa.select(model.held_on, model.created_at, model.updated_at)).all()
        assert recorded and all(at.astimezone(VN).date() == on and at <= now_vn() and changed == at
                                for on, at, changed in recorded), model.__name__
    assert _count(sa.select(Target).where(Target.province_id == new.id)) > 0
    # A member's phone stays unique in the province the member's team is in now.
    assert set(_db.session.scalars(sa.select(Member.province_id))) == {new.id}
    accounts = {u.username: u for u in _db.session.scalars(sa.select(User))}
    area = _db.session.get(AdminUnit, accounts["demo-area"].unit_id)
    assert (accounts["demo-area"].role, area.level, area.parent_id) == ("district", "area", new.id)
    # The area stands from the reform's day (the seeding day would leave it off the map of the months since).
    assert area.valid_from == REFORM
    from app.units.history import map_on
    assert area.id in map_on(new, date(2025, 8, 15)).units
    assert not accounts["demo-district"].is_enabled
    commune = _db.session.get(AdminUnit, accounts["demo-commune"].unit_id)
    assert (commune.name, commune.valid_from) == ("Phường Vị Thanh", REFORM)
    assert all(accounts[u].is_enabled for u in ("demo-admin", "demo-province", "demo-commune", "demo-leader"))
    assert _tallies_disagree() == 0

    # The 2026 review: two visited hamlets of Phường Vị Thanh become one.
    visited = sa.select(Visit.hamlet_id).where(Visit.visited_on >= REFORM).group_by(Visit.hamlet_id)
    a, b = _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(visited))
                               .order_by(AdminUnit.id).limit(2)).all()
    totals = dict(_db.session.execute(sa.select(CoverageTotal.service_id, CoverageTotal.households)
                                      .where(CoverageTotal.unit_id == commune.id)).all())
    hamlet_changes.merge_hamlets(a, b, date(2026, 1, 1), 900)
    _db.session.commit()
    assert totals == dict(_db.session.execute(sa.select(CoverageTotal.service_id, CoverageTotal.households)
                                              .where(CoverageTotal.unit_id == commune.id)).all())
    assert _tallies_disagree() == 0


@pytest.mark.skipif(os.environ.get("TEST_DB") == "postgres", reason="the refusal is SQLite's")
def test_the_city_seed_refuses_sqlite_with_a_reason_and_loads_nothing(db, runner):
    result = runner.invoke(args=["demo", "seed", "--scale", "city"])
    assert result.exit_code != 0
    assert "needs PostgreSQL" in result.output
    assert _count(sa.select(AdminUnit)) == 0


@pytest.mark.skipif(os.environ.get("TEST_DB") != "postgres", reason="--scale city is PostgreSQL's")
def test_a_tiny_city_seed_puts_168_communes_straight_under_the_city_with_hamlets_visits_and_classes(db):
    from dataclasses import replace

    from app.demo.province import CITY_SCALE, seed_province
    from app.teams.models import Team
    # The city's own code path at a few households per hamlet, one hamlet per commune.
    scale = replace(CITY_SCALE.fraction(0.0001), hamlet_households=(3, 5), classes_per_commune_month=1,
                    shifts_per_commune_month=1)
    stats = seed_province(echo=lambda *_a: None, end=date(2025, 9, 30), scale=scale)
    city = unit_for_code("79")
    communes = _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "commune")).all()
    assert len(communes) == 168 and {c.parent_id for c in communes} == {city.id}
    assert {c.kind for c in communes} == {"phuong", "xa", "dac_khu"}
    assert _count(sa.select(AdminUnit).where(AdminUnit.level == "district")) == 0
    hamlets = _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "hamlet")).all()
    assert len(hamlets) == 168 and {h.parent_id for h in hamlets} == {c.id for c in communes}
    assert _count(sa.select(Team)) == 168 and stats["visits"] > 0 and stats["classes"] > 0
    assert min(v.visited_on for v in _db.session.scalars(sa.select(Visit))) >= REFORM
    assert _tallies_disagree() == 0
    users = {u.username: u.unit_id for u in _db.session.scalars(sa.select(User))}
    assert users["tg-province"] == city.id and "tg-district" not in users and "tg-leader" in users
