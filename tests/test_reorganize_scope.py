"""Who may apply a reorganization plan: province staff a plan of their own province only, never one whose lines
name another province's units; a plan merging several provinces is the administrator's."""
import sqlalchemy as sa

from app.extensions import db as _db
from app.units import operations as units
from app.units.models import AdminUnit, Reorganization, unit_for_code
from tests.report_data import forget_signed_in_user
from tests.test_reorganize import PLAN, items, plan_csv, upload, world  # noqa: F401 - the world fixture

# Hậu Giang with Sóc Trăng into Cần Thơ, as in 2025: Sóc Trăng's Phường 5 whole, and Phường 2's one hamlet by a
# hamlet line, into Phường Sóc Trăng (31507).
MERGER = PLAN + [("94", "", "92"), ("31507", "", "31507"), ("31498", "Khóm 3", "31507")]
REFUSED = "thuộc Tỉnh Sóc Trăng, không thuộc tỉnh của bạn (Tỉnh Hậu Giang)"


def soc_trang():
    province = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    city = units.create_unit("Thành phố Sóc Trăng", "district", province, "941")
    for name, code, hamlet in (("Phường 5", "31507", "Khóm 1"), ("Phường 2", "31498", "Khóm 3")):
        units.create_unit(hamlet, "hamlet", units.create_unit(name, "commune", city, code))
    _db.session.commit()
    return province


def problems(html: str) -> list[str]:
    return [" ".join(p.split()) for p in items(html.split('class="plan-problems"')[1].split("</ul>")[0])]


def payload_of(html: str) -> str:
    return html.split('name="payload" type="hidden" value="')[1].split('"')[0]


def nothing_applied():
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III" and unit_for_code("31507").name == "Phường 5"


def test_province_staff_cannot_apply_a_plan_naming_another_provinces_units_even_from_an_admins_preview(
        app, client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    soc_trang()
    staff_province = _db.session.get(AdminUnit, world.province)
    login_as("province", staff_province)
    preview = upload(client, plan_csv(tmp_path, MERGER))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 422, html[:300]
    said = problems(html)
    # Each line naming Sóc Trăng says so: its province line, its commune's, its hamlet's.
    assert ("Dòng 7: Tỉnh Sóc Trăng (94) không phải tỉnh của bạn (Tỉnh Hậu Giang): bạn chỉ áp dụng phương án của tỉnh "
            "mình. Phương án sáp nhập nhiều tỉnh do quản trị viên áp dụng.") in said
    assert any(line.startswith("Dòng 8: Phường 5 (31507) " + REFUSED) for line in said), said
    assert any(line.startswith("Dòng 9: Phường 2 (31498) " + REFUSED) for line in said), said
    assert "/units/reorganize/confirm" not in html
    nothing_applied()

    # The administrator previews the same plan and gets it to confirm...
    forget_signed_in_user()
    admin = app.test_client()
    login_as("admin", staff_province, http=admin)
    admins = upload(admin, plan_csv(tmp_path, MERGER))
    assert admins.status_code == 200, admins.get_data(as_text=True)[:300]
    payload = payload_of(admins.get_data(as_text=True))
    # ...whose confirmation, sent by the province's staff, is refused by line, and applies nothing.
    forget_signed_in_user()
    refused = client.post("/units/reorganize/confirm", data={"payload": payload})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403, html[:300]
    assert any(line.startswith("Dòng 8: Phường 5 (31507) " + REFUSED) for line in problems(html))
    assert "Dữ liệu đã thay đổi từ lúc xem trước." not in html
    nothing_applied()

    # The administrator's own confirmation applies it: both provinces into Cần Thơ.
    forget_signed_in_user()
    done = admin.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    _db.session.expire_all()
    soc_trang_ward = unit_for_code("31507")
    assert soc_trang_ward.name == "Phường Sóc Trăng" and soc_trang_ward.parent_id == unit_for_code("92").id
    assert sorted(h.name for h in soc_trang_ward.children) == ["Khóm 1", "Khóm 3"]
    assert unit_for_code("94") is None


def test_province_staff_cannot_make_units_under_another_provinces_code(
        client, login_as, world, tmp_path):  # noqa: F811 - the fixture imported above
    """Hậu Giang goes into Cần Thơ (92) by the official list: its staff's plan cannot make it An Giang (91), nor
    give a commune a code of An Giang's list (30292 Phường Bình Đức)."""
    login_as("province", _db.session.get(AdminUnit, world.province))
    into_an_giang = upload(client, plan_csv(tmp_path, [("93", "", "91")] + PLAN[1:]))
    assert into_an_giang.status_code == 422
    assert ("Dòng 2: Theo danh mục chính thức, Tỉnh Hậu Giang trở thành 92, không phải 91: cán bộ tỉnh không tạo được "
            "đơn vị của tỉnh khác, chỉ quản trị viên làm được.") in problems(into_an_giang.get_data(as_text=True))
    a_ward_of_an_giang = upload(client, plan_csv(tmp_path, PLAN[:1] + [("31318", "", "30292")] + PLAN[2:]))
    html = a_ward_of_an_giang.get_data(as_text=True)
    assert a_ward_of_an_giang.status_code == 422
    assert ("Dòng 3: Mã 30292 không phải một xã, phường của Thành phố Cần Thơ trong danh mục có hiệu lực vào ngày "
            "01/07/2025: cán bộ tỉnh không tạo được đơn vị của tỉnh khác, chỉ quản trị viên làm được."
            ) in problems(html)
    assert "/units/reorganize/confirm" not in html
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III"


def test_the_command_line_and_the_administrator_apply_a_plan_merging_several_provinces(
        runner, world, tmp_path):  # noqa: F811 - the fixture imported above
    """The CLI is the administrator's: the same merger applies there in one step."""
    soc_trang()
    result = runner.invoke(args=["units", "reorganize", "--plan", str(plan_csv(tmp_path, MERGER))])
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert unit_for_code("31507").name == "Phường Sóc Trăng" and unit_for_code("31321").name == "Phường Vị Thanh"
