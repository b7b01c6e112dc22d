"""Household registry: names without diacritics, phones, duplicates flagged, merging by the commune."""
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.households.forms import national_mobile
from app.households.models import Household
from app.visits.models import Adoption, Visit
from tests.form_versions import with_version
from tests.visits_helpers import adoption, form, household, sign_in_as


@pytest.mark.parametrize("typed, stored", [("0912 345 678", "0912345678"), ("+84 912 345 678", "0912345678"),
                                           ("0912.345.678", "0912345678"), ("84912345678", "0912345678")])
def test_mobile_numbers_are_stored_in_national_form(typed, stored):
    assert national_mobile(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "02933 123 456", "0912 345 67", "abc"])
def test_landlines_and_nonsense_are_not_mobiles(typed):
    with pytest.raises(ValueError):
        national_mobile(typed)


def _log(browser, h, on, services, member):
    resp = browser.post("/visits/new", data=form(h.id, on=on, members=[member.id], services=services))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def test_names_are_stored_nfc_and_found_without_diacritics(db, leader, team, tree):
    decomposed = "Nguye\u0302\u0303n Va\u0306n A\u0302n"  # typed with a decomposing keyboard
    resp = leader.post("/visits/new", data=form(members=[team[1][0].id], services={"dvc": "guided"},
                                                household_id="new", new_name=decomposed))
    assert resp.status_code == 303
    h = db.session.scalar(sa.select(Household))
    assert h.head_name == "Nguyễn Văn Ân" and h.head_name_folded == "nguyen van an"
    page = leader.get("/households/?q=nguyen van an").get_data(as_text=True)
    assert "Nguyễn Văn Ân" in page
    hint = leader.get("/visits/households?mode=similar&new_name=nguyen van").get_data(as_text=True)
    assert "Nguyễn Văn Ân" in hint and "Chọn hộ đó thay vì thêm lại" in hint
    # A new household's name not typed yet suggests nothing; the search box left empty lists the households.
    assert "Nguyễn Văn Ân" not in leader.get("/visits/households?mode=similar&new_name=+").get_data(as_text=True)
    assert "Nguyễn Văn Ân" in leader.get("/visits/households?q=").get_data(as_text=True)


def test_a_possible_duplicate_is_flagged(db, leader, tree):
    a = household(tree.hamlet, "Lê Thị Bé", "Số 4")
    household(tree.hamlet, "Le Thi Be", "Số 40")
    household(tree.hamlet2, "Lê Thị Bé")  # another hamlet: not a duplicate
    alone = household(tree.hamlet, "Trần Văn Tư")
    listing = leader.get("/households/?q=").get_data(as_text=True)
    rows = [chunk[chunk.rindex("<li"):] for chunk in listing.split("</li>") if "<li" in chunk]  # innermost items
    flagged = sorted(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows if "có thể trùng" in r)
    assert flagged == ["Le Thi Be Số 40 · Khu vực 1 có thể trùng", "Lê Thị Bé Số 4 · Khu vực 1 có thể trùng"]
    searched = leader.get("/households/?q=tran van").get_data(as_text=True)  # the search narrows the list
    assert "Trần Văn Tư" in searched and "Lê Thị Bé" not in searched and "Le Thi Be" not in searched
    page = leader.get(f"/households/{a.id}").get_data(as_text=True)
    assert "Ấp này có hộ khác trùng tên chủ hộ" in page and "Số 40" in page
    assert "Gộp hộ trùng" not in page  # a team leader may not merge
    assert "Ấp này có hộ khác trùng tên chủ hộ" not in leader.get(f"/households/{alone.id}").get_data(as_text=True)


def test_commune_officer_merges_duplicates_and_adoptions_count_once(app, db, leader, team, tree):
    keep = household(tree.hamlet, "Lê Thị Bé", "Số 4")
    dup = household(tree.hamlet, "Le Thi Be", "")
    m = team[1][0]
    _log(leader, keep, date(2024, 6, 10), {"e_wallet": "adopted"}, m)
    early = _log(leader, dup, date(2024, 5, 1), {"e_wallet": "adopted", "dvc": "adopted"}, m)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Adoption)) == 3
    officer, _user = sign_in_as(app, "commune", tree.commune)
    page = officer.get(f"/households/{dup.id}").get_data(as_text=True)
    assert "Gộp hộ trùng" in page
    resp = officer.post(f"/households/{dup.id}/merge", data={"target_id": keep.id})
    assert resp.status_code == 303
    assert "Đã gộp: 1 lượt hướng dẫn chuyển sang hộ Lê Thị Bé." in officer.get(
        resp.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Household, dup.id).merged_into_id == keep.id
    assert set(db.session.scalars(sa.select(Visit.household_id))) == {keep.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Adoption)) == 2  # counted once
    kept = adoption(keep.id, "e_wallet")
    assert kept.visit_id == early and kept.adopted_on == date(2024, 5, 1)
    assert adoption(dup.id, "e_wallet") is None
    # What only the duplicate had adopted is now the kept household's.
    assert adoption(keep.id, "dvc").adopted_on == date(2024, 5, 1) and adoption(dup.id, "dvc") is None
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "merge")) is not None
    # The confirmation sent again (back button, double tap) finds the merge done and says so; nothing moves.
    again = officer.post(f"/households/{dup.id}/merge", data={"target_id": keep.id}, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == f"/households/{keep.id}"
    assert "Hộ này đã được gộp vào Lê Thị Bé." in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "merge")) == 1
    # the merged record is no longer offered in searches
    assert "Le Thi Be" not in leader.get("/visits/households?q=le thi").get_data(as_text=True)
    # nor offered for merging again on its own page
    assert "Gộp hộ trùng" not in officer.get(f"/households/{dup.id}").get_data(as_text=True)
    # and its details are not edited any more, by the leader or the officer: the kept household's are.
    for client in (leader, officer):
        assert client.get(f"/households/{dup.id}/edit").status_code == 403
        assert client.post(f"/households/{dup.id}/edit", data={"head_name": "Lê Thị Bé Hai"}).status_code == 403
    assert db.session.get(Household, dup.id).head_name == "Le Thi Be"
    # The list's search, as htmx asks for it, answers its rows alone; the plain page, the whole page.
    rows = officer.get("/households/?q=le thi", headers={"HX-Request": "true", "HX-Target": "households"})
    assert "Lê Thị Bé" in rows.get_data(as_text=True) and "<html" not in rows.get_data(as_text=True)
    assert "<html" in officer.get("/households/?q=le thi").get_data(as_text=True)


def test_a_merge_keeps_the_kept_households_details_and_takes_only_those_it_lacks(app, db, tree):
    keep = household(tree.hamlet, "Lê Thị Bé", "Số 4")
    dup = household(tree.hamlet, "Le Thi Be", "Gần chợ")
    keep.size, dup.phone, dup.size = 5, "0912345678", 3
    db.session.commit()
    officer, _user = sign_in_as(app, "commune", tree.commune)
    assert officer.post(f"/households/{dup.id}/merge", data={"target_id": keep.id}).status_code == 303
    db.session.expire_all()
    kept = db.session.get(Household, keep.id)
    # Its own address and size stay; the phone it lacked comes from the duplicate.
    assert (kept.address, kept.size, kept.phone) == ("Số 4", 5, "0912345678")


def test_merge_refuses_bad_targets_and_field_users(app, db, leader, tree):
    a = household(tree.hamlet, "Lê Thị Bé")
    b = household(tree.hamlet, "Lê Thị Bé")
    other = household(tree.hamlet2, "Lê Thị Bé")
    assert leader.post(f"/households/{a.id}/merge", data={"target_id": b.id}).status_code == 403
    officer, _user = sign_in_as(app, "commune", tree.commune)
    for target in (a.id, other.id, 999999, "x"):
        resp = officer.post(f"/households/{a.id}/merge", data={"target_id": target})
        assert resp.status_code == 400
    # A household already merged into another is neither merged into (its visits went elsewhere) nor merged
    # again elsewhere; an erased one takes nobody's visits: each refused beside the choice, never a 500.
    kept, merged, erased = (household(tree.hamlet, "Lê Thị Bé") for _ in range(3))
    merged.merged_into_id = kept.id
    erased.erased_at = datetime.now(UTC)
    db.session.commit()
    for source, target in ((a, merged), (merged, b), (a, erased), (erased, b)):
        resp = officer.post(f"/households/{source.id}/merge", data={"target_id": target.id})
        assert resp.status_code == 400, (source.head_name, target.id)
        assert "Chọn một hộ khác cùng ấp và chưa bị gộp." in resp.get_data(as_text=True)
    outsider, _user = sign_in_as(app, "commune", tree.sibling_commune)
    assert outsider.post(f"/households/{a.id}/merge", data={"target_id": b.id}).status_code == 404
    db.session.expire_all()
    assert [h.id for h in db.session.scalars(sa.select(Household).where(Household.merged_into_id.isnot(None)))] \
        == [merged.id]


def test_the_merge_itself_refuses_what_the_page_refuses(db, tree):
    """The page checks the chosen household first; the merge holds the same rules for any other caller:
    two different live households of one hamlet, or nothing changes."""
    from app.households.operations import merge_households
    a, b = household(tree.hamlet, "Lê Thị Bé"), household(tree.hamlet, "Lê Thị Bé")
    other = household(tree.hamlet2, "Lê Thị Bé")
    merged, erased = household(tree.hamlet, "Lê Thị Bé"), household(tree.hamlet, "Lê Thị Bé")
    merged.merged_into_id = b.id
    erased.erased_at = datetime.now(UTC)
    db.session.commit()
    for source, target in ((a, a), (a, other), (other, a), (a, merged), (merged, a), (a, erased), (erased, a)):
        with pytest.raises(ValueError):
            merge_households(source, target)
    db.session.rollback()
    assert [h.merged_into_id for h in (a, b, other, erased)] == [None, None, None, None]
    assert merged.merged_into_id == b.id


def test_edit_a_household_with_bad_input_keeps_it(db, leader, tree):
    h = household(tree.hamlet, "Trần Văn Tư")
    blank = leader.get(f"/households/{h.id}/edit")
    assert blank.status_code == 200 and 'value="Trần Văn Tư"' in blank.get_data(as_text=True)
    resp = leader.post(f"/households/{h.id}/edit", data={"head_name": "Trần Văn Tư", "phone": "0291 123",
                                                         "size": "abc", "address": "Kế bên trường"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "số di động" in page and "Kế bên trường" in page
    # A name of accents alone or a picture leaves nothing to read or search the household by.
    resp = leader.post(f"/households/{h.id}/edit", data={"head_name": "\u0301 🙂"})
    assert resp.status_code == 400 and "Tên phải có ít nhất một chữ cái hoặc chữ số." in resp.get_data(as_text=True)
    resp = leader.post(f"/households/{h.id}/edit", data=with_version(leader, f"/households/{h.id}/edit", {
        "head_name": "Trần  Văn Tứ", "phone": "+84 987 654 321", "size": "4"}))
    assert resp.status_code == 303
    assert "Đã lưu thông tin hộ." in leader.get(resp.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    h = db.session.get(Household, h.id)
    assert (h.head_name, h.phone, h.size) == ("Trần Văn Tứ", "0987654321", 4)
    # A number of another country, or a landline, is no Vietnamese mobile; an emptied phone is stored empty.
    for phone in ("+1 415 555 2671", "+44 7911 123456", "0292 3821 111"):
        resp = leader.post(f"/households/{h.id}/edit", data={"head_name": "Trần Văn Tứ", "phone": phone})
        assert resp.status_code == 400 and "số di động" in resp.get_data(as_text=True), phone
    # A form without the field (an older page) keeps the number; blanked, it is stored empty.
    for sent, kept in (({}, "0987654321"), ({"phone": " "}, "")):
        assert leader.post(f"/households/{h.id}/edit", data=with_version(
            leader, f"/households/{h.id}/edit", {"head_name": "Trần Văn Tứ", "size": "4", **sent})).status_code == 303
        db.session.expire_all()
        assert db.session.get(Household, h.id).phone == kept


@pytest.mark.parametrize("field, taken, refused, message", [
    ("head_name", "Nguyễn " + "Ấ" * 193, "Nguyễn " + "Ấ" * 194, "200"),
    ("address", "Số " + "9" * 197, "Số " + "9" * 198, "200"),
    ("size", "50", "51", "từ 1 đến 50"),
    ("size", "1", "0", "từ 1 đến 50"),
])
def test_a_household_s_limits_are_taken_and_one_past_them_refused(db, leader, tree, field, taken, refused, message):
    h = household(tree.hamlet, "Trần Văn Tư")
    data = {"head_name": "Trần Văn Tư", "address": "Kế bên trường"}
    resp = leader.post(f"/households/{h.id}/edit", data={**data, field: refused})
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert leader.post(f"/households/{h.id}/edit",
                       data=with_version(leader, f"/households/{h.id}/edit", {**data, field: taken})).status_code == 303
    db.session.expire_all()
    assert str(getattr(db.session.get(Household, h.id), field)) == taken


def test_households_outside_scope_are_not_found(app, db, leader, tree):
    inside = household(tree.hamlet, "Nguyễn Thị Hai")
    other = household(tree.other_hamlet, "Đỗ Thị Mai")
    district, _user = sign_in_as(app, "district", tree.district)
    assert district.get(f"/households/{inside.id}").status_code == 200
    assert district.get(f"/households/{other.id}").status_code == 404
    assert district.post(f"/households/{inside.id}/edit", data={"head_name": "X"}).status_code == 403
    assert leader.get(f"/households/{other.id}").status_code == 404
    assert leader.post(f"/households/{other.id}/edit", data={"head_name": "X"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Household, other.id).head_name == "Đỗ Thị Mai"


def test_a_household_s_page_lists_its_own_adoptions_only(db, leader, team, tree):
    """Two neighbours, each adopting another service on another day: each page shows its own, with the day."""
    from tests.html_tree import parse
    an, binh = household(tree.hamlet, "Nguyễn Văn An"), household(tree.hamlet, "Trần Thị Bình")
    for h, code, day in ((an, "e_wallet", date(2024, 3, 5)), (binh, "vneid", date(2024, 4, 9))):
        resp = leader.post("/visits/new", data=form(h.id, on=day, members=[team[1][0].id], services={code: "adopted"}))
        assert resp.status_code == 303
    for h, shown in ((an, {"e_wallet": "từ 05/03/2024", "vneid": "–"}),
                     (binh, {"e_wallet": "–", "vneid": "từ 09/04/2024"})):
        table = parse(leader.get(f"/households/{h.id}").get_data(as_text=True)).find(id="adoptions")
        cells = {tr.attrs["data-service"]: " ".join(list(tr.find_all("td"))[1].text().split())
                 for tr in table.find_all("tr") if "data-service" in tr.attrs}
        assert {code: cells[code] for code in shown} == shown, h.head_name
    # And its own visits only.
    own = {h.id: db.session.scalar(sa.select(Visit.id).where(Visit.household_id == h.id)) for h in (an, binh)}
    for h, other in ((an, binh), (binh, an)):
        page = leader.get(f"/households/{h.id}").get_data(as_text=True)
        assert f'href="/visits/{own[h.id]}"' in page and f'href="/visits/{own[other.id]}"' not in page
