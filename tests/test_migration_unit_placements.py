"""The migration that dates a hamlet's placements one after the other: a hamlet two plans moved hung under its
first new commune from the first plan's day, not from its own beginning as well as under its old commune."""
from datetime import date

import sqlalchemy as sa
from flask_migrate import upgrade

from app.extensions import db as _db
from app.units.models import UnitPlacement
from app.units.operations import create_unit
from tests.test_migration_household_counts_range import other_app  # noqa: F401 - the fixture

BEFORE, SINCE = "e7c2b9f4a1d3", "f2d6a8c4b1e9"
FIRST, SECOND = date(2025, 7, 1), date(2026, 1, 1)


def test_a_hamlet_moved_by_two_plans_hangs_under_each_commune_for_its_own_stretch(other_app):  # noqa: F811
    with other_app.app_context():
        upgrade(revision=BEFORE)
        province = create_unit("Thành phố Cần Thơ", "province", None, "92")
        phuong_i = create_unit("Phường I", "commune", province, "31318")
        first = create_unit("Phường Vị Thanh", "commune", province, "31321")
        second = create_unit("Phường Vị Thanh", "commune", province)
        khu_vuc_1 = create_unit("Khu vực 1", "hamlet", second)
        split_part = create_unit("Khu vực 1B", "hamlet", second)  # made by a split on 2025-03-01
        moved_once = create_unit("Khu vực 2", "hamlet", second)
        split_part.valid_from = date(2025, 3, 1)
        # As the two plans recorded them: each placement from the hamlet's own beginning.
        for hamlet in (khu_vuc_1, split_part):
            _db.session.add_all([
                UnitPlacement(unit_id=hamlet.id, parent_id=phuong_i.id, valid_from=hamlet.valid_from, valid_to=FIRST),
                UnitPlacement(unit_id=hamlet.id, parent_id=first.id, valid_from=hamlet.valid_from, valid_to=SECOND)])
        _db.session.add(UnitPlacement(unit_id=moved_once.id, parent_id=first.id, valid_to=SECOND))
        _db.session.commit()
        ids = {u.id: u.name for u in (khu_vuc_1, split_part, moved_once, phuong_i, first)}
        ids[first.id] = "Phường Vị Thanh 2025"

        upgrade(revision=SINCE)
        rows = _db.session.execute(sa.text(
            "SELECT unit_id, parent_id, valid_from, valid_to FROM unit_placements ORDER BY unit_id, valid_to")).all()
        _db.session.remove()
    day = (lambda v: v if v is None or isinstance(v, date) else date.fromisoformat(v))
    assert [(ids[u], ids[p], day(f), day(t)) for u, p, f, t in rows] == [
        ("Khu vực 1", "Phường I", None, FIRST), ("Khu vực 1", "Phường Vị Thanh 2025", FIRST, SECOND),
        ("Khu vực 1B", "Phường I", date(2025, 3, 1), FIRST), ("Khu vực 1B", "Phường Vị Thanh 2025", FIRST, SECOND),
        ("Khu vực 2", "Phường Vị Thanh 2025", None, SECOND)]
