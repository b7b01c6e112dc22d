"""Scope: a user sees and changes only their own unit's subtree; outside it is 404 or 403."""
import pytest

from app import scope
from app.units.models import AdminUnit


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


def test_path_prefix_does_not_leak_to_lookalike_ids(db, tree):
    """Unit /1/2/ must not see /1/23/: the path ends with a slash for that reason."""
    from app.auth.cli import create_user
    from app.units import services
    extra = [services.create_unit(f"Xã {i}", "commune", tree.other_district, f"9{i:04d}") for i in range(25)]
    db.session.flush()
    user = create_user("c", "commune", tree.commune, "x" * 12)
    db.session.flush()
    visible = set(db.session.scalars(scope.unit_ids_in_scope(user)))
    assert not visible & {u.id for u in extra}
