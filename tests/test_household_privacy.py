"""A household's personal data: export as JSON and erasure by its commune officer (Decree 13/2023)."""
import json
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.coverage import queries
from app.households.models import Household
from app.visits.models import Adoption, Visit
from tests.form_versions import with_version
from tests.html_tree import parse
from tests.visits_helpers import form, household, sign_in_as

NAME, PHONE, ADDRESS = "Nguyễn Thị Hồng Nhung", "0912345678", "Số 7 hẻm Lê Lợi"
NOTE = "Chị Nhung nhờ con trai Đặng Văn Tùng cài ví"
ON = date(2024, 5, 20)


@pytest.fixture
def officer(app, db, tree):
    return sign_in_as(app, "commune", tree.commune)[0]


@pytest.fixture
def visited(db, tree, team, leader):
    """A household registered with name, phone and address, edited once, with two visits logged."""
    h = household(tree.hamlet, NAME, ADDRESS)
    members = team[1]
    resp = leader.post(f"/households/{h.id}/edit", data=with_version(leader, f"/households/{h.id}/edit", {
        "head_name": NAME, "address": ADDRESS, "phone": "0912 345 678", "size": "4"}))
    assert resp.status_code == 303
    for on, services, note in ((ON, {"e_wallet": "adopted", "vneid": "guided"}, NOTE),
                               (date(2024, 6, 2), {"vneid": "adopted"}, "")):
        resp = leader.post("/visits/new", data=form(h.id, on=on, members=[members[0].id, members[1].id],
                                                    services=services, note=note))
        assert resp.status_code == 303, resp.get_data(as_text=True)
    # A second household, so the statistics have something that does not change either way.
    other = household(tree.hamlet, "Trần Văn Bảy")
    resp = leader.post("/visits/new", data=form(other.id, on=ON, members=[members[0].id],
                                                services={"e_wallet": "adopted"}))
    assert resp.status_code == 303
    return h


def _figures(unit, on=date(2024, 12, 31)):
    table = queries.coverage(unit, on)
    def row(r):
        return (r.name, r.households, r.reached, {code: f.adopted for code, f in r.services.items()})
    return row(table.total), [row(r) for r in table.rows]


def _everything_text(db) -> str:
    """All stored text that could hold the erased values: households, visits, the audit trail."""
    db.session.expire_all()
    parts = []
    for model in (Household, Visit, AuditEvent):
        for obj in db.session.scalars(sa.select(model)):
            parts.append(json.dumps({c.name: str(getattr(obj, c.key)) for c in model.__table__.columns},
                                    ensure_ascii=False))
    return "\n".join(parts)


def test_export_holds_everything_with_diacritics(db, officer, visited, tree, team):
    resp = officer.get(f"/households/{visited.id}/export.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f"attachment; filename=household-{visited.id}.json"
    assert resp.mimetype == "application/json" and resp.mimetype_params.get("charset") == "utf-8"
    raw = resp.get_data(as_text=True)
    assert NAME in raw and "\\u" not in raw and "\n  " in raw  # readable UTF-8, indented
    data = json.loads(raw)
    hh = data["household"]
    assert (hh["head_name"], hh["phone"], hh["address"], hh["size"]) == (NAME, PHONE, ADDRESS, 4)
    assert (hh["hamlet"], hh["commune"], hh["district"], hh["province"]) == (
        "Khu vực 1", "Phường I", "Thành phố Vị Thanh", "Tỉnh Hậu Giang")
    assert [v["visited_on"] for v in data["visits"]] == ["2024-05-20", "2024-06-02"]
    first = data["visits"][0]
    assert first["note"] == NOTE and first["members"] == sorted(["Nguyễn Thị Lan", "Trần Văn Bình"])
    assert {s["code"]: s["result"] for s in first["services"]} == {"e_wallet": "adopted", "vneid": "guided"}
    assert {a["code"]: a["adopted_on"] for a in data["adoptions"]} == {"e_wallet": "2024-05-20",
                                                                      "vneid": "2024-06-02"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.record_id == visited.id and event.record_type == "household"


def test_erasure_removes_name_phone_and_notes_everywhere_but_keeps_statistics(app, db, officer, visited, tree,
                                                                           runner):
    units = (tree.hamlet, tree.commune, tree.district, tree.province)
    before = [_figures(u) for u in units]
    assert NAME in _everything_text(db) and PHONE in _everything_text(db) and "Tùng" in _everything_text(db)

    page = officer.get(f"/households/{visited.id}/erase").get_data(as_text=True)
    assert "không thể hoàn tác" in page.lower() and "ghi chú của 2 lượt hướng dẫn của hộ" in page
    # A reason of 500 characters at most: one more is refused and nothing is erased.
    reason = "Đơn đề nghị ngày 20/05/2024. " + "ý" * 471
    too_long = officer.post(f"/households/{visited.id}/erase", data={"reason": reason + "!", "confirm": "y"})
    assert too_long.status_code == 400 and NAME in _everything_text(db)
    # The reason stays in the history: the name, the address or the phone it erases may not be written in it,
    # however they are typed.
    for slip in ("Theo đơn của bà nguyen thi hong nhung", "Hộ ở số 7 hẻm lê lợi yêu cầu", "Chủ hộ (0912 345 678)"):
        resp = officer.post(f"/households/{visited.id}/erase", data={"reason": slip, "confirm": "y"})
        assert resp.status_code == 400 and "Đừng ghi tên, địa chỉ hay số điện thoại của hộ" in resp.get_data(
            as_text=True), slip
        assert NAME in _everything_text(db)
    resp = officer.post(f"/households/{visited.id}/erase", data={"reason": reason, "confirm": "y"})
    assert resp.status_code == 303

    text = _everything_text(db)
    for value in (NAME, PHONE, ADDRESS, "nguyen thi hong nhung", "Tùng", "Số 7"):
        assert value not in text, value
    h = db.session.get(Household, visited.id)
    assert (h.head_name, h.phone, h.address, h.size) == ("", "", "", None)
    assert h.erased_at is not None and h.erased_by_id is not None
    assert db.session.scalar(sa.select(sa.func.count(Visit.id)).where(Visit.household_id == h.id)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Adoption)
                             .where(Adoption.household_id == h.id)) == 2

    tree.refresh()
    assert [_figures(u) for u in (tree.hamlet, tree.commune, tree.district, tree.province)] == before
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 0, result.output

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "erase"))
    changes = json.loads(event.changes)
    assert event.record_id == h.id and event.user_id == h.erased_by_id
    assert "head_name" in changes["erased_fields"]["after"] and changes["visit_notes_cleared"]["after"] == 1
    assert changes["reason"]["after"] == reason

    # Shown through a translated label, found by no search.
    show = officer.get(f"/households/{h.id}").get_data(as_text=True)
    assert f"Hộ đã xóa dữ liệu #{h.id}" in show and "Xóa dữ liệu cá nhân" not in show.split("<main")[-1]
    assert f"/households/{h.id}\"" not in officer.get("/households/?q=nguyen thi hong").get_data(as_text=True)
    assert f"/households/{h.id}\"" not in officer.get("/households/").get_data(as_text=True)
    visit_id = db.session.scalar(sa.select(Visit.id).where(Visit.household_id == h.id).limit(1))
    assert f"Hộ đã xóa dữ liệu #{h.id}" in officer.get(f"/visits/{visit_id}").get_data(as_text=True)


def test_erased_household_is_not_edited_nor_visited_again(app, db, officer, leader, visited, team, tree):
    edit_link, log_link = f'href="/households/{visited.id}/edit"', f'href="/visits/new?household={visited.id}"'
    page = leader.get(f"/households/{visited.id}").get_data(as_text=True)
    assert edit_link in page and log_link in page
    district = sign_in_as(app, "district", tree.district)[0]  # reads the household, neither edits nor logs
    page = district.get(f"/households/{visited.id}")
    assert page.status_code == 200 and edit_link not in page.get_data(as_text=True)
    assert log_link not in page.get_data(as_text=True)
    resp = officer.post(f"/households/{visited.id}/erase", data={"reason": "Yêu cầu của hộ", "confirm": "y"})
    assert resp.status_code == 303
    page = leader.get(f"/households/{visited.id}").get_data(as_text=True)
    assert edit_link not in page and log_link not in page
    assert leader.post(f"/households/{visited.id}/edit", data={"head_name": NAME}).status_code == 403
    resp = leader.post("/visits/new", data=form(visited.id, on=ON, members=[team[1][0].id],
                                                services={"vneid": "guided"}))
    assert resp.status_code == 400 and "đã bị xóa" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Household, visited.id).head_name == ""


def test_get_changes_nothing_and_bad_posts_keep_input(db, officer, visited):
    assert officer.get(f"/households/{visited.id}/erase").status_code == 200
    resp = officer.post(f"/households/{visited.id}/erase", data={"reason": "Theo đơn của hộ"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Đánh dấu để xác nhận" in page and "Theo đơn của hộ" in page
    resp = officer.post(f"/households/{visited.id}/erase", data={"confirm": "y"})
    assert resp.status_code == 400 and "lý do" in resp.get_data(as_text=True)
    db.session.expire_all()
    h = db.session.get(Household, visited.id)
    assert h.head_name == NAME and h.erased_at is None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "erase")) is None


def test_double_erase_is_harmless(db, officer, visited, runner):
    data = {"reason": "Yêu cầu của hộ", "confirm": "y"}
    done = officer.post(f"/households/{visited.id}/erase", data=data)
    assert done.status_code == 303
    assert "Đã xóa dữ liệu cá nhân. Các lượt hướng dẫn của hộ vẫn được tính." in officer.get(
        done.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    first = db.session.get(Household, visited.id).erased_at
    resp = officer.post(f"/households/{visited.id}/erase", data=data)
    assert resp.status_code == 303
    assert "Dữ liệu cá nhân của hộ này đã được xóa trước đó." in officer.get(
        resp.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Household, visited.id).erased_at == first
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "erase")) == 1
    assert "đã được xóa" in officer.get(f"/households/{visited.id}/erase").get_data(as_text=True)
    assert runner.invoke(args=["coverage", "verify"]).exit_code == 0


def test_only_the_households_commune_officer_and_admin(app, db, tree, visited, leader):
    url = f"/households/{visited.id}"
    data = {"reason": "Yêu cầu của hộ", "confirm": "y"}
    refused = [(leader, 403)]
    for role, unit, code in (("team_member", tree.commune, 404),  # not in a team serving the hamlet
                             ("district", tree.district, 403), ("province", tree.province, 403),
                             ("commune", tree.sibling_commune, 404), ("commune", tree.other_commune, 404),
                             ("district", tree.other_district, 404)):
        refused.append((sign_in_as(app, role, unit)[0], code))
    for browser, code in refused:
        assert browser.get(url + "/export.json").status_code == code
        assert browser.get(url + "/erase").status_code == code
        assert browser.post(url + "/erase", data=data).status_code == code
        page = browser.get(url)
        assert "Xuất dữ liệu" not in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Household, visited.id).erased_at is None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.in_(["export", "erase"]))) is None
    admin = sign_in_as(app, "admin", tree.province)[0]
    assert "Xuất dữ liệu (JSON)" in admin.get(url).get_data(as_text=True)
    assert admin.get(url + "/export.json").status_code == 200
    assert admin.post(url + "/erase", data=data).status_code == 303


def test_erasure_reaches_a_duplicate_merged_into_it(app, db, officer, tree):
    kept = household(tree.hamlet, NAME)
    dup = household(tree.hamlet, "Nguyen Thi Hong Nhung", "Gần chợ")
    assert officer.post(f"/households/{dup.id}/merge", data={"target_id": kept.id}).status_code == 303
    # Before the erasure, the household's export carries the duplicate merged into it.
    exported = json.loads(officer.get(f"/households/{kept.id}/export.json").get_data(as_text=True))
    assert [(d["id"], d["head_name"], d["address"]) for d in exported["merged_duplicates"]] == [
        (dup.id, "Nguyen Thi Hong Nhung", "Gần chợ")]
    resp = officer.post(f"/households/{kept.id}/erase", data={"reason": "Yêu cầu của hộ", "confirm": "y"})
    assert resp.status_code == 303
    text = _everything_text(db)
    assert "Nguyen Thi Hong Nhung" not in text and "Gần chợ" not in text and NAME not in text
    # The audit says what was erased: one duplicate, and no visit note (there was no visit).
    changes = json.loads(db.session.scalar(sa.select(AuditEvent.changes).where(AuditEvent.action == "erase")))
    assert (changes["merged_duplicates_erased"]["after"], changes["visit_notes_cleared"]["after"]) == (1, 0)


def _disk_bytes(db) -> bytes:
    """The raw bytes of the SQLite database file and its write-ahead log, as they are on disk."""
    path = db.engine.url.database
    data = b""
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as f:
                data += f.read()
        except FileNotFoundError:
            pass
    return data


def test_erased_values_no_longer_lie_in_the_database_files_or_the_log(app, db, officer, tree, team, leader):
    """SQLite: the head's name, the phone and the visit's note were in the file and its write-ahead
    log before the erasure, and are in neither after it (zeroed, and the log emptied)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the files of a SQLite database; PostgreSQL: the next test")
    import uuid
    tag = uuid.uuid4().hex[:8]  # values no earlier test can have left in free pages
    name, phone, note = f"Lò Thị Xóa {tag}", "09" + str(int(tag, 16) % 10**8).zfill(8), f"Ghi chú riêng {tag}"
    h = household(tree.hamlet, name, "Số 9 Trần Phú")
    assert leader.post(f"/households/{h.id}/edit", data=with_version(leader, f"/households/{h.id}/edit", {
        "head_name": name, "address": "Số 9 Trần Phú", "phone": phone, "size": "3"})).status_code == 303
    assert leader.post("/visits/new", data=form(h.id, on=ON, members=[team[1][0].id],
                                                services={"vneid": "guided"}, note=note)).status_code == 303
    before = _disk_bytes(db)
    for value in (name, phone, note):
        assert value.encode() in before, value

    resp = officer.post(f"/households/{h.id}/erase", data={"reason": "Theo yêu cầu", "confirm": "y"})
    assert resp.status_code == 303
    after = _disk_bytes(db)
    for value in (name, phone, note, tag):
        assert value.encode() not in after, value


def test_an_erasure_vacuums_the_tables_it_rewrote_on_postgresql(app, db, officer, visited):
    """PostgreSQL keeps an updated row's old version in the table until VACUUM: once the erasure has
    committed, no row version of the tables it touched, live or dead, holds the name, phone or note
    (read from the pages themselves with pageinspect), and their last manual vacuum has moved."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's VACUUM; SQLite: the test above")
    from app.households.privacy import ERASURE_TABLES
    db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    db.session.commit()
    versions = sa.text(
        "SELECT count(*) FROM generate_series(0, (pg_relation_size(CAST(:t AS regclass)) / "
        "current_setting('block_size')::int)::int - 1) AS blk, "
        "heap_page_items(get_raw_page(CAST(:t AS text), blk)) WHERE t_data IS NOT NULL "
        "AND position(convert_to(:value, 'UTF8') IN t_data) > 0")

    def held():
        found = {(t, v): db.session.scalar(versions, {"t": t, "value": v})
                 for t in ERASURE_TABLES for v in (NAME, PHONE, "Đặng Văn Tùng")}
        db.session.rollback()
        return {k: n for k, n in found.items() if n}

    household_id = visited.id  # read now: reading it in the test's own transaction would hold old rows back
    before = held()
    assert {t for t, _v in before} == set(ERASURE_TABLES), before
    assert before[("households", NAME)] >= 2  # the row as registered, and as edited (a dead version)
    started = db.session.scalar(sa.text("SELECT now()"))
    db.session.rollback()  # no transaction of the test's own holds old rows back from the VACUUM
    resp = officer.post(f"/households/{household_id}/erase", data={"reason": "Theo yêu cầu", "confirm": "y"})
    assert resp.status_code == 303
    assert held() == {}
    stats = sa.text("SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname IN :t"
                    ).bindparams(sa.bindparam("t", expanding=True))
    vacuumed = dict(db.session.execute(stats, {"t": list(ERASURE_TABLES)}).all())
    assert all(vacuumed[t] is not None and vacuumed[t] >= started for t in ERASURE_TABLES), vacuumed


def test_erasure_reaches_notes_in_the_audit_of_a_corrected_and_of_a_deleted_visit(app, db, officer, tree, team,
                                                                               leader):
    h = household(tree.hamlet, NAME, ADDRESS)
    members = team[1]
    ids = []
    for on in (ON, date(2024, 6, 2)):
        resp = leader.post("/visits/new", data=form(h.id, on=on, members=[members[0].id],
                                                    services={"vneid": "guided"}, note="Lần đầu: gặp anh Tùng"))
        assert resp.status_code == 303
        ids.append(int(resp.headers["Location"].rstrip("/").split("/")[-1]))
    # The first visit's note corrected (its audit event holds both notes, not the household), the
    # second visit deleted (its event outlives it).
    resp = leader.post(f"/visits/{ids[0]}/edit", data=with_version(
        leader, f"/visits/{ids[0]}/edit", form(h.id, on=ON, members=[members[0].id],
                                                           services={"vneid": "guided"},
                                                           note="Sửa lại: chị Nhung tự cài")))
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:1500]
    assert leader.post(f"/visits/{ids[1]}/delete").status_code in (302, 303)
    assert "anh Tùng" in _everything_text(db) and "tự cài" in _everything_text(db)
    resp = officer.post(f"/households/{h.id}/erase", data={"reason": "Đơn đề nghị", "confirm": "y"})
    assert resp.status_code == 303
    text = _everything_text(db)
    assert "anh Tùng" not in text and "tự cài" not in text and NAME not in text


def test_an_erasure_is_not_done_for_a_reason_of_one_word(db, officer, visited):
    """The reason is all the history keeps of an erasure: "Bổ sung" is refused with the message every reason box
    gives, beside the box that keeps it, and nothing is erased."""
    resp = officer.post(f"/households/{visited.id}/erase", data={"reason": "Bổ sung", "confirm": "y"})
    assert resp.status_code == 400
    page = parse(resp.get_data(as_text=True))
    error = page.find(id="reason-error")
    assert error is not None and "Hãy ghi lý do bằng lời, ít nhất 10 ký tự" in error.text()
    assert page.find(tag="textarea", name="reason").text().strip() == "Bổ sung"
    assert NAME in _everything_text(db)
