"""Province staff give an area its communes from a phone: a search box narrows a long list, ticks stay."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.cli import create_user
from app.extensions import db as _db
from app.units.models import AdminUnit
from app.units.operations import create_unit
from tests.browser.conftest import script_errors, shot, sign_in
from tests.conftest import PASSWORD
from tests.test_areas import TwoLevels


def test_province_staff_find_communes_by_part_of_their_name_and_save_the_ticked_ones(app, db, live_server, phone):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    create_user("staff-92", "province", world.province, PASSWORD, full_name="Lê Thị Thu")
    _db.session.commit()
    errors = script_errors(phone)
    sign_in(phone, live_server, "staff-92", PASSWORD)
    phone.goto(f"{live_server}/areas/area/{area.id}")
    search = phone.get_by_label("Tìm xã, phường")
    expect(search).to_be_visible()
    ticked = phone.locator("[data-filter-count]")
    expect(ticked).to_have_text("Đã chọn 0 xã, phường")
    # Typed without accents, as on a phone keyboard in a hurry.
    search.fill("vi th")
    expect(phone.locator("#area-communes li:visible")).to_have_count(2)
    expect(phone.get_by_label("Phường Ngã Bảy")).to_be_hidden()
    phone.get_by_label("Phường Vị Thanh").check()
    search.fill("nga bay")
    expect(phone.locator("#area-communes li:visible")).to_have_count(1)
    expect(phone.get_by_label("Phường Vị Thanh")).to_be_hidden()
    phone.get_by_label("Phường Ngã Bảy").check()
    # Both ticks counted, the one the search hides included.
    expect(ticked).to_have_text("Đã chọn 2 xã, phường")
    search.fill("Đà Lạt")
    expect(phone.locator("#area-communes li:visible")).to_have_count(0)
    expect(phone.get_by_text("Không có xã, phường nào có tên như vậy.")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert search.bounding_box()["height"] >= 44
    shot(phone, "area-edit-search-phone")
    search.press("Enter")  # narrows only: the form is not sent
    expect(phone.locator("h1")).to_have_text("Khu vực Vị Thanh")
    phone.get_by_role("button", name="Lưu").click()
    expect(phone.locator(".flash-success")).to_contain_text("Khu vực Vị Thanh")
    _db.session.expire_all()
    parents = dict(_db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id).where(
        AdminUnit.id.in_([vi_thanh.id, vi_thuy.id, nga_bay.id]))).all())
    assert parents == {vi_thanh.id: area.id, vi_thuy.id: world.province.id, nga_bay.id: area.id}
    assert not errors
