"""The services catalogue: ten defaults in every database, province staff edit names, order, targets."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.catalogue.operations import DEFAULT_SERVICES
from app.visits.models import Service, Target
from tests.visits_helpers import sign_in_as

CODES = ["dvc", "vneid", "province_app", "e_wallet", "bank_account", "cashless", "ecommerce", "smartphone",
         "safe_online", "e_health"]


def _codes(db):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Service.code).order_by(Service.position, Service.id)))


def test_every_database_has_the_ten_default_services(db):
    assert _codes(db) == CODES == [c[0] for c in DEFAULT_SERVICES]
    pillars = dict(db.session.execute(sa.select(Service.code, Service.pillar)).all())
    assert pillars["vneid"] == "government" and pillars["e_wallet"] == "economy" and pillars["e_health"] == "society"


def test_names_follow_the_language(app, db, tree):
    staff, _user = sign_in_as(app, "province", tree.province)
    assert "Ví điện tử / Mobile Money" in staff.get("/services/").get_data(as_text=True)
    staff.post("/language", data={"lang": "en"})
    assert "E-wallet / Mobile Money" in staff.get("/services/").get_data(as_text=True)


def test_province_staff_rename_deactivate_and_set_a_target(app, db, tree):
    staff, _user = sign_in_as(app, "province", tree.province)
    wallet = db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    resp = staff.post(f"/services/{wallet.id}/edit", data={
        "name_vi": "Ví điện tử, Mobile Money", "name_en": "E-wallet", "active": "y",
        "share": "50%", "due_on": "2025-12-31"})
    assert resp.status_code == 303
    target = db.session.scalar(sa.select(Target).where(Target.service_id == wallet.id))
    assert (target.province_id, target.share, target.due_on) == (tree.province.id, Decimal("0.5"), date(2025, 12, 31))
    page = staff.get("/services/").get_data(as_text=True)
    assert "Ví điện tử, Mobile Money" in page and "50%" in page and "31/12/2025" in page
    # switched off, it leaves the visit form; the target stays (no date given: no milestone touched)
    staff.post(f"/services/{wallet.id}/edit", data={"name_vi": "Ví điện tử", "name_en": "E-wallet"})
    db.session.expire_all()
    assert db.session.get(Service, wallet.id).active is False
    assert db.session.scalar(sa.select(Target.share)) == Decimal("0.5")
    # an empty share with the milestone's date removes it
    resp = staff.post(f"/services/{wallet.id}/edit", data={"name_vi": "Ví điện tử", "name_en": "E-wallet",
                                                           "due_on": "2025-12-31"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(Target.id)) is None


def test_bad_catalogue_input_is_refused(app, db, tree):
    staff, _user = sign_in_as(app, "province", tree.province)
    wallet = db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    for data, message in [({"share": "150", "due_on": "2025-12-31"}, "không quá 100"),
                          ({"share": "nửa", "due_on": "2025-12-31"}, "Nhập tỷ lệ phần trăm"),
                          ({"share": "50"}, "Nhập ngày cần đạt chỉ tiêu"),
                          ({"name_vi": ""}, "Nhập tên")]:
        payload = {"name_vi": "Ví", "name_en": "Wallet", "active": "y", **data}
        resp = staff.post(f"/services/{wallet.id}/edit", data=payload)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    resp = staff.post("/services/", data={"new-code": "E Wallet!", "new-pillar": "economy",
                                          "new-name_vi": "Ví", "new-name_en": "Wallet"})
    assert resp.status_code == 400 and "chữ thường" in resp.get_data(as_text=True)
    resp = staff.post("/services/", data={"new-code": "dvc", "new-pillar": "government",
                                          "new-name_vi": "Trùng", "new-name_en": "Same"})
    assert resp.status_code == 400 and "Mã này đã được dùng" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(Target.id)) is None
    assert len(_codes(db)) == 10 and db.session.get(Service, wallet.id).name_vi != "Ví"


def test_a_target_share_is_above_0_and_at_most_100_percent_and_opens_as_it_was_typed(app, db, tree):
    """A share of households: 0 is no target, past 100 % cannot be; 0,01 % and 100 % can. The edit page
    opens on the milestone in force, its share as a person writes it (44.7, not 0.447)."""
    staff, _user = sign_in_as(app, "province", tree.province)
    wallet = db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    due = date(date.today().year + 1, 12, 31).isoformat()

    def post(share):
        return staff.post(f"/services/{wallet.id}/edit", data={"name_vi": "Ví điện tử", "name_en": "E-wallet",
                                                               "active": "y", "share": share, "due_on": due})
    for refused in ("0", "-1", "100,01", "100.5", "101"):
        resp = post(refused)
        assert resp.status_code == 400 and "lớn hơn 0 và không quá 100" in resp.get_data(as_text=True), refused
    assert db.session.scalar(sa.select(Target.id)) is None
    for typed, stored in (("0,01", Decimal("0.0001")), ("100", Decimal("1")), ("44,7 %", Decimal("0.447"))):
        assert post(typed).status_code == 303, typed
        db.session.expire_all()
        assert db.session.scalar(sa.select(Target.share)) == stored, typed
    page = staff.get(f"/services/{wallet.id}/edit").get_data(as_text=True)
    assert 'name="share"' in page and 'value="44.7"' in page


def test_add_and_reorder_services(app, db, tree):
    staff, _user = sign_in_as(app, "province", tree.province)
    resp = staff.post("/services/", data={"new-code": "hau_giang_app", "new-pillar": "government",
                                          "new-name_vi": "Ứng dụng Hậu Giang", "new-name_en": "Hau Giang app"})
    assert resp.status_code == 303
    assert _codes(db)[-1] == "hau_giang_app"
    added = db.session.scalar(sa.select(Service).where(Service.code == "hau_giang_app"))
    staff.post(f"/services/{added.id}/move", data={"direction": "up"})
    assert _codes(db)[-2:] == ["hau_giang_app", "e_health"]
    first = db.session.scalar(sa.select(Service).where(Service.code == "dvc"))
    staff.post(f"/services/{first.id}/move", data={"direction": "up"})  # already first: stays
    assert _codes(db)[0] == "dvc"
    second = db.session.scalar(sa.select(Service).where(Service.code == _codes(db)[1]))
    assert staff.post(f"/services/{second.id}/move", data={"direction": "up"}).status_code in (302, 303)
    assert _codes(db)[:2] == [second.code, "dvc"]  # the second can take the first place
    last = _codes(db)[-1]
    resp = staff.post(f"/services/{db.session.scalar(sa.select(Service.id).where(Service.code == last))}/move",
                      data={"direction": "down"})
    assert resp.status_code in (302, 303) and _codes(db)[-1] == last  # already last: stays
    order = _codes(db)
    fourth = db.session.scalar(sa.select(Service.id).where(Service.code == order[3]))
    staff.post(f"/services/{fourth}/move", data={"direction": "down"})
    assert _codes(db) == order[:3] + [order[4], order[3]] + order[5:]  # one place down, the rest as they were


def test_only_province_staff_manage_the_catalogue(app, db, tree):
    wallet = db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    for role, unit in (("district", tree.district), ("commune", tree.commune)):
        user, _u = sign_in_as(app, role, unit)
        assert user.get("/services/").status_code == 200
        assert user.post(f"/services/{wallet.id}/edit", data={"name_vi": "X", "name_en": "X"}).status_code == 403
        assert user.post(f"/services/{wallet.id}/move", data={"direction": "up"}).status_code == 403
        assert user.post("/services/", data={"new-code": "xx", "new-pillar": "economy",
                                             "new-name_vi": "X", "new-name_en": "X"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Service, wallet.id).name_vi == "Ví điện tử / Mobile Money"
    assert len(_codes(db)) == 10
