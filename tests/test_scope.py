"""Scope: a user sees and changes only their own unit's subtree; outside it is 404 or 403."""
from datetime import date

import pytest

from app import scope
from app.units.models import AdminUnit

TODAY = date(2024, 6, 3)


def test_commune_user_sees_nothing_of_another_commune(client, tree, login_as):
    login_as("commune", tree.commune)
    for unit in (tree.sibling_commune, tree.other_commune, tree.other_hamlet):
        assert client.get(f"/units/{unit.id}").status_code == 404
    # Nor above: the district and province pages are outside a commune officer's area.
    assert client.get(f"/units/{tree.district.id}").status_code == 404
    assert client.get(f"/units/{tree.commune.id}").status_code == 200
    assert client.get(f"/units/{tree.hamlet.id}").status_code == 200


@pytest.mark.parametrize("path,data", [
    ("/units/{id}/hamlets", {"hamlet-name": "Ấp Lạ"}),
    ("/units/{id}/households", {"count-households": "10", "count-effective_on": "2024-01-01"}),
    ("/units/{id}/rename", {"name": "Tên Lạ"}),
    ("/units/{id}/retire", {"payload": "1"}),
    ("/units/{id}/delete", {"payload": "1"}),
])
def test_commune_user_cannot_change_another_commune(client, db, tree, login_as, path, data):
    login_as("commune", tree.commune)
    target = tree.other_hamlet if "{id}/hamlets" not in path and "households" not in path else tree.other_commune
    resp = client.post(path.format(id=target.id), data=data)
    assert resp.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.other_hamlet.id).name == "Ấp Nhơn Xuân"
    assert db.session.get(AdminUnit, tree.other_hamlet.id).retired_on is None


def test_district_user_sees_nothing_of_another_district(client, tree, login_as):
    login_as("district", tree.district)
    assert client.get(f"/units/{tree.commune.id}").status_code == 200
    assert client.get(f"/units/{tree.sibling_commune.id}").status_code == 200
    for unit in (tree.other_district, tree.other_commune, tree.other_hamlet, tree.province):
        assert client.get(f"/units/{unit.id}").status_code == 404
    html = client.get(f"/units/{tree.district.id}").get_data(as_text=True)
    assert "Thị trấn Một Ngàn" not in html


def test_scope_helper_queries(app, db, tree):
    from app.auth.cli import create_user
    district_user = create_user("d", "district", tree.district, "x" * 12)
    admin = create_user("a", "admin", tree.province, "x" * 12)
    db.session.flush()
    ids = set(db.session.scalars(scope.unit_ids_in_scope(district_user)))
    assert ids == {tree.district.id, tree.commune.id, tree.sibling_commune.id, tree.hamlet.id, tree.hamlet2.id}
    assert len(set(db.session.scalars(scope.unit_ids_in_scope(admin)))) == 9
    assert scope.can_see(tree.hamlet, district_user) and not scope.can_see(tree.other_hamlet, district_user)


def test_an_admin_sees_every_province_whichever_unit_the_account_is_bound_to(client, db, tree, login_as):
    """Every account is bound to a unit; an administrator's is where they sit, not the edge of what they see."""
    from app.units.operations import create_unit
    other = create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    commune = create_unit("Phường 1", "commune", other, "31498")
    hamlet = create_unit("Khóm 1", "hamlet", commune)
    db.session.commit()
    admin = login_as("admin", tree.province)
    assert {other.id, commune.id, hamlet.id} <= set(db.session.scalars(scope.unit_ids_in_scope(admin)))
    assert scope.can_see(hamlet, admin)
    for unit in (other, commune, hamlet):
        assert client.get(f"/units/{unit.id}").status_code == 200
    assert "Khóm 1" in client.get(f"/units/{commune.id}").get_data(as_text=True)
    # A province officer of the same province does not see the other one.
    client.post("/auth/logout")
    login_as("province", tree.province)
    assert client.get(f"/units/{commune.id}").status_code == 404


def test_path_prefix_does_not_leak_to_lookalike_ids(db, tree):
    """Unit /1/2/ must not see /1/23/: the path ends with a slash for that reason."""
    from app.auth.cli import create_user
    from app.units import operations as unit_ops
    extra = [unit_ops.create_unit(f"Xã {i}", "commune", tree.other_district, f"9{i:04d}") for i in range(25)]
    db.session.flush()
    user = create_user("c", "commune", tree.commune, "x" * 12)
    db.session.flush()
    visible = set(db.session.scalars(scope.unit_ids_in_scope(user)))
    assert not visible & {u.id for u in extra}


def test_a_loader_answers_404_outside_the_area_and_403_when_its_need_is_false(db, tree):
    from werkzeug.exceptions import Forbidden, NotFound

    from app.auth.cli import create_user
    officer = create_user("c", "commune", tree.commune, "x" * 12)
    db.session.flush()
    with pytest.raises(NotFound):
        scope.get_unit_or_404(tree.other_commune.id, officer, need=scope.can_edit_hamlets_of)
    with pytest.raises(NotFound):
        scope.get_unit_or_404(999_999, officer)
    # Inside the area, the predicate decides: a hamlet is not a commune whose hamlets one adds.
    with pytest.raises(Forbidden):
        scope.get_unit_or_404(tree.hamlet.id, officer, need=scope.can_edit_hamlets_of)
    assert scope.get_unit_or_404(tree.commune.id, officer, need=scope.can_edit_hamlets_of) == tree.commune
    assert scope.get_unit_or_404(tree.hamlet.id, officer, need=scope.can_edit_hamlet) == tree.hamlet
    assert scope.get_unit_or_404(tree.hamlet.id, officer) == tree.hamlet


def test_a_visit_is_found_for_each_user_by_their_own_scope_whoever_asked_before(db, tree):
    """The statement that finds a visit is kept per scope: users of two communes and two teams asking
    in turn, in one worker, each find their own visits only."""
    from werkzeug.exceptions import NotFound

    from app.auth.cli import create_user
    from app.households.operations import create_household
    from app.visits.models import Visit
    from tests.visits_helpers import make_team
    teams = [make_team(tree.commune, [tree.hamlet], name="Tổ 1")[0],
             make_team(tree.commune, [tree.hamlet2], name="Tổ 2")[0],
             make_team(tree.other_commune, [tree.other_hamlet], name="Tổ Nhơn Xuân")[0]]
    visits = []
    for i, team in enumerate(teams):
        h = create_household(team.hamlets[0].id, f"Hộ {i}", "")
        db.session.flush()
        visits.append(Visit(household_id=h.id, hamlet_id=h.hamlet_id, team_id=team.id, visited_on=TODAY,
                            idempotency_key=str(i) * 32))
    db.session.add_all(visits)
    officers = [create_user("xa-1", "commune", tree.commune, "x" * 12),
                create_user("xa-2", "commune", tree.other_commune, "x" * 12)]
    leaders = [create_user(f"to-{i}", "team_leader", tree.commune, "x" * 12) for i in range(2)]
    for leader, team in zip(leaders, teams, strict=False):
        leader.team_id = team.id
    db.session.flush()
    sees = {officers[0]: {0, 1}, officers[1]: {2}, leaders[0]: {0}, leaders[1]: {1}}
    for _round in range(2):
        for user, own in sees.items():
            for i, v in enumerate(visits):
                if i in own:
                    assert scope.get_visit_or_404(v.id, user) == v
                else:
                    with pytest.raises(NotFound):
                        scope.get_visit_or_404(v.id, user)


def test_the_visit_page_s_loader_finds_what_the_scope_loader_finds_and_reads_it_alike(db, tree):
    """The visit's page reads its visit as plain columns (app/visits/shown.py): for every role, the same
    visits found (404 for the rest), the same fields, and the rules it asks answer as for the ORM visit,
    in an open month and a closed one."""
    from datetime import date

    from werkzeug.exceptions import NotFound

    from app.auth.cli import create_user
    from app.households.operations import create_household
    from app.reports import closing
    from app.visits.models import Visit
    from app.visits.shown import get_shown_visit_or_404
    from tests.visits_helpers import make_team
    teams = [make_team(tree.commune, [tree.hamlet], name="Tổ Vị Thanh")[0],
             make_team(tree.other_commune, [tree.other_hamlet], name="Tổ Nhơn Xuân")[0]]
    leaders = [create_user(f"to-{i}", "team_leader", tree.commune if i == 0 else tree.other_commune, "x" * 12,
                           full_name=["Trần Thị Bích", ""][i]) for i in range(2)]
    for leader, team in zip(leaders, teams, strict=True):
        leader.team_id = team.id
    users = [*leaders, create_user("xa", "commune", tree.commune, "x" * 12),
             create_user("huyen", "district", tree.district, "x" * 12),
             create_user("tinh", "province", tree.province, "x" * 12),
             create_user("qtv", "admin", tree.province, "x" * 12)]
    db.session.flush()
    visits = []
    for i, (team, on) in enumerate([(teams[0], date(2024, 10, 15)), (teams[0], TODAY), (teams[1], TODAY)]):
        h = create_household(team.hamlets[0].id, f"Nguyễn Văn Ấn {i}", "Số 7, hẻm 12" if i else "")
        db.session.flush()
        visits.append(Visit(household_id=h.id, hamlet_id=h.hamlet_id, team_id=team.id, visited_on=on,
                            idempotency_key=str(i) * 32, note="Đã cài VNeID" if i else None,
                            author_id=leaders[1].id if i == 2 else (leaders[0].id if i == 1 else None)))
    db.session.add_all(visits)
    db.session.flush()
    visits[1].household.erased_at = visits[1].created_at  # its personal data erased on request
    closing.close_month(tree.province, 2024, 10, users[4])
    db.session.commit()
    for user in users:
        for v in visits:
            try:
                plain = scope.get_visit_or_404(v.id, user)
            except NotFound:
                with pytest.raises(NotFound):
                    get_shown_visit_or_404(v.id, user)
                continue
            shown = get_shown_visit_or_404(v.id, user)
            author = plain.author
            assert shown.author == ((author.id, author.full_name, author.username) if author else None)
            assert (shown.id, shown.household_id, shown.hamlet.id, shown.hamlet.name, shown.team_id, shown.team_name,
                    shown.author_id, shown.visited_on, shown.note, shown.created_at, shown.household_name,
                    shown.household_address) == (
                plain.id, plain.household_id, plain.hamlet.id, plain.hamlet.name, plain.team_id,
                plain.team.name, plain.author_id, plain.visited_on, plain.note, plain.created_at,
                plain.household.display_name, plain.household.address)
            assert shown.hamlet.province_id == plain.hamlet.province_id == tree.province.id
            for rule in (scope.can_edit_visit, closing.can_correct_visit):
                assert rule(shown, user) == rule(plain, user), (rule.__name__, user.username, v.visited_on)
            assert closing.is_closed(shown.hamlet, shown.visited_on) == (v.visited_on.month == 10)
            assert scope.can_see(shown.hamlet, user) and scope.can_see(plain.hamlet, user)
    assert sum(scope.can_see(get_shown_visit_or_404(v.id, users[5]).hamlet, users[4]) for v in visits) == 3


def test_the_subtree_filter_keeps_the_root_and_everything_below_it_in_every_form(db, tree):
    import sqlalchemy as sa
    from sqlalchemy import orm
    everything = list(db.session.scalars(sa.select(AdminUnit)))
    for root in (tree.province, tree.district, tree.commune, tree.hamlet):
        expected = {u.id for u in everything if u.is_within(root)}
        assert {u.id for u in everything if u.path.startswith(root.path)} == expected
        assert set(db.session.scalars(AdminUnit.subtree_ids(root))) == expected
        # The path given as a bound parameter (statements built once) and as another alias's column.
        by_param = sa.select(AdminUnit.id).where(AdminUnit.within(sa.bindparam("subtree")))
        assert set(db.session.scalars(by_param, {"subtree": root.path})) == expected
        above, below = orm.aliased(AdminUnit), orm.aliased(AdminUnit)
        joined = sa.select(below.id).join(above, below.within(above.path)).where(above.id == root.id)
        assert set(db.session.scalars(joined)) == expected
    assert {tree.district.id, tree.commune.id, tree.hamlet.id} <= set(db.session.scalars(
        AdminUnit.subtree_ids(tree.district)))
    assert tree.other_commune.id not in set(db.session.scalars(AdminUnit.subtree_ids(tree.district)))


def test_a_units_province_is_the_top_of_its_tree_at_every_depth(db, tree):
    from app.units import operations as unit_ops
    for unit in (tree.province, tree.district, tree.other_district, tree.commune, tree.hamlet, tree.other_hamlet):
        assert unit.province_id == tree.province.id
    other = unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    db.session.flush()
    commune = unit_ops.create_unit("Phường 1", "commune", other, "31507")
    db.session.flush()
    assert commune.province_id == other.id != tree.province.id


def test_the_coverage_loader_gives_what_the_plain_loader_and_ancestors_give(app, db, tree):
    """app.coverage.ancestors reads the unit and its breadcrumbs in one query; the plain way is the
    scope loader and AdminUnit.ancestors(), filtered by what the user sees."""
    from werkzeug.exceptions import NotFound

    from app.auth.cli import create_user
    from app.coverage.ancestors import get_unit_and_ancestors_or_404
    users = [create_user("d", "district", tree.district, "x" * 12),
             create_user("c", "commune", tree.commune, "x" * 12),
             create_user("a", "admin", tree.province, "x" * 12)]
    db.session.commit()
    units = [tree.province, tree.district, tree.commune, tree.hamlet, tree.other_commune, tree.other_hamlet]
    for user in users:
        for unit in units:
            try:
                plain = scope.get_unit_or_404(unit.id, user)
            except NotFound:
                with pytest.raises(NotFound):
                    get_unit_and_ancestors_or_404(unit.id, user)
                continue
            expected = (plain, scope.visible_ancestors(plain, user))
            assert get_unit_and_ancestors_or_404(unit.id, user) == expected
    assert get_unit_and_ancestors_or_404(tree.hamlet.id, users[0])[1] == [tree.district, tree.commune]


def test_a_guarded_blueprint_sends_visitors_to_sign_in_and_refuses_whom_its_rule_refuses(client, tree, login_as):
    for path in (f"/units/{tree.commune.id}", "/teams/", "/households/", "/visits/", "/coverage/",
                 "/reports/", "/services/", "/users/", "/api-tokens/"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"], path
    login_as("team_member", tree.commune)
    assert client.get("/reports/").status_code == 403   # staff only
    assert client.get("/users/").status_code == 403     # account managers only
    assert client.get("/services/").status_code == 200  # everyone signed in


def _imports(path) -> set[str]:
    """The modules a source file imports, at its top or inside functions."""
    import ast
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


APP = __import__("pathlib").Path(__file__).resolve().parent.parent / "app"


def test_the_access_rules_import_models_only_never_a_features_operations_or_coverage():
    imported = {m for m in _imports(APP / "scope.py") if m.startswith("app.")}
    assert imported, "the scan found no imports at all"
    import re
    model = re.compile(r"app\.\w+\.models(\.|$)")
    # app.units.history: where a unit hung in the past (placements), read for units of the old map.
    allowed = ("app.extensions", "app.units.history")
    assert [m for m in imported if not (m.startswith(allowed) or model.match(m))] == []


def test_no_feature_imports_the_demo_and_no_module_writes_the_subtree_filter_itself():
    demo_users, subtree_writers = [], []
    for path in APP.rglob("*.py"):
        relative = path.relative_to(APP).as_posix()
        if not relative.startswith("demo/") and relative != "__init__.py":
            demo_users += [relative for m in _imports(path) if m.startswith("app.demo")]
        if relative != "units/models.py" and ("path.startswith(" in path.read_text(encoding="utf-8")
                                              or "path.like(" in path.read_text(encoding="utf-8")):
            subtree_writers.append(relative)
    assert demo_users == []
    assert subtree_writers == []


def test_every_may_change_rule_refuses_what_lies_outside_the_officer_s_commune(app, db, tree):
    # The pages load records through scoped queries first (404 outside the area); these rules are asked
    # again before any change, and must refuse on their own what lies outside, as they allow what is inside.
    from app.activities.models import Class
    from app.auth.cli import create_user
    from app.households.operations import create_household
    from app.visits.models import Visit
    from tests.visits_helpers import make_team
    officer = create_user("can-bo-xa", "commune", tree.commune, "x" * 12)
    own_team, own_members = make_team(tree.commune, [tree.hamlet], name="Tổ CNSCĐ Khu vực 1")
    far_team, far_members = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ CNSCĐ Nhơn Xuân")
    own_household = create_household(tree.hamlet.id, "Nguyễn Văn An", "")
    far_household = create_household(tree.other_hamlet.id, "Trần Văn Bình", "")
    db.session.flush()
    own_visit, far_visit = (Visit(household_id=h.id, hamlet_id=h.hamlet_id, team_id=t.id, visited_on=TODAY,
                                  idempotency_key=key)
                            for h, t, key in ((own_household, own_team, "a" * 32), (far_household, far_team, "b" * 32)))
    db.session.add_all([own_visit, far_visit])
    db.session.flush()
    own_member, far_member = own_members[1], far_members[1]
    own_class = Class(commune=tree.commune, held_on=TODAY)
    far_class = Class(commune=tree.other_commune, held_on=TODAY)
    rules = [
        ("can_see", tree.hamlet, tree.other_hamlet),
        ("can_edit_structure", tree.commune, tree.other_commune),
        ("can_set_households", tree.hamlet, tree.other_hamlet),
        ("can_edit_hamlets_of", tree.commune, tree.other_commune),
        ("can_edit_hamlet", tree.hamlet, tree.other_hamlet),
        ("can_manage_team", own_team, far_team),
        ("can_manage_commune_teams", tree.commune, tree.other_commune),
        ("can_edit_members", own_team, far_team),
        ("can_edit_member", own_member, far_member),
        ("can_edit_current_member", own_member, far_member),
        ("can_manage_member", own_member, far_member),
        ("can_edit_household", own_household, far_household),
        ("can_edit_household_details", own_household, far_household),
        ("can_merge_households", own_household, far_household),
        ("can_manage_household_data", own_household, far_household),
        ("can_edit_visit", own_visit, far_visit),
        ("can_record_dossiers", tree.commune, tree.other_commune),
    ]
    answers = {name: (getattr(scope, name)(inside, officer), getattr(scope, name)(outside, officer))
               for name, inside, outside in rules}
    answers["can_edit_activity"] = (scope.can_edit_activity(own_class, set(), officer),
                                    scope.can_edit_activity(far_class, set(), officer))
    assert answers == {name: (True, False) for name in answers}
    # Nothing at all is nobody's; the province's own rules are not a commune officer's.
    assert not scope.can_see(None, officer) and not scope.can_manage_team(None, officer)
    assert not scope.can_manage_commune_teams(None, officer) and not scope.can_manage_household_data(None, officer)
    assert not scope.can_reorganize(tree.province, officer) and not scope.can_manage_areas(tree.province, officer)
    # "In time" (old units of the map as it was) opens no unit of today's map outside the area.
    assert scope.can_see_in_time(tree.hamlet, officer)
    assert not scope.can_see_in_time(tree.other_commune, officer) and not scope.can_see_in_time(None, officer)
    # An ended unit that held nothing on its last day (a commune never given hamlets) is nobody's past.
    from app.units import operations as unit_ops
    empty = unit_ops.create_unit("Xã Cũ", "commune", tree.other_district, "31339")
    unit_ops.retire_unit(empty, date(2025, 7, 1))
    db.session.flush()
    assert empty.retired_on is not None and not scope.can_see_in_time(empty, officer)
