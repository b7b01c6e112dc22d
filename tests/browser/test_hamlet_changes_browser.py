"""A commune officer uploads a list of hamlets from a 360×740 phone."""
from playwright.sync_api import expect

from app.auth.cli import create_user
from app.extensions import db as _db
from tests.browser.conftest import shot, sign_in
from tests.conftest import PASSWORD


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


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
