"""The migration that records where each team was before a reorganization moved it, built from
what a database already holds: the reorganization's audit events, else the team's hamlets."""
from datetime import date

import sqlalchemy as sa
from flask_migrate import upgrade

from app.audit.models import record
from app.extensions import db as _db
from app.teams.models import Team
from app.text import fold
from app.units.models import UnitPlacement
from app.units.operations import create_unit
from tests.test_migration_household_counts_range import other_app  # noqa: F401 - the fixture

BEFORE, PLACEMENTS = "f3a9c71d5b20", "b5e81d3c7a42"
REFORM = date(2025, 7, 1)


def _team(name, commune, began, hamlets):
    team = Team(commune_id=commune.id, name=name, name_folded=fold(name), decision_date=began)
    team.hamlets.extend(hamlets)
    _db.session.add(team)
    _db.session.flush()
    return team


def test_a_team_moved_by_a_reorganization_gets_its_old_commune_until_the_reform_day(other_app):  # noqa: F811
    with other_app.app_context():
        upgrade(revision=BEFORE)
        province = create_unit("Tỉnh Hậu Giang", "province", None, "93")
        phuong_1 = create_unit("Phường I", "commune", province, "31318")
        mot_ngan = create_unit("Thị trấn Một Ngàn", "commune", province, "31338")
        khu_vuc_1 = create_unit("Khu vực 1", "hamlet", phuong_1)
        nhon_xuan = create_unit("Ấp Nhơn Xuân", "hamlet", mot_ngan)
        vi_thanh = create_unit("Phường Vị Thanh", "commune", province, "31321")
        vi_thanh.valid_from = REFORM
        for hamlet, old in ((khu_vuc_1, phuong_1), (nhon_xuan, mot_ngan)):
            _db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=old.id, valid_to=REFORM))
        # Moved by the reorganization, which wrote its audit event...
        moved = _team("Tổ Phường I", vi_thanh, date(2024, 1, 1), [khu_vuc_1])
        record("move", "team", moved.id, vi_thanh.id, before={"commune": "Phường I", "commune_id": phuong_1.id},
               after={"commune": vi_thanh.name, "commune_id": vi_thanh.id, "on": REFORM.isoformat()})
        # ...one with no event (moved by hand), placed by its hamlet; one set up after the reform.
        unrecorded = _team("Tổ Nhơn Xuân", vi_thanh, date(2024, 3, 1), [nhon_xuan])
        _team("Tổ mới", vi_thanh, date(2025, 8, 1), [khu_vuc_1])
        _db.session.commit()
        ids = (moved.id, unrecorded.id, phuong_1.id, mot_ngan.id)

        upgrade(revision=PLACEMENTS)
        rows = _db.session.execute(sa.text(
            "SELECT team_id, commune_id, valid_from, valid_to FROM team_placements ORDER BY team_id")).all()
        _db.session.remove()
    day = (lambda v: v if isinstance(v, date) else date.fromisoformat(v))
    assert [(t, c, f, day(to)) for t, c, f, to in rows] == [(ids[0], ids[2], None, REFORM),
                                                            (ids[1], ids[3], None, REFORM)]


def test_the_accounts_names_are_folded_for_the_search_when_the_column_comes(other_app):  # noqa: F811
    with other_app.app_context():
        upgrade(revision="a5c8e2f4b7d1")
        province = create_unit("Tỉnh Hậu Giang", "province", None, "93")
        _db.session.commit()
        _db.session.execute(sa.text(
            "INSERT INTO users (username, password_hash, full_name, role, unit_id, locale, is_enabled, "
            "must_change_password, session_token) VALUES "
            "('tinh-dat', 'x', 'Phạm Quốc  Đạt', 'province', :p, 'vi', true, false, 'a'), "
            "('tinh-2', 'x', '', 'province', :p, 'vi', true, false, 'b')"), {"p": province.id})
        _db.session.commit()
        upgrade(revision="b3d7f1a9c2e4")
        rows = _db.session.execute(sa.text("SELECT username, full_name_folded FROM users ORDER BY username")).all()
        triggers = _db.session.execute(sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'")).scalar() \
            if _db.engine.dialect.name == "sqlite" else None
        _db.session.remove()
    assert [tuple(r) for r in rows] == [("tinh-2", ""), ("tinh-dat", "pham quoc dat")]
    assert triggers in (None, 3)  # the accounts token's triggers stay (SQLite's batch copy would drop them)
