"""Classes and their named learners across the 2025 reform: held by a commune's team and counted per commune (a
learner may live in no hamlet), so on today's map a new commune's months before the reform are those of the old
communes it took in whole, and a split commune's on its main successor only, as its shifts and dossier totals are
(tests/test_reform_shifts.py); as the map was, the old communes' own. A learner named in two old communes that
merged is one person of the new commune. Nothing stored moves: a closed month's exports stay the same bytes."""
import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities import operations as activity_ops
from app.activities.models import Class
from app.auth.cli import create_user
from app.coverage import adults
from app.extensions import db as _db
from app.reports import closing, exports
from app.reports.summary import build_summary
from app.teams.models import Team
from app.units import operations as units
from app.units.models import AdminUnit
from tests.adult_world import service
from tests.test_reform_shifts import _then, _today, apply_plan
from tests.visits_helpers import make_team, sign_in_as

MAY, MARCH, SEPTEMBER = (2025, 5), (2025, 3), (2025, 9)


def _class(commune, team, on: date, total: int, learners=(), hamlet=None, vneid=0):
    """A class of `total` learners (all aged 18-59), some named: (name, birth year, home hamlet or None)."""
    return activity_ops.create_class(activity_ops.ClassData(
        commune_id=commune.id, held_on=on, place_hamlet_id=hamlet.id if hamlet else None,
        place_name="" if hamlet else "Nhà văn hóa", learners_total=total, age_15_17=0, age_18_59=total,
        age_60_plus=0, team_ids=[team.id], results={service("vneid").id: vneid} if vneid else {},
        learners=[activity_ops.Learner(name, year, home.id if home else None) for name, year, home in learners]),
        uuid.uuid4().hex)


@pytest.fixture
def reformed(app, db, tree, runner, tmp_path):
    """Classes on the old communes in March (closed) and May 2025, then the plan applied, then a class of the new
    commune in September. Nguyễn Văn An learnt in both Phường I and Phường III, which merge."""
    hamlets = {}
    for name, commune in (("Khu vực 3", tree.sibling_commune), ("Ấp Nhơn Lộc", tree.other_commune),
                          ("Ấp Nhơn Thuận", tree.other_commune)):
        hamlets[name] = units.create_unit(name, "hamlet", commune)
        units.set_household_count(hamlets[name], 100, date(2024, 1, 1))
    team_i, _m = make_team(tree.commune, [tree.hamlet], name="Tổ Phường I")
    team_iii, _m = make_team(tree.sibling_commune, [hamlets["Khu vực 3"]], name="Tổ Phường III")
    team_split, split_members = make_team(tree.other_commune, [tree.other_hamlet], name="Tổ Một Ngàn")
    _class(tree.commune, team_i, date(2025, 3, 10), 10, [("Phạm Thị Dung", 1985, tree.hamlet)], tree.hamlet, 3)
    _class(tree.commune, team_i, date(2025, 5, 6), 30, [("Nguyễn Văn An", 1970, tree.hamlet),
                                                        ("Trần Thị Bình", 1972, None)], tree.hamlet, 12)
    _class(tree.sibling_commune, team_iii, date(2025, 5, 12), 20, [("nguyen van an", 1970, tree.hamlet),
                                                                   ("Lê Văn Cường", 1990, hamlets["Khu vực 3"])],
           vneid=6)
    # Held in the hamlet that goes to Xã Thạnh Xuân; Thị trấn Một Ngàn's main successor is Xã Tân Hòa.
    split_class = _class(tree.other_commune, team_split, date(2025, 5, 15), 25,
                         [("Đỗ Văn Giang", 1960, hamlets["Ấp Nhơn Thuận"]), ("Hồ Thị Hoa", 1962, None)],
                         hamlets["Ấp Nhơn Thuận"], 8)
    split_shift = activity_ops.create_shift(activity_ops.ShiftData(
        commune_id=tree.other_commune.id, team_id=team_split.id, held_on=date(2025, 5, 16), people_helped=9,
        dossiers={service("dvc").id: 4}), uuid.uuid4().hex)
    staff = create_user("staff-93", "province", tree.province, "matkhau-dai-du-12")
    _db.session.flush()
    closing.close_month(tree.province, 2025, 3, staff)
    _db.session.commit()
    old = {name: getattr(tree, name).id for name in ("province", "commune", "sibling_commune", "other_commune")}
    old |= {"split_class": split_class.id, "split_shift": split_shift.id, "team_split": team_split.id,
            "leader": split_members[0].id, "member": split_members[1].id, "khu_vuc_1": tree.hamlet.id,
            "nhon_thuan": hamlets["Ấp Nhơn Thuận"].id, "nhon_xuan": tree.other_hamlet.id}
    march = build_summary(_db.session.get(AdminUnit, old["province"]), *MARCH)
    files = (exports.write_csv(march), exports.write_xlsx(march))
    # The split commune's team leader, signed in before the reform: the reorganization moves their account.
    leader, _user = sign_in_as(app, "team_leader", tree.other_commune, team_split, split_members[0])
    new = apply_plan(runner, tmp_path)
    team_i = _db.session.scalar(sa.select(Team).where(Team.name == "Tổ Phường I"))
    # After the reform: the new commune's own class, An among its learners again.
    _class(new["31321"], team_i, date(2025, 9, 3), 15, [("Nguyễn Văn An", 1970, None), ("Võ Văn Em", 2000, None)],
           vneid=2)
    _db.session.commit()
    return type("Reformed", (), {"old": old, "files": files, "province": new["92"], "vi_thanh": new["31321"],
                                 "tan_hoa": new["31342"], "thanh_xuan": new["31360"], "leader": leader,
                                 "khu_vuc_1": old["khu_vuc_1"], "nhon_thuan": old["nhon_thuan"]})


def _classes(f) -> tuple[int, int, int]:
    """Attendances, named learners by the month's end, learners who came away with VNeID working."""
    return f.attendances, f.named, f.working.get("vneid", 0)


def test_on_today_s_map_a_merged_commune_s_months_before_the_reform_add_up_its_old_communes_classes(reformed):
    # Nguyễn Văn An learnt in Phường I and Phường III: one learner of Phường Vị Thanh.
    assert _classes(_today(reformed.vi_thanh)) == (30 + 20, 4, 12 + 6)
    assert _classes(_today(reformed.vi_thanh, MARCH)) == (10, 1, 3)
    # Its own month: its own class, and its learners since the first class of any of its old communes (An again).
    assert _classes(_today(reformed.vi_thanh, SEPTEMBER)) == (15, 5, 2)


def test_a_split_commune_s_classes_and_learners_count_once_on_its_main_successor_on_today_s_map(reformed):
    assert _classes(_today(reformed.tan_hoa)) == (25, 2, 8)
    assert _classes(_today(reformed.thanh_xuan)) == (0, 0, 0)
    # Its hamlets hold no more than it: the class held in Ấp Nhơn Thuận counts with the commune, on Xã Tân Hòa.
    nhon_thuan = _db.session.get(AdminUnit, reformed.nhon_thuan)
    assert _classes(_today(nhon_thuan)) == (0, 0, 0)


def test_a_moved_hamlet_counts_its_old_commune_s_classes_and_learners_on_the_commune_that_took_it_in(reformed):
    khu_vuc_1 = _db.session.get(AdminUnit, reformed.khu_vuc_1)
    # Held in Khu vực 1; Dung, An and Bình (who gave no hamlet: the class's) live there. An, named in Phường I and
    # in Phường III (whose class he went to from Khu vực 1), is one learner of the hamlet too.
    assert _classes(_today(khu_vuc_1)) == (30, 3, 12)
    # As the map was, the hamlet counted its learners of Phường I's classes, its commune then.
    assert _classes(_then(khu_vuc_1)) == (30, 3, 12)


def test_the_province_counts_every_attendance_once_on_both_maps_and_a_learner_of_two_merged_communes_once_today(
        reformed):
    old_province = _db.session.get(AdminUnit, reformed.old["province"])
    then = _then(old_province)
    assert _classes(then) == (75, 7, 26)
    assert _classes(_then(reformed.province)) == _classes(then)
    # Today's map: An is one learner of Phường Vị Thanh, so the province's named learners are one fewer.
    assert _classes(_today(reformed.province)) == (75, 6, 26)
    communes = (reformed.vi_thanh, reformed.tan_hoa, reformed.thanh_xuan)
    figures = adults.adult_months(list(communes), [MAY])
    assert tuple(map(sum, zip(*(_classes(figures[c.id][MAY]) for c in communes), strict=True))) == (75, 6, 26)


def test_as_the_map_was_the_old_communes_keep_their_own_classes(reformed):
    assert _classes(_then(_db.session.get(AdminUnit, reformed.old["commune"]))) == (30, 3, 12)
    assert _classes(_then(_db.session.get(AdminUnit, reformed.old["sibling_commune"]))) == (20, 2, 6)
    assert _classes(_then(_db.session.get(AdminUnit, reformed.old["other_commune"]))) == (25, 2, 8)
    # A new commune stands for its old communes as the map was: their sum, as that month's pages had them.
    assert _classes(_then(reformed.vi_thanh)) == (50, 5, 18)


def test_the_closed_month_s_exports_are_the_same_bytes_and_an_open_month_s_report_counts_the_old_communes_classes(
        reformed):
    march = build_summary(_db.session.get(AdminUnit, reformed.old["province"]), *MARCH)
    assert march.closed_at is not None
    assert (exports.write_csv(march), exports.write_xlsx(march)) == reformed.files
    may = build_summary(reformed.province, *MAY)
    assert (may.total["adults"]["attendances"], may.total["adults"]["named"]) == (75, 6)
    rows = {r["name"]: (r["adults"]["attendances"], r["adults"]["named"]) for r in may.children}
    assert rows == {"Phường Vị Thanh": (50, 4), "Xã Tân Hòa": (25, 2), "Xã Thạnh Xuân": (0, 0)}
    then = build_summary(reformed.province, *MAY, as_then=True)
    assert (then.total["adults"]["attendances"], then.total["adults"]["named"]) == (75, 7)


def test_the_monthly_csv_s_hamlet_lines_never_exceed_their_commune(reformed, client, login_as):
    import csv
    import io
    login_as("province", reformed.province)
    resp = client.get(f"/reports/{reformed.province.id}/monthly.csv", query_string={"month": "2025-05"})
    assert resp.status_code == 200
    attendances = "Lượt người học trong tháng"
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert all(int(r[attendances] or 0) >= 0 for r in rows), [(r["Đơn vị"], r[attendances]) for r in rows]
    by_name = {r["Đơn vị"]: r[attendances] for r in rows}
    assert (by_name["Phường Vị Thanh"], by_name["Xã Tân Hòa"], by_name["Xã Thạnh Xuân"]) == ("50", "25", "0")


def _text(resp) -> str:
    return " ".join(resp.get_data(as_text=True).split())


def test_the_new_commune_s_adult_section_and_trend_show_its_old_communes_classes_and_say_so(
        reformed, client, login_as):
    login_as("commune", reformed.vi_thanh)
    page = _text(client.get(f"/coverage/{reformed.vi_thanh.id}?month=2025-05&adults=1&trend=1"))
    section = page[page.index('id="adults"'):]
    total = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", section) if "Tổng: Phường Vị Thanh" in r)
    assert ">50<" in total
    assert ("Lớp học, người học, ca trực tại Trung tâm phục vụ hành chính công và tổng số hồ sơ được tính theo xã: "
            "các tháng trước 07/2025 là của Phường I, Phường III.") in section
    trend = page[page.index("adult-trend"):]
    may_row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", trend) if "05/2025" in r)
    assert ">50<" in may_row
    # The split commune's other part says where its classes went.
    other = client.application.test_client()
    login_as("commune", reformed.thanh_xuan, http=other)
    section = _text(other.get(f"/coverage/{reformed.thanh_xuan.id}/adults?month=2025-05",
                              headers={"HX-Request": "true"}))
    assert ("Lớp học, người học, ca trực và hồ sơ của Thị trấn Một Ngàn (được chia cho nhiều đơn vị) được tính ở "
            "Xã Tân Hòa, đơn vị kế thừa chính.") in section


def test_the_api_gives_a_new_commune_s_classes_before_the_reform_on_today_s_map_and_the_old_one_s_as_it_was(
        reformed, client, login_as):
    from app.api.models import issue_token
    user = login_as("province", reformed.province, username="ttdh-classes")
    _token, secret = issue_token(user, label="test")
    _db.session.commit()

    def classes(query):
        resp = client.get(f"/api/v1/coverage?{query}", headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 200, resp.json
        a = resp.json["adults"]
        return resp.json["unit"]["name"], a["attendances"], a["named"]["learners"]

    assert classes("unit=31321&month=2025-05&map=today") == ("Phường Vị Thanh", 50, 4)
    assert classes("unit=31321&month=2025-05") == ("Phường III", 20, 2)
    assert classes("unit=31342&month=2025-05&map=today") == ("Xã Tân Hòa", 25, 2)
    assert classes("unit=92&month=2025-05&map=today") == ("Thành phố Cần Thơ", 75, 6)


def test_a_class_corrected_later_on_an_old_commune_shows_at_once_on_the_commune_that_took_it_in(reformed):
    assert _classes(_today(reformed.vi_thanh)) == (50, 4, 18)
    klass = _db.session.scalar(sa.select(Class).where(Class.commune_id == reformed.old["sibling_commune"]))
    activity_ops.delete_class(klass)
    _db.session.commit()
    assert _classes(_today(reformed.vi_thanh)) == (30, 3, 12)
    assert _classes(_today(reformed.province)) == (55, 5, 20)


def test_a_team_of_a_split_commune_reads_its_own_classes_and_shifts_held_there_and_cannot_change_them(
        reformed, app, login_as):
    """Thị trấn Một Ngàn went to two communes, so no commune officer below the province reads its records; the team
    that held them (now in Xã Tân Hòa) still does: its leader and members logged them."""
    leader = reformed.leader
    klass, shift = reformed.old["split_class"], reformed.old["split_shift"]
    for url in (f"/activities/classes/{klass}", f"/activities/shifts/{shift}"):
        shown = leader.get(url)
        assert shown.status_code == 200, url
        assert ("Tổ chức tại Thị trấn Một Ngàn, đơn vị đã kết thúc từ 01/07/2025 theo phương án sắp xếp: giữ nguyên "
                "như đã ghi, chỉ để xem.") in _text(shown)
        assert f"{url}/edit" not in _text(shown)
        assert leader.get(f"{url}/edit").status_code == 403
        assert leader.post(f"{url}/delete", data={}).status_code == 403
    listed = _text(leader.get("/activities/"))
    for url in (f"/activities/classes/{klass}", f"/activities/shifts/{shift}"):
        entry = listed[listed.index(url):]
        assert "Thị trấn Một Ngàn" in entry[:entry.index("</li>")] and f"{url}/edit" not in entry[:entry.index("</li>")]
    # A member of the team reads them too, and changes nothing.
    member = app.test_client()
    from app.teams.models import Member
    sign = create_user("member-split", "team_member", reformed.tan_hoa, "matkhau-dai-du-12")
    sign.team_id, sign.member_id = reformed.old["team_split"], _db.session.get(Member, reformed.old["member"]).id
    _db.session.commit()
    assert member.post("/auth/login", data={"username": "member-split", "password": "matkhau-dai-du-12"}
                       ).status_code == 302
    assert member.get(f"/activities/shifts/{shift}").status_code == 200
    assert member.get(f"/activities/shifts/{shift}/edit").status_code == 403
    # Another team of the same commune, and the commune's officer (who holds one part of it): not theirs to read.
    other_team, other_members = make_team(reformed.tan_hoa, [], name="Tổ Tân Hòa")
    _db.session.commit()
    other, _user = sign_in_as(app, "team_leader", reformed.tan_hoa, other_team, other_members[0])
    officer = app.test_client()
    login_as("commune", reformed.tan_hoa, http=officer)
    for http in (other, officer):
        assert http.get(f"/activities/classes/{klass}").status_code == 404
        assert http.get(f"/activities/shifts/{shift}").status_code == 404


def test_a_merged_commune_s_classes_are_listed_to_the_commune_that_took_it_in_read_only(
        reformed, app, client, login_as):
    klass = _db.session.scalar(sa.select(Class.id).where(Class.commune_id == reformed.old["commune"],
                                                        Class.held_on == date(2025, 5, 6)))
    login_as("commune", reformed.vi_thanh)
    listed = _text(client.get("/activities/?kind=class"))
    entry = listed[listed.index(f"/activities/classes/{klass}"):]
    assert "Phường I" in entry[:entry.index("</li>")]
    shown = client.get(f"/activities/classes/{klass}")
    assert shown.status_code == 200 and f"/activities/classes/{klass}/edit" not in _text(shown)
    assert client.get(f"/activities/classes/{klass}/edit").status_code == 403
    # Nor an admin's to change: the ended commune's classes are kept as they were logged.
    admin = app.test_client()
    login_as("admin", reformed.province, http=admin)
    shown = _text(admin.get(f"/activities/classes/{klass}"))
    assert ("Tổ chức tại Phường I, đơn vị đã kết thúc từ 01/07/2025 theo phương án sắp xếp: giữ nguyên như đã ghi, "
            "chỉ để xem.") in shown and f"/activities/classes/{klass}/edit" not in shown
    assert admin.get(f"/activities/classes/{klass}/edit").status_code == 403
    assert admin.post(f"/activities/classes/{klass}/delete", data={}).status_code == 403
    assert _db.session.get(Class, klass) is not None
    # The split commune's class is no single part's.
    assert client.get(f"/activities/classes/{reformed.old['split_class']}").status_code == 404


def _shift_post(team_id: int, member_id: int, commune, on: date, dossiers: int) -> dict:
    return {"key": uuid.uuid4().hex, "held_on": on.isoformat(), "commune": str(commune.id), "members": [str(member_id)],
            "people_helped": str(dossiers + 4), "dos-dvc": str(dossiers), "note": "", "save": "1"}


def _class_post(team_id: int, member_id: int, on: date, total: int) -> dict:
    from app.activities.models import Topic
    topic = _db.session.scalar(sa.select(Topic.id).where(Topic.province_id.is_(None)).limit(1))
    return {"key": uuid.uuid4().hex, "held_on": on.isoformat(), "place_hamlet": "", "place_name": "Trường tiểu học",
            "topics": [str(topic)], "teams": [str(team_id)], "members": [str(member_id)],
            "learners_total": str(total), "age_15_17": "0", "age_18_59": str(total), "age_60_plus": "0",
            "learners_female": "", "learners_male": "", "note": "", "save": "1"}


def test_a_class_and_a_shift_held_before_the_plan_s_day_and_logged_after_it_are_the_commune_s_of_that_day(reformed):
    """Tổ Một Ngàn, in Xã Tân Hòa since 01/07/2025, enters a class and a shift of May 2025 from its papers: they were
    held in Thị trấn Một Ngàn, where the team was then (Xã Tân Hòa did not exist), and count there as the map was,
    and on Xã Tân Hòa, its main successor, on today's map, as its other records of that month do."""
    from app.activities.models import CentreShift
    from tests.test_reform_shifts import _online
    leader, team_id, member_id = reformed.leader, reformed.old["team_split"], reformed.old["leader"]
    old = _db.session.get(AdminUnit, reformed.old["other_commune"])
    assert (_online(_today(reformed.tan_hoa)), _classes(_today(reformed.tan_hoa))) == ((4, 0, 0), (25, 2, 8))
    for url in ("/activities/shifts/new", "/activities/classes/new"):
        hint = re.search(r'<p class="hint" id="held-before">(.*?)</p>', _text(leader.get(url))).group(1)
        assert hint == ("Trước 01/07/2025 tổ thuộc Thị trấn Một Ngàn: lớp học, ca trực có ngày trước đó được ghi cho "
                        "Thị trấn Một Ngàn, giữ nguyên như đã ghi, chỉ để xem.")
    shift = leader.post("/activities/shifts/new", data=_shift_post(team_id, member_id, reformed.tan_hoa,
                                                                   date(2025, 5, 20), 5))
    assert shift.status_code == 303, _text(shift)
    shown = _text(leader.get(shift.headers["Location"]))
    assert ("Tổ chức tại Thị trấn Một Ngàn, đơn vị đã kết thúc từ 01/07/2025 theo phương án sắp xếp: giữ nguyên như đã "
            "ghi, chỉ để xem.") in shown
    # One learner named, of a household of Ấp Nhơn Xuân, which hung under Thị trấn Một Ngàn that day.
    from app.activities.models import ClassLearner
    from tests.visits_helpers import household
    home = household(_db.session.get(AdminUnit, reformed.old["nhon_xuan"]), "Đinh Văn Khải")
    klass = leader.post("/activities/classes/new", data=_class_post(team_id, member_id, date(2025, 5, 21), 10) | {
        "learners-0-name": "Đinh Văn Khải", "learners-0-birth_year": "1968",
        "learners-0-hamlet": str(reformed.old["nhon_xuan"]), "learners-0-phone": ""})
    assert klass.status_code == 303, _text(klass)
    assert _db.session.scalar(sa.select(ClassLearner.household_id).where(ClassLearner.name == "Đinh Văn Khải")) \
        == home.id
    later = leader.post("/activities/shifts/new", data=_shift_post(team_id, member_id, reformed.tan_hoa,
                                                                   date(2025, 9, 10), 2))
    assert later.status_code == 303
    _db.session.expire_all()
    held = dict(_db.session.execute(sa.select(CentreShift.held_on, CentreShift.commune_id).where(
        CentreShift.team_id == team_id)).all())
    assert held == {date(2025, 5, 16): old.id, date(2025, 5, 20): old.id, date(2025, 9, 10): reformed.tan_hoa.id}
    assert _db.session.scalar(sa.select(Class.commune_id).where(Class.held_on == date(2025, 5, 21))) == old.id
    # Nothing of Xã Tân Hòa's own is dated before it existed.
    for model in (CentreShift, Class):
        assert not _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.commune_id == reformed.tan_hoa.id, model.held_on < date(2025, 7, 1)))
    # Today's map: on Xã Tân Hòa, the split commune's main successor; as the map was: Thị trấn Một Ngàn's, for which
    # each of its parts stands then; the province counts each once on both maps.
    assert (_online(_today(reformed.tan_hoa)), _classes(_today(reformed.tan_hoa))) == ((9, 0, 0), (35, 3, 8))
    assert (_online(_then(old)), _classes(_then(old))) == ((9, 0, 0), (35, 3, 8))
    assert (_online(_then(reformed.tan_hoa)), _classes(_then(reformed.tan_hoa))) == ((9, 0, 0), (35, 3, 8))
    assert (_classes(_today(reformed.province)), _classes(_then(reformed.province))) == ((85, 7, 26), (85, 8, 26))
    assert _online(_today(reformed.tan_hoa, SEPTEMBER))[:1] == (2,)


def test_a_team_that_was_in_no_other_commune_cannot_log_a_class_or_shift_before_its_commune_existed(reformed, app):
    team, members = make_team(reformed.tan_hoa, [], name="Tổ Tân Hòa mới")
    _db.session.commit()
    leader, _user = sign_in_as(app, "team_leader", reformed.tan_hoa, team, members[0])
    for url, data in (("/activities/shifts/new", _shift_post(team.id, members[0].id, reformed.tan_hoa,
                                                             date(2025, 5, 20), 5)),
                      ("/activities/classes/new", _class_post(team.id, members[0].id, date(2025, 5, 20), 10))):
        assert 'id="held-before"' not in _text(leader.get(url))
        resp = leader.post(url, data=data)
        assert resp.status_code == 400, url
        text = _text(resp)
        assert ("Xã Tân Hòa có từ ngày 01/07/2025 và trước đó tổ không thuộc xã, phường nào khác: lớp học, ca trực "
                "không thể có ngày trước ngày này.") in text
        field = re.search(r'<input[^>]*id="held_on"[^>]*>', text).group(0)
        assert 'aria-invalid="true"' in field and 'value="2025-05-20"' in field
    from app.activities.models import CentreShift
    for model in (CentreShift, Class):
        assert not _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.commune_id == reformed.tan_hoa.id, model.held_on < date(2025, 7, 1)))
