"""The audit trail: recorded with each change, browsable by province and district staff in scope."""
from datetime import timedelta

from app.dates import today_vn


def test_district_officer_browses_changes_of_their_area_only(client, db, tree, login_as):
    from app.units import operations as unit_ops
    unit_ops.rename_unit(tree.hamlet, "Khu vực Một")                # in the district
    unit_ops.rename_unit(tree.other_hamlet, "Ấp Nhơn Xuân A")      # another district
    db.session.commit()
    login_as("district", tree.district)
    html = client.get("/audit/").get_data(as_text=True)
    assert "Khu vực Một" in html and "Khu vực 1" in html            # before → after
    assert "Nhơn Xuân A" not in html


def test_filters_by_user_type_and_date(client, db, tree, login_as):
    commune_user = login_as("commune", tree.commune)
    client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Bình An"}, follow_redirects=True)
    client.post("/auth/logout")
    login_as("province", tree.province)
    html = client.get(f"/audit/?user={commune_user.username}").get_data(as_text=True)
    assert "Ấp Bình An" in html
    html = client.get("/audit/?user=ai-do-khac").get_data(as_text=True)
    assert "Ấp Bình An" not in html and "Không có thay đổi nào phù hợp." in html
    html = client.get("/audit/?record_type=team").get_data(as_text=True)
    assert "Ấp Bình An" not in html
    tomorrow = (today_vn() + timedelta(days=1)).isoformat()
    assert "Ấp Bình An" not in client.get(f"/audit/?date_from={tomorrow}").get_data(as_text=True)
    assert "Ấp Bình An" in client.get(f"/audit/?date_to={today_vn().isoformat()}").get_data(as_text=True)


def test_bad_filters_are_a_400_not_a_500(client, tree, login_as):
    login_as("province", tree.province)
    resp = client.get("/audit/?date_from=2024-99-99&record_type=bogus&page=abc")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Hãy nhập ngày hợp lệ." in html and "2024-99-99" in html


def test_commune_and_field_users_cannot_open_it(client, tree, login_as):
    login_as("commune", tree.commune)
    assert client.get("/audit/").status_code == 403
