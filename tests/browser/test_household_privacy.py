"""A commune officer on a 360×740 phone erases a household's personal data after confirming."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.demo.seed import DEMO_PASSWORD
from app.households.models import Household
from app.units.models import AdminUnit
from app.visits.models import Visit
from tests.browser.conftest import seed_demo, shot, sign_in


def test_officer_erases_a_household_on_a_phone(app, db, live_server, phone):
    seed_demo()
    commune_id = db.session.scalar(sa.select(User.unit_id).where(User.username == "demo-commune"))
    household = db.session.scalar(
        sa.select(Household).join(AdminUnit, AdminUnit.id == Household.hamlet_id)
        .where(AdminUnit.parent_id == commune_id, Household.id.in_(sa.select(Visit.household_id)))
        .order_by(Household.id).limit(1))
    household_id, name = household.id, household.head_name
    db.session.rollback()  # no open transaction of the test's own between the erasure and its VACUUM
    sign_in(phone, live_server, "demo-commune", DEMO_PASSWORD)
    phone.goto(f"{live_server}/households/{household_id}")
    expect(phone.get_by_role("heading", level=1)).to_have_text(name)
    shot(phone, "household-with-data-actions-phone")
    phone.get_by_role("link", name="Xóa dữ liệu cá nhân").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Xóa dữ liệu cá nhân")
    erase = phone.get_by_role("button", name="Xóa dữ liệu cá nhân")
    shot(phone, "household-erase-phone")

    phone.fill("#reason", "Đơn đề nghị của hộ")
    erase.click()  # not ticked: refused, the reason kept
    expect(phone.locator("#confirm-error")).to_contain_text("Đánh dấu để xác nhận")
    expect(phone.locator("#reason")).to_have_value("Đơn đề nghị của hộ")
    shot(phone, "household-erase-error-phone")
    phone.locator("label[for=confirm]").click()
    phone.get_by_role("button", name="Xóa dữ liệu cá nhân").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Hộ đã xóa dữ liệu #{household_id}")
    expect(phone.locator("#erased")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text(name)
    shot(phone, "household-erased-phone")
    db.session.expire_all()
    assert db.session.get(Household, household_id).head_name == ""
