"""A commune officer splits a hamlet and uploads a list of hamlets from a 360×740 phone."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.cli import create_user
from app.extensions import db as _db
from app.households.models import Household
from app.units.models import AdminUnit
from tests.browser.conftest import script_errors, shot, sign_in
from tests.conftest import PASSWORD
from tests.visits_helpers import household


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_split_forms_choices_follow_the_names_as_they_are_typed_and_the_split_is_asked_first(
        app, db, tree, live_server, phone):
    home = household(tree.hamlet, "Nguyễn Văn An")
    create_user("xa-phuong-1", "commune", tree.commune, PASSWORD, full_name="Lê Thị Thu")
    _db.session.commit()
    errors = script_errors(phone)
    sign_in(phone, live_server, "xa-phuong-1", PASSWORD)
    phone.goto(f"{live_server}/units/{tree.hamlet.id}/split")
    choice = phone.locator(f"#h{home.id}")
    options = choice.locator("option")
    expect(options).to_have_text(["—", "Thôn, ấp mới 1", "Thôn, ấp mới 2", "Thôn, ấp mới 3"])
    phone.fill("#name_1", "Ấp Tân Lập A")
    phone.fill("#name_2", "Ấp Tân Lập B")
    expect(options).to_have_text(["—", "Ấp Tân Lập A", "Ấp Tân Lập B", "Thôn, ấp mới 3"])
    expect(phone.locator("#rest option")).to_have_text(
        ["— chọn riêng từng hộ ở dưới —", "Ấp Tân Lập A", "Ấp Tân Lập B", "Thôn, ấp mới 3"])
    phone.fill("#name_2", "")  # cleared, its choices read the number again
    expect(options.nth(2)).to_have_text("Thôn, ấp mới 2")
    phone.fill("#name_2", "Ấp Tân Lập B")
    choice.select_option(label="Ấp Tân Lập B")
    assert _fits(phone)
    shot(phone, "hamlet-split-form-phone")

    phone.get_by_role("button", name="Chia tách", exact=True).click()
    box = phone.locator("#confirm-change")
    expect(box.locator("h2")).to_have_text("Chia tách Khu vực 1?")
    expect(box).to_contain_text("Ấp Tân Lập B: thôn, ấp mới. Nhận 1 hộ")
    for button in (box.get_by_role("button", name="Có, chia tách"), box.get_by_role("button", name="Quay lại để sửa")):
        assert button.bounding_box()["height"] >= 44
    assert _fits(phone)
    shot(phone, "hamlet-split-summary-phone")
    assert _db.session.get(AdminUnit, tree.hamlet.id).retired_on is None

    box.get_by_role("button", name="Quay lại để sửa").click()
    expect(phone.locator("#name_2")).to_have_value("Ấp Tân Lập B")
    expect(phone.locator(f"#h{home.id}")).to_have_value("2")
    phone.get_by_role("button", name="Chia tách", exact=True).click()
    phone.locator("#confirm-change").get_by_role("button", name="Có, chia tách").click()
    expect(phone.locator(".flash-success")).to_contain_text("Đã chia Khu vực 1 thành Ấp Tân Lập A, Ấp Tân Lập B")
    _db.session.expire_all()
    part = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Tân Lập B"))
    assert _db.session.get(Household, home.id).hamlet_id == part.id
    assert not errors


def test_a_long_hamlet_name_wraps_in_the_upload_preview_on_a_phone(app, db, tree, live_server, phone, tmp_path):
    create_user("xa-phuong-1", "commune", tree.commune, PASSWORD, full_name="Lê Thị Thu")
    _db.session.commit()
    sheet = tmp_path / "ds-ap.csv"
    # A name typed without spaces (an Excel cell run together) and a long one with them.
    sheet.write_text("Tên ấp;Số hộ\nẤpThạnhLợiĐôngBìnhTânPhúThạnhHòaMỹLợi;250\n"
                     "Khu dân cư vượt lũ Thạnh Hòa – Tân Phú (giai đoạn 2);300\n", encoding="utf-8")
    sign_in(phone, live_server, "xa-phuong-1", PASSWORD)
    phone.goto(f"{live_server}/units/{tree.commune.id}/import")
    phone.set_input_files("input[type=file]", str(sheet))
    phone.get_by_role("button", name="Xem trước").click()
    expect(phone.locator(".hamlet-preview")).to_contain_text("ẤpThạnhLợi")
    # Neither the page nor the preview's own box scrolls sideways.
    assert _fits(phone)
    assert phone.evaluate("(() => { const s = document.querySelector('.hamlet-preview').parentElement;"
                          " return s.scrollWidth <= s.clientWidth; })()")
    # A name with spaces breaks between its words, not inside them.
    cell = phone.locator(".preview-name", has_text="Khu dân cư")
    assert cell.bounding_box()["width"] >= 60
    shot(phone, "hamlet-upload-preview-long-name-phone")


def test_every_link_of_a_merged_hamlets_history_is_a_44px_target_on_a_phone_and_a_desktop(
        app, db, tree, live_server, phone, desktop):
    """A hamlet merged into "Ấp 2": the name is a link narrower than a thumb, on the line saying where it went and in
    the hamlet's history, beside who recorded the merge (a link for province staff, who open that account)."""
    from datetime import date

    from app.units import operations as unit_ops
    from app.units.hamlet_changes import merge_hamlets
    from tests.browser.test_phone_crawl import SIDEWAYS, SMALL_TARGETS
    short = unit_ops.create_unit("Ấp 2", "hamlet", tree.commune)
    unit_ops.set_household_count(short, 150, date(2024, 1, 1))
    officer = create_user("xa-phuong-1", "commune", tree.commune, PASSWORD, full_name="Lê Thị Thu")
    create_user("tinh-1", "province", tree.province, PASSWORD, full_name="Trần Văn Tỉnh")
    merge_hamlets(tree.hamlet, short, date(2026, 3, 1), 470, user=officer)
    _db.session.commit()
    for page, width in ((phone, 360), (desktop, 1280)):
        sign_in(page, live_server, "tinh-1", PASSWORD)
        page.goto(f"{live_server}/units/{tree.hamlet.id}")
        links = [(a.inner_text(), a.bounding_box()) for a in page.locator("#ended a, #hamlet-history a").all()]
        assert [name for name, _box in links] == ["Ấp 2", "Ấp 2", "Lê Thị Thu (xa-phuong-1)"]
        assert all(box["width"] >= 44 and box["height"] >= 44 for _name, box in links), (width, links)
        assert page.evaluate(SMALL_TARGETS) == [] and page.evaluate(SIDEWAYS) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"hamlet-history-{width}")
