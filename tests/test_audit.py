"""The audit trail: recorded with each change, browsable by province and district staff in scope."""
from datetime import timedelta

import pytest

from app.dates import today_vn
from tests.form_versions import post_total, with_version


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


def _trail(client, query=""):
    """Each event's sentence and its changes, (label, what it reads), as the trail shows them."""
    from tests.html_tree import parse
    out = []
    for li in parse(client.get(f"/audit/{query}").get_data(as_text=True)).find_all("li"):
        dl = li.find(tag="dl", **{"class": "changes"})
        if dl is not None:
            pairs = [(dt.text(), dd.text()) for dt, dd in zip(dl.find_all("dt"), dl.find_all("dd"), strict=True)]
            out.append((li.text(), dict(pairs)))
    return out


def test_each_kind_of_value_reads_as_a_person_writes_it(client, db, tree, login_as):
    """Codes as labels, ids as names, dates, months and numbers as Vietnamese write them; an empty side as a
    dash; a field empty on both sides left out."""
    from app.audit.models import record
    from app.teams.models import Team
    from app.text import fold
    team = Team(commune=tree.commune, name="Tổ CNSCĐ Khu vực 1", name_folded=fold("Tổ CNSCĐ Khu vực 1"))
    db.session.add(team)
    db.session.flush()
    record("update", "team", team.id, tree.commune.id,
           before={"status": "active", "decision_date": "2022-03-15", "hamlets": ["Khu vực 1"], "note": "",
                   "level": "hamlet", "role": "deputy", "households": 1200, "hamlet_id": tree.hamlet.id,
                   "is_enabled": True, "dissolved_reason": None},
           after={"status": "dissolved", "decision_date": "2023-01-09", "hamlets": ["Khu vực 1", "Khu vực 2"],
                  "note": None, "level": "commune", "role": "commune", "households": 1851,
                  "hamlet_id": tree.hamlet2.id, "is_enabled": False, "dissolved_reason": "Sáp nhập"})
    record("update", "unit", tree.commune.id, tree.commune.id,
           before={"month": 202410, "closed_at": "2024-11-02T03:15:00+00:00", "retired_on": "2025-07-01",
                   "communes_in": [], "communes_out": [], "source": None},
           after={"month": "2025-03", "closed_at": None, "retired_on": "not-a-date", "communes_in": ["Xã Tân Hòa"],
                  "communes_out": [], "source": {"tệp": "Kế hoạch Đồng Tháp.xlsx"}})
    db.session.commit()
    login_as("province", tree.province)
    (_sentence, team_changes), = [e for e in _trail(client, "?record_type=team")]
    assert team_changes == {
        "Trạng thái": "Đang hoạt động → Đã giải thể",
        "Ngày quyết định": "15/03/2022 → 09/01/2023",
        "Các ấp phụ trách": "Khu vực 1 → Khu vực 1, Khu vực 2",
        "Cấp": "Ấp → Xã",
        "Vai trò": "Tổ phó → Cán bộ xã",
        "Số hộ": "1.200 → 1.851",
        "Ấp": "Khu vực 1 → Khu vực 2",
        "Tài khoản hoạt động": "có → không",
        "Lý do": "Sáp nhập",  # nothing before: no arrow
    }  # the note, empty before and after, says nothing
    (unit_changes,) = [changes for _sentence, changes in _trail(client, "?record_type=unit") if "Tháng" in changes]
    # A month kept as yyyymm or as YYYY-MM; a time in Vietnam's (03:15 UTC); a value that is not a date as it
    # is; an empty list as a dash, and as nothing when it stays empty.
    assert unit_changes == {"Tháng": "10/2024 → 03/2025", "Khóa sổ lúc": "10:15 02/11/2024 → –",
                            "Ngừng sử dụng từ": "01/07/2025 → not-a-date", "Xã được thêm": "– → Xã Tân Hòa",
                            "Phương án": '{"tệp": "Kế hoạch Đồng Tháp.xlsx"}'}


def test_records_that_are_gone_are_still_named_in_the_trail(app, db, tree, team):
    """A deleted visit is named by its household, a deleted hamlet by the name it had."""
    from datetime import date

    from tests.visits_helpers import form, household, sign_in_as
    leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])[0]
    h = household(tree.hamlet, "Trịnh Thị Ngọc Hân")
    resp = leader.post("/visits/new", data=form(h.id, on=date(2026, 3, 2), members=[team[1][0].id],
                                                services={"vneid": "guided"}))
    assert resp.status_code == 303
    visit_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert leader.post(f"/visits/{visit_id}/delete").status_code == 303
    officer = sign_in_as(app, "commune", tree.commune)[0]
    officer.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Tạm Thời"})
    import sqlalchemy as sa

    from app.units.models import AdminUnit
    temporary = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Tạm Thời"))
    assert officer.post(f"/units/{temporary.id}/delete", data={"payload": "1"}).status_code in (302, 303)
    staff = sign_in_as(app, "province", tree.province)[0]
    sentences = [sentence for sentence, _changes in _trail(staff)]
    assert any("Đã ghi một lượt hướng dẫn tại hộ Trịnh Thị Ngọc Hân" in s for s in sentences)
    assert any("Đã xóa một lượt hướng dẫn tại hộ Trịnh Thị Ngọc Hân" in s for s in sentences)
    assert any("Đã xóa ấp Ấp Tạm Thời" in s for s in sentences)


def _renames(db, tree, times):
    """A hamlet renamed at each of `times` (aware datetimes), to "Ấp mốc NN" (NN its place in `times`); the
    trail holds nothing else."""
    import sqlalchemy as sa

    from app.audit.models import AuditEvent, record
    db.session.execute(sa.delete(AuditEvent))
    for n, at in enumerate(times):
        event = record("update", "unit", tree.hamlet.id, tree.hamlet.id, before={"name": "Khu vực 1"},
                       after={"name": f"Ấp mốc {n:02d}"})
        event.at = at
    db.session.commit()


def _shown(client, query):
    import re
    return sorted(int(n) for n in re.findall(r"Ấp mốc (\d\d)", client.get(f"/audit/{query}").get_data(as_text=True)))


def test_a_date_filter_takes_whole_vietnamese_days_from_first_to_last(client, db, tree, login_as):
    from datetime import datetime

    from app.dates import VN
    _renames(db, tree, [datetime(2026, 3, 9, 23, 59, 59, tzinfo=VN),   # 0: the day before
                        datetime(2026, 3, 10, 0, 0, tzinfo=VN),        # 1: the first day's first second
                        datetime(2026, 3, 11, 23, 59, 59, tzinfo=VN),  # 2: the last day's last second
                        datetime(2026, 3, 12, 0, 0, tzinfo=VN)])       # 3: the day after
    login_as("province", tree.province)
    assert _shown(client, "?date_from=2026-03-10&date_to=2026-03-11") == [1, 2]
    assert _shown(client, "?date_from=2026-03-10") == [1, 2, 3]
    assert _shown(client, "?date_to=2026-03-09") == [0]


def test_the_trail_pages_fifty_events_newest_first_keeping_the_filters(client, db, tree, login_as):
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    from tests.html_tree import parse
    _renames(db, tree, [datetime(2026, 3, 1, 8, n, tzinfo=UTC) for n in range(51)])
    login_as("province", tree.province)
    first = client.get("/audit/?record_type=unit")
    assert first.status_code == 200
    assert _shown(client, "?record_type=unit") == list(range(1, 51))  # the newest fifty
    links = {a.text().strip(): a.attrs["href"] for a in parse(first.get_data(as_text=True)).find_all("a")
             if "page=" in a.attrs.get("href", "")}
    older = urlsplit(links["Cũ hơn ›"])
    assert parse_qs(older.query) == {"page": ["2"], "record_type": ["unit"]} and "‹ Mới hơn" not in links
    assert _shown(client, f"?{older.query}") == [0]
    second = parse(client.get(f"/audit/?{older.query}").get_data(as_text=True))
    hrefs = [a.attrs["href"] for a in second.find_all("a") if "page=" in a.attrs.get("href", "")]
    assert [parse_qs(urlsplit(h).query) for h in hrefs] == [{"page": ["1"], "record_type": ["unit"]}]
    # A page number that is not one shows the first page.
    assert _shown(client, "?record_type=unit&page=abc") == list(range(1, 51))
    # Fifty events in all: one page, and no link to an empty one.
    _renames(db, tree, [datetime(2026, 3, 1, 8, n, tzinfo=UTC) for n in range(50)])
    page = client.get("/audit/?record_type=unit").get_data(as_text=True)
    assert _shown(client, "?record_type=unit") == list(range(50)) and "page=" not in page


@pytest.mark.parametrize("key,value,shown", [
    ("is_enabled", True, "có"), ("is_enabled", False, "không"),
    ("note", "", "–"), ("note", None, "–"), ("members", [], "–"),
    ("members", [3, 4], "Lan, #4"),  # a member by name; one no longer found by its id
    ("team_id", 7, "Tổ 1"),
    ("erased_fields", "head_name, phone", "Chủ hộ, Số di động"),
    ("services", {"1": "adopted", "2": "guided"}, "DVC: Đã sử dụng; #2: Đã hướng dẫn"),
    ("dossiers", {"1": 1200}, "DVC: 1.200"),
    ("month", 202410, "10/2024"), ("month", "2024-10", "10/2024"), ("month", 99, "99"),
    ("role", "province", "Cán bộ tỉnh"), ("role", "leader", "Tổ trưởng"), ("role", "chief", "chief"),
    ("level", "area", "Cụm xã"), ("level", "x", "x"), ("status", "dissolved", "Đã giải thể"),
    ("households", 1200, "1.200"),
    ("joined_on", "2024-05-23", "23/05/2024"), ("joined_on", "2024-13-01", "2024-13-01"),
    ("created_at", "2024-05-23T03:04:05+00:00", "10:04 23/05/2024"),  # in Vietnam's time
    ("created_at", "hôm qua", "hôm qua"),
    ("hamlets", ["Ấp A", "Ấp B"], "Ấp A, Ấp B"), ("split_into", {"a": 1}, '{"a": 1}'), ("name", "Ấp Một", "Ấp Một"),
    # a member's codes under the form's labels; a year as a year; a phone number grouped
    ("affiliation", "other", "Khác"), ("affiliation", "womens_union", "Hội Liên hiệp Phụ nữ"),
    ("gender", "female", "Nữ"), ("birth_year", 1990, "1990"), ("phone", "0912345678", "0912 345 678"),
    ("pillar", "economy", "Kinh tế số"), ("indicator", "named_share", "Tỷ lệ trên người trưởng thành"),
    ("reason", "reorganization", "Sắp xếp đơn vị hành chính"), ("reason", "Nhập sai", "Nhập sai"),
    ("format", "json", "JSON"),
    # a target's share, kept as text or as a number
    ("share", "0.8000", "80%"), ("share", 0.325, "32,5%"), ("share", "nhiều", "nhiều"),
    ("on", "2025-07-01", "01/07/2025"),  # a team's move by a reorganization
])
def test_each_kind_of_changed_value_reads_as_a_person_writes_it(app, key, value, shown):
    from flask_babel import force_locale

    from app.audit.words import _value
    names = {("member", 3): "Lan", ("team", 7): "Tổ 1", ("service", 1): "DVC"}
    with app.test_request_context(), force_locale("vi"):
        assert _value(key, value, names) == shown


def test_a_visit_s_entry_names_its_household_services_and_members_and_a_class_s_its_topics(app, db, tree):
    """What a visit or a class refers to by id (household, services, members, topics) reads by name."""
    import sqlalchemy as sa
    from flask_babel import force_locale

    from app.audit.models import AuditEvent
    from app.audit.words import describe
    from tests.test_activities import class_form
    from tests.visits_helpers import form, household, make_team, sign_in_as
    team, members = make_team(tree.commune, [tree.hamlet])
    home = household(tree.hamlet, name="Trần Văn Bảy")
    db.session.commit()
    leader, _user = sign_in_as(app, "team_leader", tree.commune, team=team, member=members[0])
    assert leader.post("/visits/new", data=form(home.id, members=[members[0].id],
                                                services={"dvc": "guided"})).status_code == 303
    assert leader.post("/activities/classes/new", data=class_form(db, team, members)).status_code == 303
    # Corrected, its entry holds only what changed: the household is found through the visit.
    from app.visits.models import Visit
    visit_id, key = db.session.execute(sa.select(Visit.id, Visit.idempotency_key)).one()
    assert leader.post(f"/visits/{visit_id}/edit", data=with_version(
        leader, f"/visits/{visit_id}/edit", form(home.id, members=[members[0].id], key=key,
                                                            services={"dvc": "adopted"}))).status_code == 303
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type.in_(("visit", "class")))
                                .order_by(AuditEvent.id)).all()
    with app.test_request_context(), force_locale("vi"):
        visit, klass, corrected = describe(events)
        assert corrected.sentence == "Đã sửa một lượt hướng dẫn tại hộ Trần Văn Bảy"
        assert visit.sentence == "Đã ghi một lượt hướng dẫn tại hộ Trần Văn Bảy"
        details = {label: after for label, _before, after in visit.details}
        assert details["Dịch vụ"] == "Tài khoản và hồ sơ dịch vụ công trực tuyến: Đã hướng dẫn"
        assert (details["Hộ gia đình"], details["Thành viên tham gia"]) == ("Trần Văn Bảy", members[0].full_name)
        topics = {label: after for label, _before, after in klass.details}["Nội dung"]
        assert "#" not in topics and len(topics.split(", ")) == 2


def test_an_entry_of_an_older_shape_still_reads_as_a_sentence(app, db, tree):
    """Entries written by earlier versions: a change list that is not JSON, or a sentence's value missing."""
    from flask_babel import force_locale

    from app.audit.models import AuditEvent
    from app.audit.words import describe
    broken = AuditEvent(action="update", record_type="team", record_id=999, changes="{not json")
    from app.auth.cli import create_user
    account = create_user("can-bo-cu", "district", tree.district, "mat-khau-dai-du-1")
    db.session.flush()
    bound = AuditEvent(action="update", record_type="user", record_id=account.id, changes="{}")  # no unit
    db.session.add_all([broken, bound])
    db.session.commit()
    with app.test_request_context(), force_locale("vi"):
        first, second = describe([broken, bound])
        assert first.details == [] and first.sentence.endswith("#999")
        assert second.sentence == "Đã gắn tài khoản can-bo-cu với –"


def test_a_member_s_correction_reads_in_the_labels_of_the_member_form(app, db, tree, team):
    """Affiliation and gender under the form's own labels, a year of birth without a thousands separator, a
    phone number grouped as people read it out."""
    from tests.visits_helpers import sign_in_as
    member = team[1][1]
    member.affiliation, member.gender, member.birth_year, member.phone = "womens_union", "male", 1982, "0912000100"
    db.session.commit()
    officer = sign_in_as(app, "commune", tree.commune)[0]
    data = {f"edit-{member.id}-{k}": v for k, v in {
        "full_name": member.full_name, "phone": "0912345678", "gender": "female", "birth_year": "1990",
        "role": "member", "affiliation": "other", "joined_on": "2022-01-01"}.items()}
    assert officer.post(f"/teams/members/{member.id}/edit", data=with_version(
        officer, f"/teams/members/{member.id}/edit", data)).status_code == 302
    staff = sign_in_as(app, "province", tree.province)[0]
    (sentence, changes), = [e for e in _trail(staff, "?record_type=member") if "Trần Văn Bình" in e[0]]
    assert changes["Đơn vị công tác"] == "Hội Liên hiệp Phụ nữ → Khác"
    assert changes["Năm sinh"] == "1982 → 1990"
    assert changes["Giới tính"] == "Nam → Nữ"
    assert changes["Số di động"] == "0912 000 100 → 0912 345 678"


def test_a_member_s_changed_fields_are_listed_in_the_order_of_the_member_form(app, db, tree, team):
    """Name, mobile number, gender, year of birth, role, affiliation, joining day: as the form asks for them,
    not in the alphabetical order of their codes (affiliation, birth_year, full_name…)."""
    from tests.visits_helpers import sign_in_as
    member = team[1][1]
    member.affiliation, member.gender, member.birth_year, member.phone = "womens_union", "male", 1982, "0912000100"
    db.session.commit()
    officer = sign_in_as(app, "commune", tree.commune)[0]
    data = {f"edit-{member.id}-{k}": v for k, v in {
        "full_name": "Trần Văn Bình Minh", "phone": "0912345678", "gender": "female", "birth_year": "1990",
        "role": "deputy", "affiliation": "other", "joined_on": "2022-01-01"}.items()}
    assert officer.post(f"/teams/members/{member.id}/edit", data=with_version(
        officer, f"/teams/members/{member.id}/edit", data)).status_code == 302
    area = sign_in_as(app, "district", tree.district)[0]
    (_sentence, changes), = [e for e in _trail(area, "?record_type=member") if "Bình Minh" in e[0]]
    labels = [label for label in changes if label in ("Họ và tên", "Số di động", "Giới tính", "Năm sinh",
                                                      "Vai trò", "Đơn vị công tác", "Ngày tham gia")]
    assert labels == ["Họ và tên", "Số di động", "Giới tính", "Năm sinh", "Vai trò", "Đơn vị công tác"], changes


def test_an_account_is_named_by_its_person_then_its_username_and_its_role_as_the_teams_pages_say(
        app, db, tree, team):
    """"Đã tạo tài khoản Trần Văn Bình (09…)", by "Cán bộ Xã (xa-…)": never the bare number; a member's role in
    the account is the word the team pages use for it (Thành viên), not a second one."""
    from tests.visits_helpers import sign_in_as
    member = team[1][1]
    member.phone = "0912000100"
    db.session.commit()
    officer_client, officer = sign_in_as(app, "commune", tree.commune)[:2]
    officer.full_name = "Phạm Thị Lan"
    db.session.commit()
    assert officer_client.post(f"/teams/members/{member.id}/account").status_code == 200
    area = sign_in_as(app, "district", tree.district)[0]
    html = area.get("/audit/?record_type=user").get_data(as_text=True)
    assert f"Đã tạo tài khoản {member.full_name} (0912000100)" in html
    assert f"Phạm Thị Lan ({officer.username})" in html
    assert "Vai trò</dt><dd>Thành viên" in html and "Tổ viên" not in html


def test_a_commune_s_dossiers_of_a_month_are_named_by_their_month_and_commune(app, db, tree):
    """Not by the row's number: "Đã sửa số hồ sơ trong tháng của xã (10/2026, Phường I)"."""
    from tests.visits_helpers import sign_in_as
    today = today_vn()
    month = f"{today.year:04d}-{today.month:02d}"
    officer = sign_in_as(app, "commune", tree.commune)[0]
    assert post_total(officer, {"month": month, "dossiers": "599"}).status_code == 303
    assert post_total(officer, {"month": month, "dossiers": "1234"}).status_code == 303
    staff = sign_in_as(app, "province", tree.province)[0]
    corrected, recorded = _trail(staff, "?record_type=dossier_total")
    named = f"{today.month:02d}/{today.year}, Phường I"
    assert f"Đã sửa số hồ sơ trong tháng của xã ({named})" in corrected[0]
    assert corrected[1] == {"Hồ sơ": "599 → 1.234"}
    assert f"Đã ghi nhận số hồ sơ trong tháng của xã ({named})" in recorded[0]


def test_classes_and_shifts_are_named_by_their_day_and_place_even_once_deleted(app, db, tree):
    from flask_babel import force_locale

    from app.audit.models import AuditEvent, record
    from app.audit.words import describe
    klass = record("delete", "class", 9999, tree.commune.id,
                   before={"held_on": "2026-03-02", "place_hamlet_id": tree.hamlet2.id, "place_name": "Nhà văn hóa",
                           "learners_total": 12})
    shift = record("delete", "shift", 9998, tree.commune.id, before={"held_on": "2026-03-05", "people_helped": 4})
    db.session.commit()
    with app.test_request_context(), force_locale("vi"):
        described = describe([db.session.get(AuditEvent, klass.id), db.session.get(AuditEvent, shift.id)])
        assert [e.sentence for e in described] == [
            "Đã xóa một buổi học (02/03/2026, Khu vực 2)",
            "Đã xóa một ca trực tại Trung tâm phục vụ hành chính công (05/03/2026, Phường I)"]


def test_an_adult_target_s_entry_says_which_indicator_and_its_share_as_a_percentage(client, db, tree, login_as):
    from datetime import date
    from decimal import Decimal

    from app.coverage.adults import set_adult_target
    set_adult_target(tree.province, "online_share", Decimal("0.325"), date(2027, 12, 31))
    db.session.commit()
    login_as("province", tree.province)
    (_sentence, changes), = _trail(client, "?record_type=unit")[:1]  # the newest
    assert changes == {"Chỉ số": "Tỷ lệ trên tổng hồ sơ", "Tỷ lệ chỉ tiêu": "32,5%",
                       "Thời hạn đạt chỉ tiêu": "31/12/2027"}


def test_a_team_moved_by_a_reorganization_reads_its_commune_once_and_an_account_where_it_went(app, db, tree):
    """A team's commune is kept by name and by id (one line, not two); an account moved to a successor of the
    same name still says where it went."""
    from flask_babel import force_locale

    from app.audit.models import AuditEvent, record
    from app.audit.words import describe
    from app.auth.cli import create_user
    from app.teams.models import Team
    from app.text import fold
    team = Team(commune=tree.sibling_commune, name="Tổ Phường III", name_folded=fold("Tổ Phường III"))
    account = create_user("can-bo-phuong", "commune", tree.sibling_commune, "mat-khau-dai-du-1")
    db.session.add(team)
    db.session.flush()
    moved = record("move", "team", team.id, tree.sibling_commune.id,
                   before={"commune": "Phường I", "commune_id": tree.commune.id},
                   after={"commune": "Phường III", "commune_id": tree.sibling_commune.id, "on": "2025-07-01"})
    bound = record("update", "user", account.id, tree.sibling_commune.id, before={"unit": "Phường III"},
                   after={"unit": "Phường III", "username": account.username})
    db.session.commit()
    with app.test_request_context(), force_locale("vi"):
        team_entry, account_entry = describe([db.session.get(AuditEvent, moved.id),
                                              db.session.get(AuditEvent, bound.id)])
        assert team_entry.details == [("Xã", "Phường I", "Phường III"), ("Ngày", None, "01/07/2025")]
        assert account_entry.sentence == "Đã gắn tài khoản can-bo-phuong với Phường III"


def test_a_team_s_own_trail_reads_a_move_by_a_reorganization_as_the_audit_page_does(app, db, tree):
    """The team's page lists its events its own way, but each change under its label, a commune by name (once),
    a day as a date: never "commune_id: #10" or "on: 2025-07-01"."""
    from app.audit.models import record
    from app.teams.models import Team
    from app.text import fold
    from tests.html_tree import parse
    from tests.visits_helpers import sign_in_as
    team = Team(commune=tree.sibling_commune, name="Tổ Phường III", name_folded=fold("Tổ Phường III"),
                status="active")
    db.session.add(team)
    db.session.flush()
    record("move", "team", team.id, tree.sibling_commune.id,
           before={"commune": "Phường I", "commune_id": tree.commune.id},
           after={"commune": "Phường III", "commune_id": tree.sibling_commune.id, "on": "2025-07-01"})
    db.session.commit()
    officer = sign_in_as(app, "commune", tree.sibling_commune)[0]
    trail = parse(officer.get(f"/teams/{team.id}").get_data(as_text=True)).find(id="audit")
    changes = [" ".join(li.text().split()) for li in trail.find(tag="ul", **{"class": "audit-changes"}).find_all("li")]
    assert changes == ["Xã: Phường I → Phường III", "Ngày: 01/07/2025"]


def test_a_shift_s_fields_read_day_first_then_team_and_members(app, db, tree):
    from app.audit.models import record
    from app.audit.words import describe
    event = record("create", "shift", 9997, tree.commune.id,
                   after={"people_helped": 4, "members": [], "team_id": None, "held_on": "2026-03-05",
                          "commune": tree.commune.name, "note": "x"})
    db.session.commit()
    (entry,) = describe([event])
    assert [label for label, _b, _a in entry.details] == ["Date", "Commune", "People helped", "Note"]
