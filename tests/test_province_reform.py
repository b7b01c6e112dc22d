"""`flask demo seed --scale province --reform`, on a province shrunk for the test: Tiền Giang on the
old map carried into new Đồng Tháp by the official plan, with what follows it."""
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities.models import CentreShift, Class
from app.auth.models import User
from app.coverage import activity_months, named_learners, store
from app.demo import province, province_reform
from app.extensions import db as _db
from app.teams.models import Team
from app.units.models import AdminUnit, unit_for_code

REFORM = date(2025, 7, 1)


@pytest.fixture
def small_province(db):
    # One hamlet per commune and few rows: the same code paths as the full-size seed, in seconds.
    sizes = province.Scale(hamlets=170, teams=170, members=170, visits=1000, years=1, hamlet_households=(31, 40),
                           classes_per_commune_month=1, shifts_per_commune_month=1)
    province.seed_province(echo=lambda _text: None, end=date(2025, 12, 31), scale=sizes)
    province_reform.reform_province(echo=lambda _text: None)
    _db.session.commit()


def _current(unit_id: int) -> bool:
    return _db.session.get(AdminUnit, unit_id).retired_on is None


def test_the_province_seed_carries_tien_giang_into_dong_thap_by_the_official_plan_with_what_follows(
        small_province):
    old, new = unit_for_code("82", on=date(2025, 6, 30)), unit_for_code("82", on=REFORM)
    assert (old.name, old.retired_on) == ("Tỉnh Tiền Giang", REFORM)
    assert (new.name, new.valid_from) == ("Tỉnh Đồng Tháp", REFORM)
    communes = _db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.within(new), AdminUnit.level == "commune", AdminUnit.retired_on.is_(None))).all()
    # Tiền Giang's heirs and old Đồng Tháp's communes: the official list's 102, with their hamlets.
    assert len(communes) == 102
    assert all(_db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.parent_id == c.id).limit(1))
               for c in communes)
    hamlets_left = sa.select(sa.func.count()).select_from(AdminUnit).where(
        AdminUnit.within(old), AdminUnit.level == "hamlet")
    assert _db.session.scalar(hamlets_left) == 0
    accounts = {u.username: u for u in _db.session.scalars(sa.select(User))}
    area = _db.session.get(AdminUnit, accounts["tg-district"].unit_id)
    assert (area.name, area.level, area.parent_id) == ("Khu vực Cái Bè", "area", new.id)
    assert accounts["tg-district"].is_enabled
    assert _db.session.get(AdminUnit, accounts["tg-commune"].unit_id).name == "Xã Cái Bè"
    assert accounts["tg-province"].unit_id == new.id and accounts["tg-province"].is_enabled
    leader_team = _db.session.get(Team, accounts["tg-leader"].team_id)
    assert leader_team.commune_id == accounts["tg-leader"].unit_id and _current(leader_team.commune_id)
    # Classes and shifts since the reform are on the new communes; every kept figure agrees.
    for model in (Class, CentreShift):
        since = _db.session.scalars(sa.select(model.commune_id).where(model.held_on >= REFORM).distinct()).all()
        before = _db.session.scalars(sa.select(model.commune_id).where(model.held_on < REFORM).distinct()).all()
        assert since and all(_current(c) for c in since)
        assert before and not any(_current(c) for c in before)
    conn = _db.session.connection()
    assert store.verify(conn) == [] and named_learners.verify(conn) == [] and activity_months.verify(conn) == []
