"""Bulk import of a commune's member list: preview with every row's problems, then all or nothing."""
import io
import re
from datetime import date

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.dates import today_vn
from app.teams import operations as team_ops
from app.teams.models import Member, Membership, Team
from tests.html_tree import parse

HEADER = ["Họ tên", "Số điện thoại", "Giới tính", "Năm sinh", "Vai trò", "Đơn vị công tác", "Ấp", "Ngày tham gia"]


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    # What we upload is a real workbook: openpyxl reads it back.
    assert load_workbook(io.BytesIO(data)).active.max_row == len(rows) + 1
    return data


def setup_teams(db, tree):
    one = team_ops.create_team(tree.commune, "Tổ khu vực 1", "", None, [tree.hamlet])
    two = team_ops.create_team(tree.commune, "Tổ khu vực 2", "", None, [tree.hamlet2])
    db.session.commit()
    return one, two


def upload(client, commune, data, name="thanh-vien.xlsx"):
    return client.post(f"/teams/import/{commune.id}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


GOOD = [
    ["Nguyễn Văn An", "0912 345 678", "Nam", 1990, "Tổ trưởng", "Đoàn Thanh niên", "Khu vực 1", "15/03/2022"],
    ["Trần Thị Bình", 912345679, "Nữ", 1995, "Thành viên", "Hội Phụ nữ", "Khu vực 1", None],
    ["Lê Văn Cường", "+84912345680", "nam", None, "", "Bưu điện", "khu vuc 2", "2023-01-10"],
]


def test_xlsx_with_bad_rows_shows_every_problem_and_writes_nothing(client, db, tree, login_as):
    one, _two = setup_teams(db, tree)
    team_ops.add_member(one, full_name="Đã Có", gender="", birth_year=None, phone="0987654321",
                        affiliation="other", role="member", joined_on=date(2022, 1, 1))
    db.session.commit()
    login_as("commune", tree.commune)
    rows = GOOD + [
        ["", "0912000001", "Nam", 1990, "", "", "Khu vực 1", None],                 # line 5: no name
        ["Phạm Văn Dũng", "091234", "Nam", 1990, "", "", "Khu vực 1", None],       # line 6: short phone
        ["Võ Thị Em", "0912 345 678", "Nữ", 1990, "", "", "Khu vực 1", None],      # line 7: twice in file
        ["Huỳnh Văn Phúc", "0987654321", "Nam", 1990, "", "", "Khu vực 1", None],  # line 8: in the database
        ["Đỗ Thị Giang", "0912000002", "Nữ", 1990, "", "", "Ấp Không Có", None],   # line 9: unknown hamlet
        ["Bùi Văn Hải", "0912000003", "Nam", 1990, "Tổ trưởng", "", "Khu vực 1", None],  # line 10: second leader
        ["\u0301 🙂", "0912000004", "Nữ", 1990, "", "", "Khu vực 1", None],         # line 11: nothing to read
    ]
    resp = upload(client, tree.commune, xlsx(rows))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "7 trên 10 dòng có lỗi" in html and "Chưa có gì được lưu" in html
    bad_lines = {int(n) for n in re.findall(r'<li class="bad" data-line="(\d+)">', html)}
    assert bad_lines == {5, 6, 7, 8, 9, 10, 11}
    assert "Tên phải có ít nhất một chữ cái hoặc chữ số." in html
    assert "Thiếu tên." in html
    assert "số này có 6 chữ số" in html
    assert "Số này xuất hiện hai lần trong tệp (dòng 2)." in html
    assert ("Số này là của Đã Có, thành viên của Tổ khu vực 1, không phải của Huỳnh Văn Phúc: hãy kiểm tra lại "
            "số ở dòng này.") in html
    assert "Không có ấp Ấp Không Có" in html
    assert "Tổ này đã có tổ trưởng khác trong tệp (dòng 2)." in html
    assert "Xác nhận và lưu" not in html
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1


def test_fixed_file_is_previewed_then_imported_on_confirm(client, db, tree, login_as):
    one, two = setup_teams(db, tree)
    login_as("commune", tree.commune)
    resp = upload(client, tree.commune, xlsx(GOOD))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "3 dòng hợp lệ" in html
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0  # nothing until confirmed
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload})
    assert resp.status_code == 302
    members = {m.full_name: m for m in db.session.scalars(sa.select(Member))}
    assert set(members) == {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"}
    an, binh, cuong = members["Nguyễn Văn An"], members["Trần Thị Bình"], members["Lê Văn Cường"]
    assert (an.phone, an.gender, an.affiliation, an.current.role, an.current.team_id, an.current.joined_on) == (
        "0912345678", "male", "youth_union", "leader", one.id, date(2022, 3, 15))
    assert binh.phone == "0912345679" and binh.affiliation == "womens_union"  # Excel dropped the leading 0
    assert cuong.phone == "0912345680" and cuong.current.team_id == two.id and cuong.affiliation == "post_office"
    # Confirming the same preview again (a double tap) adds nobody twice: each line is registered now.
    again = client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload},
                        follow_redirects=True)
    assert ("Đã thêm 0 thành viên; 3 dòng không thêm ai (thành viên đã đăng ký từ trước, hoặc dòng mẫu của tệp "
            "mẫu).") in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 3


def test_the_preview_shows_every_field_the_importer_reads_as_it_read_them(client, db, tree, login_as):
    """Sex, year of birth, affiliation and joining day too, not only name, phone, team and role: a column read
    wrong (a date taken for another, an affiliation not recognised) is seen before it is saved."""
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    html = upload(client, tree.commune, xlsx(GOOD)).get_data(as_text=True)
    page = parse(html)

    def facts(line):
        """The row's facts as a person reads them: label → value."""
        row = page.find(**{"data-line": str(line)})
        pairs = zip(row.find_all("dt"), row.find_all("dd"), strict=True)
        return {" ".join(dt.text().split()): " ".join(dd.text().split()) for dt, dd in pairs}

    assert facts(2) == {"Tổ": "Tổ khu vực 1", "Ấp": "Khu vực 1", "Vai trò trong tổ": "Tổ trưởng", "Giới tính": "Nam",
                        "Năm sinh": "1990", "Đơn vị công tác": "Đoàn Thanh niên", "Ngày vào tổ": "15/03/2022"}
    # The file's "Hội Phụ nữ", read as the women's union: both shown.
    assert facts(3)["Giới tính"] == "Nữ" and facts(3)["Đơn vị công tác"] == "Hội Phụ nữ → Hội Liên hiệp Phụ nữ"
    # No joining day in the file: the member joins today, and the preview says which day that is.
    assert facts(3)["Ngày vào tổ"] == today_vn().strftime("%d/%m/%Y")
    assert facts(4) == {"Tổ": "Tổ khu vực 2", "Ấp": "khu vuc 2", "Vai trò trong tổ": "Thành viên", "Giới tính": "Nam",
                        "Năm sinh": "–", "Đơn vị công tác": "Bưu điện", "Ngày vào tổ": "10/01/2023"}


def test_members_without_a_mobile_number_are_imported(client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    data = ("Họ tên;Số điện thoại;Tổ\nTrưởng Ấp Già;;tổ khu vực 2\nBà Tư;;tổ khu vực 2\n"
            "Có Số;0912345678;tổ khu vực 2\n").encode()
    html = upload(client, tree.commune, data, name="ds.csv").get_data(as_text=True)
    assert "3 dòng hợp lệ" in html and "không có số di động" in html
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload}).status_code == 302
    phones = {m.full_name: m.phone for m in db.session.scalars(sa.select(Member))}
    assert phones == {"Trưởng Ấp Già": "", "Bà Tư": "", "Có Số": "0912345678"}


def test_csv_is_accepted_too(client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    data = "Họ tên;Số điện thoại;Tổ\nNguyễn Văn An;0912345678;tổ khu vực 2\n".encode()
    resp = upload(client, tree.commune, data, name="ds.csv")
    assert resp.status_code == 200 and "Tổ khu vực 2" in resp.get_data(as_text=True)


def test_a_file_that_is_not_a_spreadsheet(client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    resp = upload(client, tree.commune, b"%PDF-1.4 not a sheet", name="ds.pdf")
    assert resp.status_code == 400
    assert "Hãy tải lên tệp Excel (.xlsx) hoặc tệp CSV (.csv)." in resp.get_data(as_text=True)
    resp = upload(client, tree.commune, b"PK\x03\x04broken zip", name="ds.xlsx")
    assert resp.status_code == 400 and "không phải là tệp Excel đọc được" in resp.get_data(as_text=True)
    resp = client.post(f"/teams/import/{tree.commune.id}", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Hãy chọn một tệp." in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def test_a_tampered_payload_is_refused(app, client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    html = upload(client, tree.commune, xlsx(GOOD)).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload[:-3] + "abc"})
    assert resp.status_code == 400
    # A payload signed for one commune cannot be replayed into another.
    from flask import g
    g.pop("_login_user", None)  # the test's app context caches the signed-in user
    other = app.test_client()
    login_as("commune", tree.sibling_commune, http=other)
    assert other.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload}).status_code == 404
    assert other.post(f"/teams/import/{tree.sibling_commune.id}/confirm", data={"payload": payload}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def test_hamlet_without_team_is_a_problem(client, db, tree, login_as):
    team_ops.create_team(tree.commune, "Tổ khu vực 1", "", None, [tree.hamlet])
    db.session.commit()
    login_as("commune", tree.commune)
    resp = upload(client, tree.commune, xlsx([["Nguyễn Văn An", "0912345678", "", None, "", "", "Khu vực 2", None]]))
    assert resp.status_code == 422
    assert "Chưa có tổ đang hoạt động nào phụ trách Khu vực 2" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 1


def test_birth_years_outside_the_form_range_are_refused_by_row_with_the_form_message(client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    rows = [["Nguyễn Văn An", f"091200000{i}", "Nam", year, "", "", "Khu vực 1", None]
            for i, year in enumerate([10**20, "9e18", -5, "-5", 1850, "x"])]
    resp = upload(client, tree.commune, xlsx(rows))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert {int(n) for n in re.findall(r'<li class="bad" data-line="(\d+)">', html)} == {2, 3, 4, 5, 6, 7}
    assert html.count("Hãy nhập năm trong khoảng 1920") == 3 and html.count("Năm sinh phải là một năm") == 3
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
    # The member form says the same of the same values.
    team = db.session.scalar(sa.select(Team).where(Team.name == "Tổ khu vực 1"))
    for typed, message in (("100000000000000000000", "Năm sinh phải là một năm"),
                           ("2020", "Hãy nhập năm trong khoảng 1920"), ("-5", "Năm sinh phải là một năm")):
        resp = client.post(f"/teams/{team.id}/members", data={
            "member-full_name": "Lê Văn Tám", "member-phone": "0912000009", "member-gender": "male",
            "member-birth_year": typed, "member-role": "member", "member-affiliation": "other",
            "member-joined_on": "2024-01-01"})
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), typed
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def test_a_name_of_200_characters_is_taken_one_longer_refused_and_a_hamlet_of_two_teams_asks_which(
        client, db, tree, login_as):
    setup_teams(db, tree)
    third = team_ops.create_team(tree.commune, "Tổ khu vực 1B", "", None, [tree.hamlet])  # Khu vực 1 has two now
    db.session.commit()
    login_as("commune", tree.commune)
    longest = "Nguyễn " + "Thị" * 64 + "A"  # 200 characters
    assert len(longest) == 200
    rows = [[longest, "0912000001", "Nữ", 1990, "", "", "Khu vực 2", None],                     # line 2: taken
            [longest + "n", "0912000002", "Nữ", 1990, "", "", "Khu vực 2", None],               # line 3: too long
            ["Mai Văn Tư", "0912000003", "Nam", 1990, "", "", "Khu vực 1", None],               # line 4: which team?
            ["Mai Văn Năm", "0912000004", "Nam", 1990, "", "", "Khu vực 1", None, third.name]]  # line 5: named
    resp = upload(client, tree.commune, xlsx(rows, header=HEADER + ["Tổ"]))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert {int(n) for n in re.findall(r'<li class="bad" data-line="(\d+)">', html)} == {3, 4}
    assert "Tên dài quá 200 ký tự." in html
    assert "Có nhiều tổ phụ trách Khu vực 1: hãy thêm cột Tổ ghi rõ tên tổ." in html
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def test_a_number_held_by_a_member_outside_the_commune_is_refused_without_naming_them(client, db, tree, login_as):
    setup_teams(db, tree)
    elsewhere = team_ops.create_team(tree.other_commune, "Tổ ấp Nhơn Xuân", "", None, [tree.other_hamlet])
    team_ops.add_member(elsewhere, full_name="Châu Thị Kín", gender="", birth_year=None, phone="0987654321",
                        affiliation="other", role="member", joined_on=date(2022, 1, 1))
    db.session.commit()
    login_as("commune", tree.commune)
    resp = upload(client, tree.commune, xlsx([["Huỳnh Văn Phúc", "0987654321", "Nam", 1990, "", "", "Khu vực 1",
                                               None]]))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Số này đã thuộc về một thành viên đang hoạt động ở nơi khác trong tỉnh." in html
    assert "Châu Thị Kín" not in html


def test_names_already_in_the_team_are_asked_about_and_left_out_unless_the_officer_adds_them(
        client, db, tree, login_as):
    """The same list without phone numbers uploaded twice (the first answer lost on a weak signal) must not
    register everyone twice; two people may share a name, so the officer can add them all the same."""
    one, two = setup_teams(db, tree)
    team_ops.add_member(one, full_name="Nguyễn Quốc Phúc", gender="", birth_year=None, phone="",
                        affiliation="other", role="member", joined_on=date(2022, 3, 15))
    left = team_ops.add_member(one, full_name="Bà Tư", gender="", birth_year=None, phone="",
                               affiliation="other", role="member", joined_on=date(2021, 1, 1))
    team_ops.leave(left, date(2023, 1, 1))
    db.session.commit()
    login_as("commune", tree.commune)
    data = ("Họ tên;Tổ\n"
            "nguyen quoc phuc;Tổ khu vực 1\n"      # line 2: in the team, accents aside
            "Nguyễn Quốc Phúc;Tổ khu vực 2\n"      # line 3: the same name in another team: not asked
            "Lê Thị Hoa;Tổ khu vực 1\n"            # line 4: new
            "Lê Thị Hoa;Tổ khu vực 1\n"            # line 5: the same name on an earlier line of the same team
            "Bà Tư;Tổ khu vực 1\n").encode()       # line 6: the same name as a member who left: not asked
    resp = upload(client, tree.commune, data, name="ds.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    flagged = {int(n) for n in re.findall(r'<li class="flagged" data-line="(\d+)">', html)}
    assert flagged == {2, 5}
    assert "Nguyễn Quốc Phúc đã là thành viên của tổ này từ 15/03/2022." in html
    assert "Trùng tên với dòng 4, cùng một tổ." in html
    assert "2 dòng ghi tên người đã có trong tổ" in html
    # The box to add them all the same is inside its label: one tap target, the words and the box.
    box = parse(html).find(name="take_flagged", type="checkbox")
    label = next(a for a in box.ancestors() if a.tag == "label")
    assert "tick" in label.classes() and label.attrs["for"] == box.attrs["id"]
    assert "Vẫn thêm 2 dòng được đánh dấu “đã có trong tổ”" in label.text()
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)

    # Confirmed as it comes: the two asked about are left out, and the page says so.
    resp = client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload},
                       follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Đã thêm 3 thành viên." in page and "2 dòng không được thêm" in page
    in_team = sorted((m.full_name, m.current.team_id) for m in db.session.scalars(sa.select(Member))
                     if m.current is not None)
    assert in_team == sorted([("Nguyễn Quốc Phúc", one.id), ("Nguyễn Quốc Phúc", two.id), ("Lê Thị Hoa", one.id),
                              ("Bà Tư", one.id)])

    # The same file again: now every row but the other team's is in its team already.
    html = upload(client, tree.commune, data, name="ds.csv").get_data(as_text=True)
    assert {int(n) for n in re.findall(r'<li class="flagged" data-line="(\d+)">', html)} == {2, 3, 4, 5, 6}
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    # Ticked, they are added: other people of the same names.
    resp = client.post(f"/teams/import/{tree.commune.id}/confirm", data={"payload": payload, "take_flagged": "y"})
    assert resp.status_code == 302
    names = sorted(m.full_name for m in db.session.scalars(sa.select(Member)) if m.current is not None)
    assert names == ["Bà Tư"] * 2 + ["Lê Thị Hoa"] * 3 + ["Nguyễn Quốc Phúc"] * 3 + ["nguyen quoc phuc"]


def confirm(client, commune, html, **extra):
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    return client.post(f"/teams/import/{commune.id}/confirm", data={"payload": payload, **extra},
                       follow_redirects=True)


def test_the_same_list_uploaded_again_with_lines_added_skips_those_registered_and_adds_the_new(
        client, db, tree, login_as):
    """A commune keeps one list and adds to it: uploading it again must not stop at the members it already
    registered. Same number and same name in the same team: skipped, said so; the new lines are added."""
    one, two = setup_teams(db, tree)
    login_as("commune", tree.commune)
    assert "Đã thêm 3 thành viên." in confirm(client, tree.commune,
                                              upload(client, tree.commune, xlsx(GOOD)).get_data(as_text=True)
                                              ).get_data(as_text=True)
    longer = GOOD + [["Đặng Thị Hạnh", "0912345681", "Nữ", 1998, "Thành viên", "", "Khu vực 1", "01/02/2024"]]
    resp = upload(client, tree.commune, xlsx(longer))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "1 dòng hợp lệ và 3 dòng được bỏ qua" in html
    assert {int(n) for n in re.findall(r'<li class="skipped" data-line="(\d+)">', html)} == {2, 3, 4}
    assert {int(n) for n in re.findall(r'<li class="good" data-line="(\d+)">', html)} == {5}
    assert ("Bỏ qua: Đã đăng ký trong tổ này (Nguyễn Văn An, từ 15/03/2022, cùng số điện thoại này): "
            "không lưu gì từ dòng này.") in " ".join(parse(html).find(**{"data-line": "2"}).text().split())
    # The leader's line is no second leader: it is the leader.
    assert "đã có tổ trưởng" not in html
    assert "Xác nhận và lưu 1 dòng" in html
    page = confirm(client, tree.commune, html).get_data(as_text=True)
    assert ("Đã thêm 1 thành viên; 3 dòng không thêm ai (thành viên đã đăng ký từ trước, hoặc dòng mẫu của tệp "
            "mẫu).") in page
    db.session.expire_all()
    in_teams = sorted((m.full_name, m.current.team_id) for m in db.session.scalars(sa.select(Member)))
    assert in_teams == sorted([("Nguyễn Văn An", one.id), ("Trần Thị Bình", one.id), ("Lê Văn Cường", two.id),
                               ("Đặng Thị Hạnh", one.id)])
    # Once more, unchanged: nothing to add, and no button to add nothing.
    html = upload(client, tree.commune, xlsx(longer)).get_data(as_text=True)
    assert "Không có gì để thêm: cả 4 dòng đều được bỏ qua" in html and "Xác nhận và lưu" not in html
    assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 4


def test_a_number_of_a_registered_member_on_another_persons_line_or_for_another_team_stays_a_problem(
        client, db, tree, login_as):
    one, two = setup_teams(db, tree)
    team_ops.add_member(one, full_name="Nguyễn Văn An", gender="male", birth_year=1990, phone="0912345678",
                        affiliation="youth_union", role="member", joined_on=date(2022, 3, 15))
    db.session.commit()
    login_as("commune", tree.commune)
    rows = [["Nguyễn Văn Ân", "0912345678", "Nam", 1990, "", "", "Khu vực 1", None],   # line 2: not the same name
            ["Nguyễn Văn An", "0912 345 678", "Nam", 1990, "", "", "Khu vực 2", None]]  # line 3: another team
    resp = upload(client, tree.commune, xlsx(rows))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert {int(n) for n in re.findall(r'<li class="bad" data-line="(\d+)">', html)} == {2, 3}
    assert ("Số này là của Nguyễn Văn An, thành viên của Tổ khu vực 1, không phải của Nguyễn Văn Ân: hãy kiểm tra "
            "lại số ở dòng này.") in html
    assert ("Nguyễn Văn An đã được đăng ký với số này, ở Tổ khu vực 1. Để chuyển người này sang tổ khác, dùng "
            "“Chuyển sang tổ khác” trên trang của họ; nếu không, hãy bỏ dòng này khỏi tệp.") in html
    assert "Xác nhận và lưu" not in html
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1
    # Case and spacing are not another name: "nguyễn  văn AN" with the number, in the same team, is skipped.
    html = upload(client, tree.commune, xlsx([["nguyễn  văn AN", "0912345678", "", None, "", "", "Khu vực 1", None]])
                  ).get_data(as_text=True)
    assert '<li class="skipped" data-line="2">' in html


def test_an_officer_of_another_commune_can_neither_upload_nor_confirm_for_this_commune(app, client, db, tree,
                                                                                      login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    html = upload(client, tree.commune, xlsx(GOOD)).get_data(as_text=True)
    from flask import g
    g.pop("_login_user", None)
    other = app.test_client()
    login_as("commune", tree.sibling_commune, http=other)
    assert upload(other, tree.commune, xlsx(GOOD)).status_code == 404
    assert other.get(f"/teams/import/{tree.commune.id}").status_code == 404
    assert confirm(other, tree.commune, html).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def download_template(client, commune):
    resp = client.get(f"/teams/import/{commune.id}/template.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return resp, load_workbook(io.BytesIO(resp.get_data()))


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_blank_template_filled_with_two_members_uploads_cleanly(client, db, tree, login_as):
    """The officer downloads the template from the upload page, types two members under the example line and
    uploads it as it is: the example adds nobody, the two are added with what was typed."""
    from app.spreadsheets import header_key
    from app.teams.importer import MEMBER_COLUMNS
    one, two = setup_teams(db, tree)
    login_as("commune", tree.commune)
    page = parse(client.get(f"/teams/import/{tree.commune.id}").get_data(as_text=True))
    link = next(a for a in page.find_all("a") if "Tải mẫu trống" in a.text())
    assert link.attrs["href"] == f"/teams/import/{tree.commune.id}/template.xlsx" and "download" in link.attrs
    resp, book = download_template(client, tree.commune)
    assert "mau-danh-sach-thanh-vien-31318.xlsx" in resp.headers["Content-Disposition"]
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == ["Họ tên", "Số điện thoại", "Giới tính", "Năm sinh", "Vai trò", "Đơn vị công tác", "Ấp", "Tổ",
                      "Ngày tham gia"]
    # Every header is one the upload reads, and every column the upload reads has its header.
    assert {MEMBER_COLUMNS[header_key(h)] for h in header} == set(MEMBER_COLUMNS.values())
    example = [c.value for c in sheet[2]]
    assert example[0] == "Ví dụ: Nguyễn Văn An" and example[6] == "Khu vực 1"
    # The second sheet says what each column takes, and which team serves which hamlet.
    help_text = "\n".join(str(c) for row in book.worksheets[1].iter_rows(values_only=True) for c in row if c)
    assert "Danh sách thành viên của Phường I" in help_text and "Tổ khu vực 2" in help_text

    filled = [["Phạm Thị Lan", "0912 000 111", "Nữ", 1992, "Tổ phó", "Hội Phụ nữ", "Khu vực 1", None,
               date(2024, 2, 1)],
              ["Võ Văn Minh", "0912000222", "Nam", 1987, "Thành viên", "Bưu điện", "Khu vực 2", None, None]]
    for r, values in enumerate(filled, start=3):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    resp = upload(client, tree.commune, saved(book), name="mau-danh-sach-thanh-vien-31318.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "2 dòng hợp lệ và 1 dòng được bỏ qua" in html
    assert '<li class="skipped" data-line="2">' in html and "Dòng mẫu của tệp mẫu: không thêm ai." in html
    assert list(parse(html).find(**{"data-line": "2"}).find_all("dt")) == []  # unread: no facts shown as read
    assert {int(n) for n in re.findall(r'<li class="good" data-line="(\d+)">', html)} == {3, 4}
    page = confirm(client, tree.commune, html).get_data(as_text=True)
    assert "Đã thêm 2 thành viên; 1 dòng không thêm ai" in page
    members = {m.full_name: m for m in db.session.scalars(sa.select(Member))}
    assert set(members) == {"Phạm Thị Lan", "Võ Văn Minh"}
    lan, minh = members["Phạm Thị Lan"], members["Võ Văn Minh"]
    assert (lan.phone, lan.gender, lan.birth_year, lan.affiliation, lan.current.role, lan.current.team_id,
            lan.current.joined_on) == ("0912000111", "female", 1992, "womens_union", "deputy", one.id, date(2024, 2, 1))
    assert (minh.phone, minh.affiliation, minh.current.team_id, minh.current.joined_on) == (
        "0912000222", "post_office", two.id, today_vn())


def test_the_template_with_its_example_written_over_or_in_english_uploads_too(client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.commune, locale="en")
    _resp, book = download_template(client, tree.commune)
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "Họ tên"  # the headers the upload reads, whatever the language
    assert sheet["A2"].value == "Example: Nguyễn Văn An"
    assert "Nothing to add: each of the 1 rows is skipped" in upload(client, tree.commune, saved(book)).get_data(
        as_text=True)
    # The example line written over with a real member: that member is added.
    sheet["A2"] = "Trịnh Văn Sơn"
    sheet["B2"] = "0912000333"
    html = upload(client, tree.commune, saved(book)).get_data(as_text=True)
    assert "1 rows are ready." in html
    confirm(client, tree.commune, html)
    assert [m.full_name for m in db.session.scalars(sa.select(Member))] == ["Trịnh Văn Sơn"]


def test_an_officer_of_another_commune_cannot_download_this_commune_s_template(app, client, db, tree, login_as):
    setup_teams(db, tree)
    login_as("commune", tree.sibling_commune)
    resp = client.get(f"/teams/import/{tree.commune.id}/template.xlsx")
    assert resp.status_code == 404 and "Khu vực 1" not in resp.get_data(as_text=True)
    # Their own commune's template names their own hamlets and teams only.
    _resp, book = download_template(client, tree.sibling_commune)
    cells = " ".join(str(c) for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row if c)
    assert "Khu vực 1" not in cells and "Tổ khu vực" not in cells


def test_a_list_confirmed_twice_with_the_box_ticked_adds_its_members_once(client, db, tree, login_as):
    """The box adds the rows the preview asked about (other people of the same name). Confirmed again (a double
    tap on a weak signal, the back button), the rows it added are names now in the team, which the preview did
    not ask about: the box does not add them a second time."""
    one, _two = setup_teams(db, tree)
    team_ops.add_member(one, full_name="Nguyễn Quốc Phúc", gender="", birth_year=None, phone="",
                        affiliation="other", role="member", joined_on=date(2022, 3, 15))
    db.session.commit()
    login_as("commune", tree.commune)
    data = "Họ tên;Tổ\nNguyễn Quốc Phúc;Tổ khu vực 1\nLê Thị Hoa;Tổ khu vực 1\nBà Tư;Tổ khu vực 1\n".encode()
    html = upload(client, tree.commune, data, name="ds.csv").get_data(as_text=True)
    assert {int(n) for n in re.findall(r'<li class="flagged" data-line="(\d+)">', html)} == {2}
    first = confirm(client, tree.commune, html, take_flagged="y").get_data(as_text=True)
    assert "Đã thêm 3 thành viên." in first
    again = confirm(client, tree.commune, html, take_flagged="y").get_data(as_text=True)
    assert "Đã thêm 0 thành viên." in again and "3 dòng không được thêm" in again
    db.session.expire_all()
    assert sorted(m.full_name for m in db.session.scalars(sa.select(Member))) == [
        "Bà Tư", "Lê Thị Hoa", "Nguyễn Quốc Phúc", "Nguyễn Quốc Phúc"]


def test_the_preview_writes_every_number_alike_and_an_affiliation_read_loosely_beside_what_the_file_says(
        client, db, tree, login_as):
    """Every number grouped as the app writes it, on a line with a problem too; an affiliation the file names in
    its own words ("Viettel") shows them before what it was read as, so the officer sees what will be saved."""
    setup_teams(db, tree)
    login_as("commune", tree.commune)
    rows = [
        ["Nguyễn Văn An", "0903111222", "Nam", 1990, "", "Viettel", "Khu vực 1", None],
        ["Trần Thị Bình", "0987 654 321", "Nữ", 1995, "", "Đoàn Thanh niên", "Ấp Không Có", None],  # unknown hamlet
        ["Lê Văn Cường", "091234", "Nam", 1990, "", "", "Khu vực 1", None],  # not a number: as typed
    ]
    page = parse(upload(client, tree.commune, xlsx(rows)).get_data(as_text=True))

    def line(n):
        row = page.find(**{"data-line": str(n)})
        facts = {" ".join(dt.text().split()): " ".join(dd.text().split())
                 for dt, dd in zip(row.find_all("dt"), row.find_all("dd"), strict=True)}
        return " ".join(next(row.find_all("div")).text().split()), facts

    assert line(2)[0] == "Dòng 2 Nguyễn Văn An · 0903 111 222" and line(3)[0] == "Dòng 3 Trần Thị Bình · 0987 654 321"
    assert line(4)[0] == "Dòng 4 Lê Văn Cường · 091234"
    assert line(2)[1]["Đơn vị công tác"] == "Viettel → Viễn thông"
    assert line(3)[1]["Đơn vị công tác"] == "Đoàn Thanh niên"
    assert line(4)[1]["Đơn vị công tác"] == "Khác"
