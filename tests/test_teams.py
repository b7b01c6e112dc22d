"""Teams and members: registration, phones, memberships, leaders, accounts, lists, audit and bad input."""
import re
import unicodedata
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import User
from app.dates import today_vn
from app.teams import operations as team_ops
from app.teams.models import Member, Membership, Team
from tests.form_versions import with_version
from tests.html_tree import parse


def make_team(tree, name="Tổ công nghệ số ấp Thạnh Hòa", commune=None, hamlets=None, db=None):
    from app.extensions import db as _db
    commune = commune or tree.commune
    hamlets = hamlets if hamlets is not None else ([tree.hamlet] if commune.id == tree.commune.id else [])
    team = team_ops.create_team(commune, name, "125/QĐ-UBND", date(2022, 3, 15), hamlets)
    _db.session.commit()
    return team


def make_member(team, name="Nguyễn Văn An", phone="0912345678", role="member", joined=date(2022, 4, 1)):
    from app.extensions import db as _db
    m = team_ops.add_member(team, full_name=name, gender="male", birth_year=1990, phone=phone,
                            affiliation="youth_union", role=role, joined_on=joined)
    _db.session.commit()
    return m


def member_form(**over):
    data = {"member-full_name": "Trần Thị Bình", "member-phone": "0987 654 321", "member-gender": "female",
            "member-birth_year": "1995", "member-role": "member", "member-affiliation": "womens_union",
            "member-joined_on": "2023-05-01"}
    data.update(over)
    return data


# --- Phone numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["0912 345 678", "+84912345678", "84912345678", "0912.345.678",
                                 "(+84) 912-345-678"])
def test_the_same_mobile_number_written_every_way(raw):
    assert team_ops.normalise_phone(raw) == "0912345678"


@pytest.mark.parametrize("raw,words", [
    ("091234567", "có 9 chữ số"), ("09123456789", "có 11 chữ số"),
    ("+14155552671", "không phải số điện thoại Việt Nam (+1)"), ("abc", "không phải số điện thoại"),
    ("0112345678", "không phải số di động Việt Nam"), ("02933123456", "có 11 chữ số"),
    # Ten digits without the 0 (or in another script's digits) are ten digits, not eleven: the first ones are wrong.
    ("1234567890", "không phải số di động Việt Nam"), ("١٢٣٤٥٦٧٨٩٠", "không phải số di động Việt Nam"),
    ("+84 91234567", "có 9 chữ số"),
])
def test_wrong_phone_numbers_are_refused_with_a_reason(app, raw, words):
    with app.test_request_context():
        with pytest.raises(team_ops.PhoneError) as exc:
            team_ops.normalise_phone(raw)
        assert words in str(exc.value)


@pytest.mark.parametrize("stored,shown", [("0912345678", "0912 345 678"), ("", ""), (None, ""),
                                           ("chưa có số", "chưa có số")])
def test_a_stored_number_is_shown_as_people_read_it_and_one_it_cannot_read_as_it_was(stored, shown):
    """A number the phone library cannot read (kept from before numbers were checked) is shown as stored,
    never blanked or shown as "None"."""
    assert team_ops.format_phone(stored) == shown


# --- Teams -------------------------------------------------------------------------------------

def test_the_team_forms_open_filled_with_what_they_change(client, db, tree, login_as):
    login_as("commune", tree.commune)
    blank = client.get(f"/teams/new/{tree.commune.id}")
    html = blank.get_data(as_text=True)
    assert blank.status_code == 200 and "Khu vực 1" in html and "Khu vực 2" in html and "Ấp Nhơn Xuân" not in html
    team = make_team(tree)
    edit = client.get(f"/teams/{team.id}/edit")
    html = edit.get_data(as_text=True)
    assert edit.status_code == 200
    assert 'value="Tổ công nghệ số ấp Thạnh Hòa"' in html and 'value="125/QĐ-UBND"' in html
    ticked = re.findall(r'<input checked id="hamlets-\d+" name="hamlets" type="checkbox" value="(\d+)">', html)
    assert 'value="2022-03-15"' in html and ticked == [str(tree.hamlet.id)]
    dissolve = client.get(f"/teams/{team.id}/dissolve")
    assert dissolve.status_code == 200 and 'name="dissolved_on"' in dissolve.get_data(as_text=True)


def test_the_member_forms_open_for_the_member_named(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    make_team(tree, name="Tổ khu vực Hai", hamlets=[tree.hamlet2])
    member = make_member(team, name="Đỗ Thị Hằng")
    leave = client.get(f"/teams/members/{member.id}/leave")
    assert leave.status_code == 200 and "Đỗ Thị Hằng rời Tổ công nghệ số ấp Thạnh Hòa" in leave.get_data(as_text=True)
    # The add form: gender may be left unsaid; a role and an affiliation are always chosen.
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    selects = dict(re.findall(r'<select[^>]*name="member-(\w+)"[^>]*>\s*<option([^>]*)>', page))
    assert 'value=""' in selects["gender"], selects
    assert 'value=""' not in selects["role"] and 'value=""' not in selects["affiliation"]
    move = client.get(f"/teams/members/{member.id}/move")
    html = move.get_data(as_text=True)
    assert move.status_code == 200 and "Tổ khu vực Hai" in html
    assert "Tổ công nghệ số ấp Thạnh Hòa</option>" not in html  # not the team they are in


def test_commune_officer_registers_a_team(client, db, tree, login_as):
    login_as("commune", tree.commune)
    decomposed = unicodedata.normalize("NFD", "Tổ công nghệ số ấp Thạnh Hòa")
    resp = client.post(f"/teams/new/{tree.commune.id}", data={
        "name": decomposed, "decision_number": "125/QĐ-UBND", "decision_date": "2022-03-15",
        "hamlets": [str(tree.hamlet.id), str(tree.hamlet2.id)]})
    assert resp.status_code == 302
    team = db.session.scalar(sa.select(Team))
    assert team.name == unicodedata.normalize("NFC", decomposed) and team.name_folded == "to cong nghe so ap thanh hoa"
    assert {h.name for h in team.hamlets} == {"Khu vực 1", "Khu vực 2"} and team.status == "active"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_type == "team"))
    assert event.action == "create" and event.user.role == "commune"
    page = client.get(resp.location).get_data(as_text=True)
    assert "Tổ công nghệ số ấp Thạnh Hòa" in page and "125/QĐ-UBND" in page and "15/03/2022" in page


@pytest.mark.parametrize("data,message", [
    ({"name": ""}, "Hãy nhập tên tổ."),
    ({"name": "x" * 500}, "Tối đa 200 ký tự."),
    # Accents alone and a picture: nothing to read or search.
    ({"name": "\u0301\u0303 🙂"}, "Tên phải có ít nhất một chữ cái hoặc chữ số."),
    ({"decision_date": (today_vn() + timedelta(days=1)).isoformat()}, "Ngày không được ở tương lai."),
    ({"hamlets": []}, "Hãy chọn ít nhất một ấp."),
    ({"decision_date": "2022-02-30"}, "nhập ngày hợp lệ."),
    ({"decision_number": "12/QĐ" + "-" * 60}, "Tối đa 64 ký tự."),
])
@pytest.mark.parametrize("editing", [False, True], ids=["new team", "team edited"])
def test_team_form_bad_input_is_refused_and_kept(client, db, tree, login_as, data, message, editing):
    login_as("commune", tree.commune)
    team = make_team(tree) if editing else None
    form = {"name": "Tổ ấp Một", "decision_number": "12/QĐ", "decision_date": "2022-03-15",
            "hamlets": [str(tree.hamlet.id)]}
    form.update(data)
    resp = client.post(f"/teams/{team.id}/edit" if editing else f"/teams/new/{tree.commune.id}", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html
    assert f'value="{form["decision_number"]}"' in html  # what was typed is still there
    # The form is long on a phone: a summary at its top names the field and leads to it.
    summary = parse(html).find(id="error-summary")
    field = next(iter(data))
    assert message in summary.text() and next(summary.find_all("a")).attrs["href"] == f"#{field}"
    assert parse(html).find(id=field) is not None
    db.session.expire_all()
    assert db.session.scalars(sa.select(Team.name)).all() == (["Tổ công nghệ số ấp Thạnh Hòa"] if editing else [])


def test_a_team_registered_twice_is_refused_beside_the_name_with_a_link_to_the_first(client, db, tree, login_as):
    """The new-team form sent twice (a double tap, or again after an answer that never came) must not register
    two teams of one name in the commune; a dissolved team's name, or another commune's, may be taken again."""
    login_as("commune", tree.commune)
    form = {"name": "Tổ công nghệ số ấp Thạnh Hòa", "decision_number": "125/QĐ-UBND", "decision_date": "2022-03-15",
            "hamlets": [str(tree.hamlet.id)]}
    first = client.post(f"/teams/new/{tree.commune.id}", data=form)
    assert first.status_code == 302
    team_id = db.session.scalar(sa.select(Team.id))
    again = client.post(f"/teams/new/{tree.commune.id}", data=dict(form, name="to cong nghe so ap THANH HOA"))
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert (f'<a href="/teams/{team_id}">Tổ công nghệ số ấp Thạnh Hòa</a> đã là một tổ đang hoạt động của '
            f'{tree.commune.name}.') in html
    assert 'value="to cong nghe so ap THANH HOA"' in html  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 1

    # Another team renamed to it is refused too; the team itself keeps its name through an edit.
    other = make_team(tree, name="Tổ khu vực Hai")
    renamed = client.post(f"/teams/{other.id}/edit", data=with_version(
        client, f"/teams/{other.id}/edit", dict(form, name="Tổ công nghệ số ấp Thạnh Hòa")))
    assert renamed.status_code == 400 and "đã là một tổ đang hoạt động của" in renamed.get_data(as_text=True)
    assert client.post(f"/teams/{team_id}/edit", data=with_version(
        client, f"/teams/{team_id}/edit", dict(form, decision_number="126/QĐ-UBND"))).status_code == 302

    # Once the first is dissolved, a new team may bear the name.
    db.session.get(Team, team_id).status = "dissolved"
    db.session.commit()
    assert client.post(f"/teams/new/{tree.commune.id}", data=form).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Team.id)).where(Team.status == "active")) == 2


def test_a_hamlet_of_another_commune_cannot_be_slipped_in(client, db, tree, login_as):
    login_as("commune", tree.commune)
    for hamlets in ([str(tree.other_hamlet.id)], ["abc"]):
        resp = client.post(f"/teams/new/{tree.commune.id}", data={"name": "Tổ lạ", "hamlets": hamlets})
        errors = re.findall(r'<p id="hamlets-error" class="error" role="alert">([^<]*)</p>',
                            resp.get_data(as_text=True))
        assert resp.status_code == 400 and errors == ["Chỉ chọn các ấp của xã này."], hamlets
    assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 0


def test_script_in_names_is_shown_as_text(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree, name="<script>alert(1)</script> Tổ")
    make_member(team, name="<script>alert(2)</script>")
    for url in (f"/teams/{team.id}", f"/teams/unit/{tree.commune.id}", f"/teams/unit/{tree.district.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
    assert "&lt;script&gt;alert(2)" in client.get(f"/teams/{team.id}").get_data(as_text=True)


def test_edit_team_is_audited_before_and_after(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/edit", data=with_version(
        client, f"/teams/{team.id}/edit", {"name": "Tổ ấp Mới", "decision_number": "126/QĐ-UBND",
                                                       "decision_date": "2022-05-20", "founded_on": "",
                                                       "hamlets": [str(tree.hamlet2.id)]}))
    assert resp.status_code == 302
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Tổ công nghệ số ấp Thạnh Hòa</del> → <ins>Tổ ấp Mới" in html
    assert "Khu vực 1</del> → <ins>Khu vực 2" in html
    db.session.expire_all()
    saved = db.session.get(Team, team.id)
    # The founding day emptied: the team began work on its (new) decision date.
    assert (saved.decision_number, saved.decision_date, saved.founded_on) == (
        "126/QĐ-UBND", date(2022, 5, 20), date(2022, 5, 20))
    client.post(f"/teams/{team.id}/edit", data=with_version(
        client, f"/teams/{team.id}/edit", {"name": "Tổ ấp Mới", "decision_number": "126/QĐ-UBND",
                                                "decision_date": "2022-05-20", "founded_on": "2022-06-01",
                                                "hamlets": [str(tree.hamlet2.id)]}))
    db.session.expire_all()
    assert db.session.get(Team, team.id).founded_on == date(2022, 6, 1)
    # Neither date: the day it was registered in the app.
    client.post(f"/teams/{team.id}/edit", data=with_version(
        client, f"/teams/{team.id}/edit", {"name": "Tổ ấp Mới", "decision_number": "126/QĐ-UBND",
                                                "decision_date": "", "founded_on": "",
                                                "hamlets": [str(tree.hamlet2.id)]}))
    db.session.expire_all()
    saved = db.session.get(Team, team.id)
    assert (saved.decision_date, saved.founded_on) == (None, saved.registered_on) == (None, today_vn())
    client.post(f"/teams/{team.id}/edit", data=with_version(
        client, f"/teams/{team.id}/edit", {"name": "Tổ ấp Mới", "decision_number": "125/QĐ-UBND",
                                                "decision_date": "2022-03-15", "hamlets": [str(tree.hamlet2.id)]}))
    # A number taken away reads as a dash, not as an empty or "None" value.
    client.post(f"/teams/{team.id}/edit", data=with_version(
        client, f"/teams/{team.id}/edit", {"name": "Tổ ấp Mới", "decision_number": "",
                                                "decision_date": "2022-03-15", "hamlets": [str(tree.hamlet2.id)]}))
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Số quyết định: <del>125/QĐ-UBND</del> → <ins>–</ins>" in html


def test_a_team_registered_without_a_decision_date_is_dissolved_on_any_past_day(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = team_ops.create_team(tree.commune, "Tổ ấp Mới", "", None, [tree.hamlet], founded_on=date(2020, 1, 1))
    db.session.commit()
    resp = client.post(f"/teams/{team.id}/dissolve", data={"dissolved_on": "2021-06-30", "reason": "Lập nhầm tổ"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, team.id).dissolved_on == date(2021, 6, 30)


def test_dissolve_team_closes_memberships_and_disables_accounts(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    member = make_member(team, role="leader")
    client.post(f"/teams/members/{member.id}/account")
    resp = client.post(f"/teams/{team.id}/dissolve", data={"dissolved_on": "2024-06-30", "reason": "Sáp nhập ấp"})
    assert resp.status_code == 302
    db.session.expire_all()
    team = db.session.get(Team, team.id)
    assert (team.status, team.dissolved_on, team.dissolved_reason) == ("dissolved", date(2024, 6, 30), "Sáp nhập ấp")
    assert team.memberships[0].left_on == date(2024, 6, 30)
    assert db.session.scalar(sa.select(User).where(User.member_id == member.id)).is_enabled is False
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Giải thể ngày 30/06/2024" in html and "Sáp nhập ấp" in html
    # A dissolved team takes no new member.
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 409


@pytest.mark.parametrize("data,message", [
    ({"dissolved_on": (today_vn() + timedelta(days=2)).isoformat(), "reason": "x"}, "Ngày không được ở tương lai."),
    ({"dissolved_on": "2020-01-01", "reason": "x"}, "trước quyết định thành lập"),
    ({"dissolved_on": "2024-01-01", "reason": ""}, "Hãy nêu lý do."),
    ({"dissolved_on": "2024-01-01", "reason": "ý" * 501}, "Tối đa 500 ký tự."),
])
def test_dissolve_bad_input(client, db, tree, login_as, data, message):
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/dissolve", data=data)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Team, team.id).status == "active"


def test_a_team_s_limits_are_taken(client, db, tree, login_as):
    # A decision number of 64 characters; dissolved on the day of the decision that set it up, with a reason of
    # 500 characters; a member who leaves on the day they joined.
    login_as("commune", tree.commune)
    number = "QĐ-" + "9" * 61
    resp = client.post(f"/teams/new/{tree.commune.id}", data={"name": "Tổ ấp Một", "decision_number": number,
                                                               "decision_date": "2022-03-15",
                                                               "hamlets": [str(tree.hamlet.id)]})
    assert resp.status_code == 302
    team = db.session.scalar(sa.select(Team))
    member = make_member(team, name="Phan Thị Út", joined=date(2023, 5, 2))
    resp = client.post(f"/teams/members/{member.id}/leave", data={"left_on": "2023-05-02"})
    assert resp.status_code == 302
    resp = client.post(f"/teams/{team.id}/dissolve", data={"dissolved_on": "2022-03-15",
                                                           "reason": ("Sáp nhập với ấp bên cạnh; " * 20)[:500]})
    assert resp.status_code == 302
    db.session.expire_all()
    team = db.session.get(Team, team.id)
    assert (team.decision_number, team.status, team.dissolved_on) == (number, "dissolved", date(2022, 3, 15))
    assert len(team.dissolved_reason) == 500
    assert [ms.left_on for ms in db.session.get(Member, member.id).memberships] == [date(2023, 5, 2)]


def test_a_team_s_history_reads_newest_first_and_in_the_order_of_a_day_s_events(client, db, tree, login_as):
    # Founded on 15/03/2022 with its first members; on 31/01/2024 a member joins and leaves, the first two
    # leave (the one who joined last first in the list, as the newest) and the team is dissolved.
    login_as("commune", tree.commune)
    team = make_team(tree)
    lan = make_member(team, name="Nguyễn Thị Lan", phone="0912000001", joined=date(2022, 3, 15))
    binh = make_member(team, name="Trần Văn Bình", phone="0912000002", joined=date(2022, 3, 15))
    ut = make_member(team, name="Phan Thị Út", phone="0912000003", joined=date(2024, 1, 31))  # in and out that day
    for m in (lan, binh, ut):
        team_ops.leave(m, date(2024, 1, 31))
    team_ops.dissolve_team(team, date(2024, 1, 31), "Sáp nhập ấp")
    db.session.commit()
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    history = [" ".join(item.split()) for item in re.findall(r"<li><strong>(.*?)</li>", page, re.S)]
    assert [re.sub(r"<[^>]+>", "", item) for item in history] == [
        "31/01/2024 Tổ giải thể: Sáp nhập ấp",
        "31/01/2024 Phan Thị Út rời tổ",
        "31/01/2024 Trần Văn Bình rời tổ",
        "31/01/2024 Nguyễn Thị Lan rời tổ",
        "31/01/2024 Phan Thị Út vào tổ, vai trò thành viên",
        "15/03/2022 Trần Văn Bình vào tổ, vai trò thành viên",
        "15/03/2022 Nguyễn Thị Lan vào tổ, vai trò thành viên",
        "15/03/2022 Thành lập tổ theo quyết định 125/QĐ-UBND",
    ]


# --- Members -----------------------------------------------------------------------------------

def test_add_member_stores_normalised_phone_and_nfc_name(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    name = unicodedata.normalize("NFD", "Trần Thị Bình")
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-full_name": name,
                                                                        "member-phone": "+84987654321"}))
    assert resp.status_code == 302
    m = db.session.scalar(sa.select(Member))
    assert m.full_name == "Trần Thị Bình" and m.phone == "0987654321" and m.province_id == tree.province.id
    assert m.current.team_id == team.id and m.current.joined_on == date(2023, 5, 1)
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Trần Thị Bình" in html and "0987 654 321" in html and "Hội Liên hiệp Phụ nữ" in html


def test_members_without_a_mobile_phone_are_registered_and_get_no_account(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    for name in ("Trưởng Ấp Già", "Bà Tư Không Điện Thoại"):  # two without a number: no clash between them
        resp = client.post(f"/teams/{team.id}/members",
                           data=member_form(**{"member-full_name": name, "member-phone": ""}))
        assert resp.status_code == 302, resp.get_data(as_text=True)
    elder = db.session.scalar(sa.select(Member).where(Member.full_name == "Trưởng Ấp Già"))
    assert elder.phone == "" and elder.active_phone is None and elder.current.team_id == team.id
    # The gender is optional too: a form that sends none (left blank, or an older page without the field).
    for name, gender in (("Lê Văn Sáu", {"member-gender": ""}), ("Lê Văn Bảy", {})):
        data = {k: v for k, v in member_form(**{"member-full_name": name, "member-phone": ""}).items()
                if k != "member-gender"} | gender
        resp = client.post(f"/teams/{team.id}/members", data=data)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        assert db.session.scalar(sa.select(Member.gender).where(Member.full_name == name)) in ("", None)
    # The account button says why there is none, and the server refuses one all the same.
    page = parse(client.get(f"/teams/members/{elder.id}").get_data(as_text=True))
    button = next(page.find(id="account").find_all("button"))
    assert "disabled" in button.attrs and button.attrs["aria-describedby"] == "account-why"
    assert "không có số di động" in page.find(id="account-why").text().lower()
    resp = client.post(f"/teams/members/{elder.id}/account")
    assert resp.status_code == 303 and db.session.scalar(sa.select(User).where(User.member_id == elder.id)) is None
    # A number given is still checked and unique among active members.
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "0912"}))
    assert resp.status_code == 400
    make_member(team, name="Có Số", phone="0987654321")
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "0987654321"}))
    assert resp.status_code == 400 and db.session.scalar(sa.select(sa.func.count(Member.id))) == 5


def test_a_name_already_in_the_team_is_asked_about_then_added_when_sent_again(client, db, tree, login_as):
    """The add form sent again after an answer that never came (or the same person registered twice) would add a
    member without a phone twice: the same name, even typed without accents, is asked about beside the name with
    a link to the member; sent once more as it came back, it is added (two people may share a name)."""
    login_as("commune", tree.commune)
    team = make_team(tree)
    data = member_form(**{"member-full_name": "Nguyễn Thị Mai", "member-phone": ""})
    assert client.post(f"/teams/{team.id}/members", data=data).status_code == 302
    mai = db.session.scalar(sa.select(Member).where(Member.full_name == "Nguyễn Thị Mai"))
    again = client.post(f"/teams/{team.id}/members", data={**data, "member-full_name": "nguyen thi mai",
                                                           "member-birth_year": "1988"},
                        headers={"HX-Request": "true"})
    page = parse(again.get_data(as_text=True))
    assert again.status_code == 400
    error = " ".join(page.find(id="member-full_name-error").text().split())
    assert error == ("Nguyễn Thị Mai đã là thành viên của tổ này từ 01/05/2023. Nếu đây là một người khác trùng "
                     "tên, hãy bấm thêm thành viên lần nữa.")
    assert next(page.find(id="member-full_name-error").find_all("a")).attrs["href"] == f"/teams/members/{mai.id}"
    assert page.find(id="member-full_name").attrs["value"] == "nguyen thi mai"  # the input kept
    assert page.find(id="member-birth_year").attrs["value"] == "1988"
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1
    # Sent once more as it came back (the question's answer rides in a hidden field): added.
    confirm = page.find(id="member-confirm_name").attrs["value"]
    resp = client.post(f"/teams/{team.id}/members", data={**data, "member-full_name": "nguyen thi mai",
                                                          "member-confirm_name": confirm})
    assert resp.status_code == 302 and db.session.scalar(sa.select(sa.func.count(Member.id))) == 2
    # The same name in another team is not asked about, nor a member who has left.
    other = make_team(tree, name="Tổ khu vực Đông", hamlets=[tree.hamlet2])
    assert client.post(f"/teams/{other.id}/members", data=data).status_code == 302
    tam = make_member(team, name="Phạm Văn Tám", phone="0912000008")
    team_ops.leave(tam, date(2024, 1, 31))
    db.session.commit()
    resp = client.post(f"/teams/{team.id}/members", data={**data, "member-full_name": "Phạm Văn Tám"})
    assert resp.status_code == 302


def test_duplicate_phone_is_refused_with_a_link_to_the_member(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    other_team = make_team(tree, name="Tổ khu vực 2", hamlets=[tree.hamlet2])
    existing = make_member(other_team, name="Lê Văn Cường", phone="0987654321")
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "84 987 654 321"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert f'<a href="/teams/members/{existing.id}">Lê Văn Cường</a>' in html
    assert "đang hoạt động" in html
    assert 'value="Trần Thị Bình"' in html and 'value="84 987 654 321"' in html
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1


def test_duplicate_phone_elsewhere_in_the_province_does_not_reveal_the_name(client, db, tree, login_as):
    other_team = make_team(tree, name="Tổ Nhơn Xuân", commune=tree.other_commune, hamlets=[tree.other_hamlet])
    make_member(other_team, name="Phạm Thị Bí Mật", phone="0987654321")
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/members", data=member_form())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Bí Mật" not in html
    assert "một thành viên đang hoạt động ở nơi khác trong tỉnh" in html


def test_a_number_is_free_again_once_its_member_has_left(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    old = make_member(team, phone="0987654321")
    assert client.post(f"/teams/members/{old.id}/leave", data={"left_on": "2024-01-31"}).status_code == 302
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.phone == "0987654321")) == 2


def test_check_phone_as_it_is_typed(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    existing = make_member(team, name="Lê Văn Cường", phone="0987654321")
    headers = {"HX-Request": "true"}
    ok = client.get(f"/teams/{team.id}/check-phone?member-phone=0912+345+678", headers=headers)
    assert ok.status_code == 200 and "Số di động hợp lệ: 0912 345 678" in ok.get_data(as_text=True)
    short = client.get(f"/teams/{team.id}/check-phone?member-phone=091234", headers=headers).get_data(as_text=True)
    assert "10 chữ số" in short
    dup = client.get(f"/teams/{team.id}/check-phone?member-phone=%2B84987654321",
                     headers=headers).get_data(as_text=True)
    assert f'href="/teams/members/{existing.id}"' in dup and "<html" not in dup
    # The member's own number is not a duplicate of itself when editing.
    own = client.get(f"/teams/{team.id}/check-phone?edit-1-phone=0987654321&member={existing.id}")
    own = own.get_data(as_text=True)
    assert "hợp lệ" in own
    # A field emptied again says nothing: the phone is optional.
    blank = client.get(f"/teams/{team.id}/check-phone?member-phone=+", headers=headers)
    assert blank.status_code == 200 and blank.get_data(as_text=True).strip() == ""


def test_htmx_add_returns_only_the_member_list(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/members", data=member_form(), headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<section class="card" id="members">')
    assert "Đã thêm Trần Thị Bình vào tổ." in html and 'value="Trần Thị Bình"' not in html
    bad = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-full_name": ""}),
                      headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "Hãy nhập họ tên thành viên." in bad.get_data(as_text=True)


@pytest.mark.parametrize("over,message", [
    ({"member-full_name": ""}, "Hãy nhập họ tên thành viên."),
    ({"member-full_name": "x" * 500}, "Tối đa 200 ký tự."),
    ({"member-full_name": "\u0301\u0301"}, "Tên phải có ít nhất một chữ cái hoặc chữ số."),
    ({"member-phone": "091234567"}, "có 10 chữ số"),
    ({"member-phone": "+14155552671"}, "không phải số điện thoại Việt Nam"),
    ({"member-joined_on": (today_vn() + timedelta(days=3)).isoformat()}, "Ngày không được ở tương lai."),
    ({"member-birth_year": "1850"}, "Hãy nhập năm trong khoảng 1920"),
    ({"member-role": "boss"}, "Hãy chọn một trong các lựa chọn."),
    ({"member-gender": "khac"}, "Hãy chọn một trong các lựa chọn."),
    ({"member-affiliation": "hoi-kin"}, "Hãy chọn một trong các lựa chọn."),
])
def test_member_bad_input(client, db, tree, login_as, over, message):
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**over))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html
    # One message beside the one field, ours alone (a whole sentence is the whole message; a part, part of it).
    [error] = re.findall(r'<p id="[a-z_-]+-error" class="error" role="alert">([^<]*)</p>', html)
    assert error == message if message.endswith(".") else message in error
    assert f'value="{over.get("member-joined_on", "2023-05-01")}"' in html  # typed input kept
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
    # Above the form (the team's page is long), the same message names its field and leads to it.
    summary = parse(html).find(id="error-summary")
    link = next(summary.find_all("a"))
    assert message in link.text() and link.attrs["href"] == "#" + next(iter(over))
    assert parse(html).find(id=next(iter(over))) is not None



def test_a_member_is_born_from_1920_and_at_least_fourteen_this_year(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    youngest = today_vn().year - 14
    for year in ("1919", str(youngest + 1)):
        resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-birth_year": year}))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and f"Hãy nhập năm trong khoảng 1920 đến {youngest}" in html, year
        assert f'value="{year}"' in html, year
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
    for n, (name, year) in enumerate((("Trần Thị Bình", "1920"), ("Lê Văn Cường", str(youngest)))):
        resp = client.post(f"/teams/{team.id}/members", data=member_form(
            **{"member-full_name": name, "member-birth_year": year, "member-phone": f"098765432{n}"}))
        assert resp.status_code in (200, 302, 303), year
    assert sorted(db.session.scalars(sa.select(Member.birth_year))) == [1920, youngest]

def test_leaving_before_joining_is_refused(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, joined=date(2023, 6, 1))
    resp = client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2023-05-31"})
    assert resp.status_code == 400 and "không thể rời tổ trước khi tham gia" in resp.get_data(as_text=True)
    assert 'value="2023-05-31"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, m.id).current is not None


def test_inline_edit_of_a_member(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team)
    form = client.get(f"/teams/members/{m.id}/edit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert form.lstrip().startswith(f'<li class="member editing" id="member-{m.id}">')
    assert 'value="0912 345 678"' in form
    data = {f"edit-{m.id}-{k}": v for k, v in {"full_name": "Nguyễn Văn Ân", "phone": "0912345679",
                                               "gender": "male", "birth_year": "1991", "role": "deputy",
                                               "affiliation": "teacher", "joined_on": "2022-05-02"}.items()}
    resp = client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data), headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#members"
    db.session.expire_all()
    m = db.session.get(Member, m.id)
    assert (m.full_name, m.phone, m.affiliation, m.current.role) == ("Nguyễn Văn Ân", "0912345679", "teacher", "deputy")
    assert (m.gender, m.birth_year, m.current.joined_on) == ("male", 1991, date(2022, 5, 2))
    html = client.get(f"/teams/members/{m.id}").get_data(as_text=True)
    assert "0912 345 678</del> → <ins>0912 345 679" in html
    # Without JavaScript: the same form as a page, then a redirect; refused, the page again, the input kept
    # and the message beside the field.
    assert client.get(f"/teams/members/{m.id}/edit").status_code == 200
    refused = client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data | {f"edit-{m.id}-birth_year": "1890"}))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and page.lstrip().lower().startswith("<!doctype html>")
    assert 'value="1890"' in page and 'value="Nguyễn Văn Ân"' in page
    data[f"edit-{m.id}-full_name"] = "Nguyễn Văn Ấn"
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302


def test_leave_closes_the_membership_and_disables_the_account(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team)
    client.post(f"/teams/members/{m.id}/account")
    resp = client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-02-29"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, m.id).memberships[0].left_on == date(2024, 2, 29)
    assert db.session.scalar(sa.select(User).where(User.member_id == m.id)).is_enabled is False
    # The form sent again (a second tap, a page opened before) finds no membership to close: the member's
    # page says when they left, and the day is kept.
    again = client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-03-01"}, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == f"/teams/members/{m.id}"
    assert "Nguyễn Văn An đã rời tổ ngày 29/02/2024." in again.get_data(as_text=True)
    assert client.get(f"/teams/members/{m.id}/leave").headers["Location"] == f"/teams/members/{m.id}"
    db.session.expire_all()
    assert [ms.left_on for ms in db.session.get(Member, m.id).memberships] == [date(2024, 2, 29)]
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Thành viên cũ (1)" in html and "01/04/2022 – 29/02/2024" in html
    assert f'đã rời tổ: <a href="/teams/members/{m.id}">Nguyễn Văn An</a>' in html  # the team's audit trail
    history = html.split("<h2>Lịch sử</h2>")[1]
    assert history.index("29/02/2024") < history.index("01/04/2022") < history.index("15/03/2022")
    # The member record stays: members are never deleted.
    assert client.get(f"/teams/members/{m.id}").status_code == 200
    # The number of a member who has left is free for someone who joins.
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "0912 345 678"}))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    newcomer = db.session.scalar(sa.select(Member).where(Member.full_name == "Trần Thị Bình"))
    assert newcomer.active_phone == "0912345678" and db.session.get(Member, m.id).active_phone is None
    # District staff, who read the member but change nothing, are refused the leave form all the same.
    client.post("/auth/logout")
    login_as("district", tree.district)
    assert client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-03-01"}).status_code == 403


def test_move_keeps_the_earlier_membership(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    other = make_team(tree, name="Tổ khu vực 2", hamlets=[tree.hamlet2])
    m = make_member(team)
    resp = client.post(f"/teams/members/{m.id}/move", data={"team": str(other.id), "role": "member",
                                                            "moved_on": "2024-03-01"})
    assert resp.status_code == 302
    db.session.expire_all()
    ms = db.session.get(Member, m.id).memberships
    assert [(x.team_id, x.joined_on, x.left_on) for x in ms] == [
        (team.id, date(2022, 4, 1), date(2024, 3, 1)), (other.id, date(2024, 3, 1), None)]
    # The same form sent again (a second tap, a page opened before): the member's page says where they are,
    # and nothing changes.
    again = client.post(f"/teams/members/{m.id}/move", data={"team": str(other.id), "role": "member",
                                                             "moved_on": "2024-03-05"}, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == f"/teams/members/{m.id}"
    assert "Nguyễn Văn An đã thuộc Tổ khu vực 2 từ ngày 01/03/2024." in again.get_data(as_text=True)
    db.session.expire_all()
    assert [(x.team_id, x.joined_on, x.left_on) for x in db.session.get(Member, m.id).memberships] == [
        (team.id, date(2022, 4, 1), date(2024, 3, 1)), (other.id, date(2024, 3, 1), None)]
    bad = client.post(f"/teams/members/{m.id}/move", data={"team": str(team.id), "role": "member",
                                                           "moved_on": "2024-02-01"})
    assert bad.status_code == 400 and "trước ngày thành viên vào tổ hiện tại" in bad.get_data(as_text=True)
    # Only to another active team of the commune: not another commune's, not a dissolved one (an edited form).
    elsewhere = make_team(tree, name="Tổ xã bên", commune=tree.sibling_commune)
    gone = make_team(tree, name="Tổ đã giải thể", hamlets=[tree.hamlet2])
    team_ops.dissolve_team(gone, date(2024, 5, 1), "Sáp nhập")
    db.session.commit()
    for target in (elsewhere, gone):
        refused = client.post(f"/teams/members/{m.id}/move", data={"team": str(target.id), "role": "member",
                                                                   "moved_on": "2024-06-01"})
        assert refused.status_code == 400, target.name
        assert "Hãy chọn một tổ khác đang hoạt động của xã." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert [(x.team_id, x.left_on) for x in db.session.get(Member, m.id).memberships] == [
        (team.id, date(2024, 3, 1)), (other.id, None)]


@pytest.mark.parametrize("way", ["leader button", "edit form"])
def test_one_leader_at_a_time(client, db, tree, login_as, way):
    login_as("commune", tree.commune)
    team = make_team(tree)
    first = make_member(team, name="Lê Văn Một", phone="0912000001", role="leader")
    second = make_member(team, name="Lê Văn Hai", phone="0912000002")
    client.post(f"/teams/members/{first.id}/account")
    if way == "leader button":
        assert client.post(f"/teams/members/{second.id}/leader").status_code == 302
    else:  # the officer edits the member and chooses the leader's role
        data = {f"edit-{second.id}-{k}": v for k, v in {
            "full_name": "Lê Văn Hai", "phone": "0912000002", "gender": "male", "birth_year": "1990",
            "role": "leader", "affiliation": "other", "joined_on": "2022-04-01"}.items()}
        assert client.post(f"/teams/members/{second.id}/edit", data=with_version(
            client, f"/teams/members/{second.id}/edit", data)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, first.id).current.role == "member"
    assert db.session.get(Member, second.id).current.role == "leader"
    assert team_ops.open_leader(db.session.get(Team, team.id)).member_id == second.id
    roles = {ms.member.full_name: ms.role for ms in db.session.scalars(sa.select(Membership).where(
        Membership.team_id == team.id, Membership.left_on.is_(None)))}
    assert roles == {"Lê Văn Một": "member", "Lê Văn Hai": "leader"}
    # The first leader's account follows the role.
    assert db.session.scalar(sa.select(User).where(User.member_id == first.id)).role == "team_member"
    # Adding a new member as leader also hands the role over.
    client.post(f"/teams/{team.id}/members", data=member_form(**{"member-role": "leader"}))
    leaders = db.session.scalars(sa.select(Membership).where(Membership.team_id == team.id,
                                                             Membership.role == "leader")).all()
    assert len(leaders) == 1 and leaders[0].member.full_name == "Trần Thị Bình"


def test_the_database_refuses_two_open_leaders(db, tree):
    team = make_team(tree)
    make_member(team, phone="0912000001", role="leader")
    second = make_member(team, phone="0912000002")
    second.current.role = "leader"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_account_for_a_member(client, app, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, role="leader", phone="0912345678")
    resp = client.post(f"/teams/members/{m.id}/account")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Đã tạo tài khoản" in html
    account = db.session.scalar(sa.select(User).where(User.member_id == m.id))
    assert account.username == "0912345678" and account.role == "team_leader"
    assert account.unit_id == tree.commune.id and account.team_id == team.id and account.must_change_password
    password = html.split('id="account-password">')[1].split("<")[0]
    assert len(password) == 12 and account.check_password(password)
    # The password is not shown again on the member page.
    assert password not in client.get(f"/teams/members/{m.id}").get_data(as_text=True)
    # The member signs in with it and must change it first. (The test's app context caches the
    # signed-in user in `g`; a second client needs it cleared.)
    from flask import g
    g.pop("_login_user", None)
    leader = app.test_client()
    resp = leader.post("/auth/login", data={"username": "0912345678", "password": password})
    assert resp.status_code == 302 and resp.location.endswith("/auth/password")
    g.pop("_login_user", None)
    assert leader.get(f"/teams/{team.id}").location.endswith("/auth/password")


def test_a_member_who_has_left_cannot_be_made_leader_and_has_no_row(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    make_member(team, name="Lê Văn Cường", phone="0912000001", role="leader")
    gone = make_member(team, name="Phan Thị Út", phone="0912000002")
    team_ops.leave(gone, date(2024, 1, 31))
    db.session.commit()
    resp = client.post(f"/teams/members/{gone.id}/leader")
    assert resp.status_code == 303 and resp.location.endswith(f"/teams/members/{gone.id}")
    assert "Phan Thị Út hiện không thuộc tổ nào." in client.get(resp.location).get_data(as_text=True)
    db.session.expire_all()
    assert team_ops.open_leader(db.session.get(Team, team.id)).member.full_name == "Lê Văn Cường"
    assert client.get(f"/teams/members/{gone.id}/row", headers={"HX-Request": "true"}).status_code == 404


def _username_error(resp) -> tuple[str, list[str]]:
    """The message beside the account form's username field, and the addresses of the links in it."""
    error = parse(resp.get_data(as_text=True)).find(id="username-error")
    return " ".join(error.text().split()), [a.attrs["href"] for a in error.find_all(tag="a")]


def test_a_member_whose_number_is_another_accounts_username_is_offered_a_free_one_naming_no_one(
        client, db, tree, login_as):
    """The number is someone's username, perhaps in another province: the commune officer is told only that it is in
    use (as /users/new tells), with the number and a digit after it offered, and gives the member that one."""
    from app.auth.cli import create_user
    from app.units.operations import create_unit
    from tests.conftest import PASSWORD
    far_province = create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    create_user("0912345678", "province", far_province, PASSWORD, full_name="Trần Văn Xa")
    db.session.commit()
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, name="Lê Văn Tám", role="leader", phone="0912345678")
    resp = client.post(f"/teams/members/{m.id}/account")
    assert resp.status_code == 400
    message, links = _username_error(resp)
    assert message == "Tên đăng nhập này đã có người dùng. Bạn có thể dùng 09123456782 hoặc chọn tên khác."
    assert links == []
    html = resp.get_data(as_text=True)
    for secret in ("Sóc Trăng", "Trần Văn Xa", "Cán bộ tỉnh"):
        assert secret not in html, secret
    # The member's page, with the username tried in its field beside the message.
    form = parse(html).find(tag="form", action=f"/teams/members/{m.id}/account#account")
    assert form.find(tag="input", name="username").attrs["value"] == "0912345678"
    assert "<h1>Lê Văn Tám</h1>" in html
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.member_id == m.id)) == 0
    # A username against the rules is refused beside the field, as typed.
    resp = client.post(f"/teams/members/{m.id}/account", data={"username": "le van tam"})
    assert resp.status_code == 400
    assert _username_error(resp)[0] == "Chỉ dùng chữ a–z không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới."
    assert parse(resp.get_data(as_text=True)).find(tag="input", name="username").attrs["value"] == "le van tam"
    # The one offered is taken as it is, and is the member's username on the credentials page.
    resp = client.post(f"/teams/members/{m.id}/account", data={"username": "09123456782"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Đã tạo tài khoản" in html
    assert '<code id="account-username">09123456782</code>' in html
    account = db.session.scalar(sa.select(User).where(User.member_id == m.id))
    assert account.username == "09123456782" and account.role == "team_leader"
    assert db.session.scalar(sa.select(User).where(User.username == "0912345678")).member_id is None
    # Afterwards the page shows the account, and its button gives a new password, not a second account.
    page = client.get(f"/teams/members/{m.id}").get_data(as_text=True)
    assert "<strong>09123456782</strong>" in page and 'name="username"' not in page
    assert client.post(f"/teams/members/{m.id}/account").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.member_id == m.id)) == 1


def test_an_account_the_officer_manages_is_named_and_linked_as_it_may_be_the_members_own(
        app, client, db, tree, login_as):
    """An administrator manages the account holding the number: it may be the same person's (a commune officer who
    also serves in a team), so it is named, "Full name (username)", with a link to its page."""
    from app.auth.cli import create_user
    from tests.conftest import PASSWORD
    officer = create_user("0912345678", "commune", tree.commune, PASSWORD, full_name="Lê Văn Tám")
    db.session.commit()
    login_as("admin", tree.province)
    team = make_team(tree)
    m = make_member(team, name="Lê Văn Tám", phone="0912345678")
    resp = client.post(f"/teams/members/{m.id}/account")
    assert resp.status_code == 400
    message, links = _username_error(resp)
    assert message == ("Tên đăng nhập này đã có người dùng: Lê Văn Tám (0912345678), trong địa bàn của bạn. "
                       "Nếu là cùng một người, hãy mở tài khoản đó thay vì tạo thêm một tài khoản nữa. Nếu không, "
                       "bạn có thể dùng 09123456782 hoặc chọn tên khác.")
    assert links == [f"/users/{officer.id}"] and client.get(links[0]).status_code == 200


def test_member_accounts_and_new_accounts_share_one_limit_per_officer(app, client, db, tree, login_as, monkeypatch,
                                                                      caplog):
    """Each refusal says whether a number is someone's username: the member's account button and /users/new draw
    on one budget per officer (ACCOUNT_FORM_LIMIT), so neither is a way round the other."""
    from app.auth.cli import create_user
    from tests.conftest import PASSWORD
    monkeypatch.setitem(app.config, "ACCOUNT_FORM_LIMIT", "3 per minute")
    create_user("0912345678", "commune", tree.other_commune, PASSWORD)
    db.session.commit()
    admin = login_as("admin", tree.province)
    team = make_team(tree)
    m = make_member(team, phone="0912345678")
    for n in range(2):
        assert client.post("/users/new", data={"username": f"can-bo-{n}", "full_name": "Lê Văn Tư",
                                               "role": "commune", "unit": tree.commune.id}).status_code == 200
    assert client.post(f"/teams/members/{m.id}/account").status_code == 400
    resp = client.post(f"/teams/members/{m.id}/account", data={"username": "09123456782"})
    assert resp.status_code == 429 and "Quá nhiều lần thử. Hãy đợi một phút rồi thử lại." in resp.get_data(as_text=True)
    assert f"reached on POST /teams/members/{m.id}/account by '{admin.username}'" in caplog.text
    assert client.get(f"/teams/members/{m.id}").status_code == 200  # the page itself still opens
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.member_id == m.id)) == 0



def test_a_new_password_for_a_members_account_draws_nothing_from_the_account_form_limit(
        app, client, db, tree, login_as, monkeypatch):
    """The limit on account forms is there because each refusal says whether a username exists; a new password for an
    account the officer manages says nothing of any other, so it has no limit, as a staff account's has none
    (/users/N/password): the officer may give one again and again, and still create the accounts the limit allows.
    It is the member page's button once the member has an account, and only the member's officers may use it."""
    monkeypatch.setitem(app.config, "ACCOUNT_FORM_LIMIT", "3 per minute")
    team = make_team(tree)
    first = make_member(team, name="Lê Văn Tám", role="leader", phone="0912000001")
    others = [make_member(team, name=f"Trần Văn {n}", phone=f"091200000{n}") for n in (2, 3, 4)]
    login_as("commune", tree.commune)
    assert client.post(f"/teams/members/{first.id}/account").status_code == 200  # one of the three
    page = parse(client.get(f"/teams/members/{first.id}").get_data(as_text=True))
    button = page.find(tag="form", action=f"/teams/members/{first.id}/password#account").find(tag="button")
    assert " ".join(button.text().split()) == "Cấp mật khẩu dùng một lần mới"
    account = db.session.scalar(sa.select(User).where(User.member_id == first.id))
    for _n in range(5):
        resp = client.post(f"/teams/members/{first.id}/password")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "<h1>Mật khẩu dùng một lần mới</h1>" in html
        password = html.split('id="account-password">')[1].split("<")[0]
        db.session.expire_all()
        assert db.session.get(User, account.id).check_password(password)
    assert [client.post(f"/teams/members/{m.id}/account").status_code for m in others] == [200, 200, 429]
    assert len(_events_of(db, "reset_password", account.id)) == 5
    # Another commune's officer gives the account no password, nor does the district officer above (who reads it).
    from tests.report_data import forget_signed_in_user
    forget_signed_in_user()
    for role, unit in (("commune", tree.sibling_commune), ("district", tree.district)):
        other = client.application.test_client()
        login_as(role, unit, http=other)
        assert other.post(f"/teams/members/{first.id}/password").status_code in (403, 404)
        forget_signed_in_user()
    assert len(_events_of(db, "reset_password", account.id)) == 5


def test_a_new_password_for_a_member_with_no_account_or_who_has_left_is_refused_with_a_reason(
        client, db, tree, login_as):
    """Sent from a page opened before: no account is made here (that is the account form's, with its limit)."""
    team = make_team(tree)
    m = make_member(team, phone="0912000001")
    login_as("commune", tree.commune)
    resp = client.post(f"/teams/members/{m.id}/password")
    assert resp.status_code == 303 and resp.location.endswith(f"/teams/members/{m.id}#account")
    assert "Nguyễn Văn An chưa có tài khoản đăng nhập." in client.get(resp.location).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.member_id == m.id)) == 0
    assert client.post(f"/teams/members/{m.id}/account").status_code == 200
    team_ops.leave(db.session.get(Member, m.id), date(2024, 1, 31))
    db.session.commit()
    resp = client.post(f"/teams/members/{m.id}/password")
    assert resp.status_code == 303
    assert "Nguyễn Văn An đã rời tổ nên không thể cấp mật khẩu mới." in client.get(resp.location).get_data(as_text=True)


def _events_of(db, action: str, account_id: int) -> list:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "user",
                                                          AuditEvent.action == action,
                                                          AuditEvent.record_id == account_id)).all()


# --- Lists -------------------------------------------------------------------------------------

def test_list_counts_filters_and_search_without_diacritics(client, db, tree, login_as):
    login_as("commune", tree.commune)
    a = make_team(tree, name="Tổ ấp Thạnh Hòa")
    b = make_team(tree, name="Tổ khu vực Đông", hamlets=[tree.hamlet2])
    make_member(a, name="Nguyễn Văn Đạt", phone="0912000001")
    make_member(a, name="Lê Thị Hoa", phone="0912000002", role="leader")
    make_member(b, name="Trần Văn Bé", phone="0912000003")
    client.post(f"/teams/{b.id}/dissolve", data={"dissolved_on": "2024-01-01", "reason": "Sáp nhập ấp"})
    base = f"/teams/unit/{tree.commune.id}"
    html = client.get(base).get_data(as_text=True)
    assert "Tổ ấp Thạnh Hòa" in html and "Tổ khu vực Đông" in html
    # Each team's line: its members now and its leader (the dissolved team's members have left it).
    lines = {next(li.find_all("strong")).text(): " ".join(li.text().split())
             for li in parse(html).find_all("li") if "team-item" in li.classes()}
    assert "2 thành viên · Tổ trưởng: Lê Thị Hoa" in lines["Tổ ấp Thạnh Hòa"]
    assert "0 thành viên" in lines["Tổ khu vực Đông"] and "Tổ trưởng" not in lines["Tổ khu vực Đông"]
    assert '<dt>Số tổ</dt><dd>2</dd>' in html and '<dt>Tổ đang hoạt động</dt><dd>1</dd>' in html
    assert '<dt>Thành viên</dt><dd>2</dd>' in html
    found = client.get(base + "?q=thanh hoa", headers={"HX-Request": "true", "HX-Target": "team-rows"})
    rows = found.get_data(as_text=True)
    assert "Tổ ấp Thạnh Hòa" in rows and "Tổ khu vực Đông" not in rows and "<html" not in rows
    by_member = client.get(base + "?q=nguyen van dat").get_data(as_text=True)
    assert "Tổ ấp Thạnh Hòa" in by_member and "Tổ khu vực Đông" not in by_member.split('id="team-rows"')[1]
    assert "Tổ khu vực Đông" in client.get(base + "?q=dong").get_data(as_text=True).split('id="team-rows"')[1]
    dissolved = client.get(base + "?status=dissolved").get_data(as_text=True).split('id="team-rows"')[1]
    assert "Tổ khu vực Đông" in dissolved and "Tổ ấp Thạnh Hòa" not in dissolved
    by_hamlet = client.get(base + f"?hamlet={tree.hamlet2.id}").get_data(as_text=True).split('id="team-rows"')[1]
    assert "Tổ khu vực Đông" in by_hamlet and "Tổ ấp Thạnh Hòa" not in by_hamlet
    assert "Không có tổ nào phù hợp." in client.get(base + "?q=zzz").get_data(as_text=True)


def test_a_commune_of_more_than_two_hundred_teams_lists_the_first_two_hundred_and_says_so(client, db, tree, login_as):
    from app.teams.models import Team
    from app.text import fold
    login_as("commune", tree.commune)
    names = [f"Tổ số {i:03d}" for i in range(1, 202)]
    teams = [Team(commune_id=tree.commune.id, name=n, name_folded=fold(n), decision_date=date(2022, 3, 15))
             for n in names]
    base = f"/teams/unit/{tree.commune.id}"
    db.session.add_all(teams[:200])
    db.session.commit()
    rows = client.get(base).get_data(as_text=True).split('id="team-rows"')[1]
    assert all(n in rows for n in names[:200]) and "Chỉ hiện" not in rows  # all of them: nothing to say
    db.session.add(teams[200])
    db.session.commit()
    rows = client.get(base).get_data(as_text=True).split('id="team-rows"')[1]
    assert all(n in rows for n in names[:200]) and names[200] not in rows
    assert "Chỉ hiện 200 tổ đầu tiên. Hãy thu hẹp tìm kiếm." in rows
    narrowed = client.get(base + "?q=to so 20").get_data(as_text=True).split('id="team-rows"')[1]
    assert "Tổ số 201" in narrowed and "Tổ số 199" not in narrowed and "Chỉ hiện" not in narrowed


def test_a_team_is_found_by_its_current_members_and_a_percent_sign_is_only_a_character(client, db, tree, login_as):
    login_as("commune", tree.commune)
    a = make_team(tree, name="Tổ ấp Thạnh Hòa")
    make_team(tree, name="Tổ khu vực Đông", hamlets=[tree.hamlet2])
    make_member(a, name="Nguyễn Văn Đạt", phone="0912000001")
    gone = make_member(a, name="Hồ Thị Xuân", phone="0912000002")
    team_ops.leave(gone, date(2024, 1, 31))
    db.session.commit()
    base = f"/teams/unit/{tree.commune.id}"

    def found(q: str) -> list[str]:
        rows = client.get(base, query_string={"q": q}).get_data(as_text=True).split('id="team-rows"')[1]
        return [name for name in ("Tổ ấp Thạnh Hòa", "Tổ khu vực Đông") if name in rows]

    assert found("dat") == ["Tổ ấp Thạnh Hòa"]
    assert found("ho thi xuan") == []  # she has left the team
    assert found("%") == found("_") == []  # in no name: not a wildcard


def test_a_team_s_page_lists_its_leader_deputy_and_members_then_its_former_members_latest_first(
        client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    make_member(team, name="Vũ Thị An", phone="0912000001")
    make_member(team, name="Lê Văn Tâm", phone="0912000002", role="deputy")
    make_member(team, name="Trần Văn Bình", phone="0912000003", role="leader")
    make_member(team, name="Đặng Văn Chí", phone="0912000004")
    first, second = (make_member(team, name=n, phone=p) for n, p in (("Ông Văn Một", "0912000005"),
                                                                      ("Bà Thị Hai", "0912000006")))
    team_ops.leave(first, date(2023, 6, 30))
    team_ops.leave(second, date(2024, 2, 1))
    db.session.commit()
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert re.search(r'id="team-leader"><a [^>]*>Trần Văn Bình</a>', page)
    now, former = page.split("Thành viên cũ (2)")
    assert re.findall(r"<strong>([^<]+)</strong></a>", now) == ["Trần Văn Bình", "Lê Văn Tâm", "Đặng Văn Chí",
                                                               "Vũ Thị An"]
    assert re.findall(r'<li class="member retired">\s*<a [^>]*>([^<]+)</a>', former) == ["Bà Thị Hai", "Ông Văn Một"]


def test_a_retired_hamlet_is_offered_only_to_the_team_that_still_serves_it(client, db, tree, login_as):
    login_as("commune", tree.commune)
    serving = make_team(tree, hamlets=[tree.hamlet2])
    tree.hamlet2.retired_on = date(2025, 7, 1)
    db.session.commit()
    assert "Khu vực 2" not in client.get(f"/teams/new/{tree.commune.id}").get_data(as_text=True)
    assert "Khu vực 2" in client.get(f"/teams/{serving.id}/edit").get_data(as_text=True)


def test_district_and_province_roll_up_per_child_unit(client, db, tree, login_as):
    a = make_team(tree, name="Tổ A")
    make_member(a, name="Nguyễn Văn Đạt", phone="0912000001", role="leader")
    make_member(a, name="Lê Thị Hoa", phone="0912000002")
    c = make_team(tree, name="Tổ C", commune=tree.other_commune, hamlets=[tree.other_hamlet])
    make_member(c, name="Trần Văn Bé", phone="0912000003", role="leader")
    make_member(c, name="Phạm Thị Mai", phone="0912000004")
    d = make_team(tree, name="Tổ D", commune=tree.other_commune, hamlets=[])
    login_as("province", tree.province)
    html = client.get(f"/teams/unit/{tree.province.id}").get_data(as_text=True)
    assert '<dt>Số tổ</dt><dd>3</dd>' in html and '<dt>Thành viên</dt><dd>4</dd>' in html

    def cells(page, name):
        row = page.split(f"{name}</a></td>")[1].split("</tr>")[0]
        return [cell.split(">")[1] for cell in row.split("</td>")[:3]]  # teams, active, members
    assert cells(html, "Thành phố Vị Thanh") == ["1", "1", "2"]
    assert cells(html, "Huyện Châu Thành A") == ["2", "2", "2"]
    assert "Tổ A" in html and "Tổ C" in html
    # Each team beside its own leader, whoever else is in it.
    rows = html.split('id="team-rows"')[1]
    assert "Tổ A" in rows.split("Tổ trưởng: Nguyễn Văn Đạt")[0].rsplit("</li>", 1)[-1]
    assert "Tổ C" in rows.split("Tổ trưởng: Trần Văn Bé")[0].rsplit("</li>", 1)[-1]
    assert "Lê Thị Hoa" not in rows and "Phạm Thị Mai" not in rows
    # A commune with no team, and one whose teams were all dissolved (their members left): zeros, not ones.
    for team in (c, d):
        team_ops.dissolve_team(db.session.get(Team, team.id), date(2024, 1, 1), "Sáp nhập")
    db.session.commit()
    district = client.get(f"/teams/unit/{tree.district.id}").get_data(as_text=True)
    assert cells(district, "Phường III") == ["0", "0", "0"]
    other = client.get(f"/teams/unit/{tree.other_district.id}").get_data(as_text=True)
    assert cells(other, "Thị trấn Một Ngàn") == ["2", "0", "0"]
    # No register button for province staff: they read.
    assert "Đăng ký tổ" not in client.get(f"/teams/unit/{tree.commune.id}").get_data(as_text=True)


# --- Access ------------------------------------------------------------------------------------

def _team_urls(team, member):
    gets = [f"/teams/{team.id}", f"/teams/{team.id}/edit", f"/teams/{team.id}/dissolve",
            f"/teams/{team.id}/check-phone?member-phone=0912345678", f"/teams/members/{member.id}",
            f"/teams/members/{member.id}/edit", f"/teams/members/{member.id}/row",
            f"/teams/members/{member.id}/leave", f"/teams/members/{member.id}/move",
            f"/teams/import/{team.commune_id}", f"/teams/new/{team.commune_id}"]
    posts = [(f"/teams/{team.id}/edit", {"name": "Hacked", "hamlets": ["1"]}),
             (f"/teams/{team.id}/dissolve", {"dissolved_on": "2024-01-01", "reason": "x"}),
             (f"/teams/{team.id}/reactivate", {}),
             (f"/teams/{team.id}/members", member_form()),
             (f"/teams/members/{member.id}/edit", {"edit-1-full_name": "Hacked"}),
             (f"/teams/members/{member.id}/leave", {"left_on": "2024-01-01"}),
             (f"/teams/members/{member.id}/move", {"team": str(team.id), "moved_on": "2024-01-01"}),
             (f"/teams/members/{member.id}/leader", {}),
             (f"/teams/members/{member.id}/account", {}),
             (f"/teams/import/{team.commune_id}", {}),
             (f"/teams/import/{team.commune_id}/confirm", {"payload": "x"}),
             (f"/teams/new/{team.commune_id}", {"name": "Hacked", "hamlets": ["1"]})]
    return gets, posts


def _unchanged(db, team, member):
    db.session.expire_all()
    t, m = db.session.get(Team, team.id), db.session.get(Member, member.id)
    assert t.name == "Tổ công nghệ số ấp Thạnh Hòa" and t.status == "active"
    assert m.full_name == "Nguyễn Văn An" and m.current is not None and m.current.role == "member"
    assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1
    assert db.session.scalar(sa.select(User.id).where(User.member_id == member.id)) is None


def test_another_communes_officer_gets_404_for_every_team_url(client, db, tree, login_as):
    team = make_team(tree)
    member = make_member(team)
    login_as("commune", tree.sibling_commune)
    gets, posts = _team_urls(team, member)
    for url in gets:
        assert client.get(url).status_code in (403, 404), url
    for url, data in posts:
        assert client.post(url, data=data).status_code in (403, 404), url
    _unchanged(db, team, member)
    assert "Thạnh Hòa" not in client.get(f"/teams/unit/{tree.sibling_commune.id}").get_data(as_text=True)
    assert client.get(f"/teams/unit/{tree.commune.id}").status_code == 404


OFFICERS_BUTTONS = ("Chuyển sang tổ khác", "Chọn làm tổ trưởng", "Tạo tài khoản đăng nhập", "Ghi nhận rời tổ")


def test_district_staff_read_but_do_not_change(app, client, db, tree, login_as):
    from tests.visits_helpers import sign_in_as
    team = make_team(tree)
    member = make_member(team)
    officer, _user = sign_in_as(app, "commune", tree.commune)  # the commune's officers have the buttons
    html = officer.get(f"/teams/members/{member.id}").get_data(as_text=True)
    assert all(button in html for button in OFFICERS_BUTTONS)
    login_as("district", tree.district)
    assert client.get(f"/teams/{team.id}").status_code == 200
    assert client.get(f"/teams/members/{member.id}").status_code == 200
    assert client.get(f"/teams/unit/{tree.district.id}").status_code == 200
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Thêm thành viên" not in html and "Sửa thông tin tổ" not in html
    # The member's page: read, with none of the officers' buttons.
    html = client.get(f"/teams/members/{member.id}").get_data(as_text=True)
    for button in OFFICERS_BUTTONS:
        assert button not in html, button
    _gets, posts = _team_urls(team, member)
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    _unchanged(db, team, member)


def test_other_district_sees_nothing(client, db, tree, login_as):
    team = make_team(tree)
    member = make_member(team)
    login_as("district", tree.other_district)
    assert client.get(f"/teams/{team.id}").status_code == 404
    assert client.get(f"/teams/members/{member.id}").status_code == 404


def test_team_leader_edits_own_members_only(client, db, tree, login_as):
    team = make_team(tree)
    other = make_team(tree, name="Tổ khác", hamlets=[tree.hamlet2])
    leader_member = make_member(team, name="Tổ Trưởng", phone="0912000009", role="leader")
    other_member = make_member(other, name="Người Tổ Khác", phone="0912000008")
    user = login_as("team_leader", tree.commune)
    user.team_id, user.member_id = team.id, leader_member.id
    db.session.commit()
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 302
    added = db.session.scalar(sa.select(Member).where(Member.full_name == "Trần Thị Bình"))
    assert client.post(f"/teams/members/{added.id}/leave", data={"left_on": "2024-01-01"}).status_code == 302
    # A former member's details are the commune officers' to fix, not the leader's.
    assert client.get(f"/teams/members/{added.id}/edit").status_code == 403
    assert client.post(f"/teams/members/{added.id}/edit",
                       data={f"edit-{added.id}-full_name": "Tên Khác"}).status_code == 403
    assert db.session.get(Member, added.id).full_name == "Trần Thị Bình"
    # Not the team itself, nor accounts, nor another team.
    edit_team = client.post(f"/teams/{team.id}/edit", data={"name": "x", "hamlets": [str(tree.hamlet.id)]})
    assert edit_team.status_code == 403
    assert client.post(f"/teams/members/{leader_member.id}/account").status_code == 403
    assert client.get(f"/teams/{other.id}").status_code == 404
    other_add = client.post(f"/teams/{other.id}/members", data=member_form(**{"member-phone": "0911111111"}))
    assert other_add.status_code == 404
    assert client.get(f"/teams/members/{other_member.id}").status_code == 404
    assert client.get("/teams/").location.endswith(f"/teams/{team.id}")


def test_team_member_reads_own_team(client, db, tree, login_as):
    team = make_team(tree)
    m = make_member(team)
    user = login_as("team_member", tree.commune)
    user.team_id, user.member_id = team.id, m.id
    db.session.commit()
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Nguyễn Văn An" in html and "Thêm thành viên" not in html
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 403
    assert client.post(f"/teams/members/{m.id}/edit", data={}).status_code == 403


def test_a_team_member_sees_no_other_team_of_the_commune_nor_its_people(client, db, tree, login_as):
    """A member list holds names and phones: a team member's lists show their own team only."""
    team = make_team(tree)
    other = make_team(tree, name="Tổ CNSCĐ Khu vực Hai", hamlets=[tree.hamlet2])
    mine = make_member(team)
    theirs = make_member(other, name="Đoàn Thị Xuân", phone="0912000008", role="leader")
    user = login_as("team_member", tree.commune)
    user.team_id, user.member_id = team.id, mine.id
    db.session.commit()
    commune = f"/teams/unit/{tree.commune.id}"
    pages = [client.get(url, follow_redirects=True) for url in (
        "/teams/", commune, f"{commune}?q=doan+thi+xuan", f"{commune}?q=khu+vuc+hai",
        f"/teams/unit/{tree.hamlet2.id}", f"/teams/{team.id}", f"/teams/members/{mine.id}")]
    pages.append(client.get(f"{commune}?q=khu", headers={"HX-Request": "true", "HX-Target": "team-rows"}))
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        for shown in ("Khu vực Hai", "Đoàn Thị Xuân", "0912000008", "0912 000 008"):
            assert shown not in html, (page.request.url, shown)
    assert "Tổ công nghệ số ấp Thạnh Hòa" in pages[1].get_data(as_text=True)  # their own team is listed
    assert client.get(f"/teams/{other.id}").status_code == 404
    assert client.get(f"/teams/members/{theirs.id}").status_code == 404
    assert client.get(f"/teams/members/{theirs.id}/row").status_code == 404


def test_signed_out_users_are_sent_to_sign_in(client, db, tree):
    team = make_team(tree)
    assert client.get(f"/teams/{team.id}").status_code == 302
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0



def test_member_page_shows_memberships_account_and_its_audit(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team)
    client.post(f"/teams/members/{m.id}/account")
    client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-02-29"})
    html = client.get(f"/teams/members/{m.id}").get_data(as_text=True)
    assert "Hiện không thuộc tổ nào" in html and "Tên đăng nhập: <strong>0912345678</strong>" in html
    assert "đã khóa tài khoản" in html and "Tài khoản hoạt động: <del>có</del> → <ins>không</ins>" in html
    assert "Ngày rời tổ: <ins>29/02/2024</ins>" in html
    # A former member gets no new password.
    assert client.post(f"/teams/members/{m.id}/account").status_code == 303


def test_pages_in_english(client, db, tree, login_as):
    login_as("commune", tree.commune, locale="en")
    team = make_team(tree)
    make_member(team)
    html = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Members now (1)" in html and "Youth union" in html and "Teams</a>" in html


JUNK = {"name": "\x00" * 3 + "x" * 5000, "decision_number": "y" * 500, "decision_date": "31/31/2024",
        "hamlets": ["-1", "1e9", "x"], "dissolved_on": "9999-99-99", "reason": "z" * 5000,
        "member-full_name": "\u202e" * 10, "member-phone": "+" * 40, "member-gender": "??",
        "member-birth_year": "1" * 30, "member-role": "admin", "member-affiliation": "<b>",
        "member-joined_on": "yesterday", "left_on": "0000-00-00", "team": "NaN", "moved_on": "",
        "role": "root", "payload": "not-signed"}


def test_junk_never_causes_a_server_error(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    member = make_member(team)
    _gets, posts = _team_urls(team, member)
    for url, _data in posts:
        resp = client.post(url, data=JUNK)
        assert 400 <= resp.status_code < 500 or resp.status_code in (200, 302, 303), (url, resp.status_code)
    for url in (f"/teams/unit/{tree.commune.id}?status=%00&hamlet=abc&q=" + "x" * 500,
                f"/teams/{team.id}/check-phone?member-phone=" + "+" * 40):
        assert client.get(url).status_code == 200
    _unchanged_except_account = db.session.scalar(sa.select(sa.func.count(Member.id)))
    assert _unchanged_except_account == 1



def test_a_team_leader_cannot_hand_over_or_give_up_the_leadership(client, db, tree, login_as):
    team = make_team(tree)
    leader_member = make_member(team, name="Tổ Trưởng", phone="0912000009", role="leader")
    user = login_as("team_leader", tree.commune)
    user.team_id, user.member_id = team.id, leader_member.id
    db.session.commit()
    resp = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-role": "leader"}))
    assert resp.status_code == 400 and "Chỉ cán bộ xã mới chọn tổ trưởng." in resp.get_data(as_text=True)
    data = {f"edit-{leader_member.id}-{k}": v for k, v in {
        "full_name": "Tổ Trưởng", "phone": "0912000009", "role": "member", "affiliation": "other",
        "joined_on": "2022-04-01"}.items()}
    assert client.post(f"/teams/members/{leader_member.id}/edit", data=with_version(
        client, f"/teams/members/{leader_member.id}/edit", data)).status_code == 400
    data[f"edit-{leader_member.id}-role"] = "leader"  # unchanged role: the rest may be edited
    assert client.post(f"/teams/members/{leader_member.id}/edit", data=with_version(
        client, f"/teams/members/{leader_member.id}/edit", data)).status_code == 302
    db.session.expire_all()
    assert team_ops.open_leader(db.session.get(Team, team.id)).member_id == leader_member.id


def test_a_former_member_rejoins_and_a_dissolved_team_is_made_active_again(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, phone="0987654321")
    client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2023-01-31"})
    # Meanwhile the number went to someone else: rejoining is refused until it is changed.
    make_member(team, name="Người Mới", phone="0987654321")
    resp = client.post(f"/teams/members/{m.id}/move", data={"team": str(team.id), "role": "member",
                                                            "moved_on": "2024-01-01"})
    assert resp.status_code == 400 and "Hãy sửa số trước." in resp.get_data(as_text=True)
    # The officer fixes the former member's number, then the rejoin goes through.
    page = client.get(f"/teams/members/{m.id}/edit").get_data(as_text=True)
    assert f"edit-{m.id}-role" not in page and f"edit-{m.id}-joined_on" not in page
    resp = client.post(f"/teams/members/{m.id}/edit", data=with_version(client, f"/teams/members/{m.id}/edit", {
        f"edit-{m.id}-full_name": "Nguyễn Văn An", f"edit-{m.id}-phone": "0987 000 111",
        f"edit-{m.id}-affiliation": "other"}))
    assert resp.status_code == 302 and resp.location.endswith(f"/teams/members/{m.id}")
    too_early = client.post(f"/teams/members/{m.id}/move", data={"team": str(team.id), "moved_on": "2023-01-01"})
    assert too_early.status_code == 400
    resp = client.post(f"/teams/members/{m.id}/move", data={"team": str(team.id), "role": "member",
                                                            "moved_on": "2024-01-01"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert [(x.joined_on, x.left_on) for x in db.session.get(Member, m.id).memberships] == [
        (date(2022, 4, 1), date(2023, 1, 31)), (date(2024, 1, 1), None)]

    client.post(f"/teams/{team.id}/dissolve", data={"dissolved_on": "2024-06-30", "reason": "Sáp nhập ấp"})
    assert client.post(f"/teams/{team.id}/reactivate").status_code == 302
    db.session.expire_all()
    t = db.session.get(Team, team.id)
    assert t.status == "active" and t.dissolved_on is None
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.record_type == "team", AuditEvent.record_id == team.id).order_by(AuditEvent.id)).all()
    assert actions == ["create", "dissolve", "reactivate"]


def test_a_members_life_is_in_their_audit_trail_newest_first_with_who_did_what(client, db, tree, login_as):
    """Added, corrected, moved, made leader, given an account, left: each step is on the member's page, with
    the fields it changed; the team's page shows the member's steps among its own."""
    officer = login_as("commune", tree.commune, locale="en")
    team = make_team(tree)
    other = make_team(tree, name="Tổ khu vực 2", hamlets=[tree.hamlet2])
    assert client.post(f"/teams/{team.id}/members", data=member_form()).status_code == 302
    m = db.session.scalar(sa.select(Member).where(Member.full_name == "Trần Thị Bình"))
    data = {f"edit-{m.id}-{k}": v for k, v in {"full_name": "Trần Thị Bình", "phone": "0987 654 322",
                                               "gender": "female", "birth_year": "1995", "role": "deputy",
                                               "affiliation": "womens_union", "joined_on": "2023-05-01"}.items()}
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302
    assert client.post(f"/teams/members/{m.id}/move", data={"team": str(other.id), "role": "member",
                                                            "moved_on": "2024-03-01"}).status_code == 302
    assert client.post(f"/teams/members/{m.id}/leader").status_code == 302
    assert client.post(f"/teams/members/{m.id}/account").status_code == 200
    assert client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-06-30"}).status_code == 302
    page = parse(client.get(f"/teams/members/{m.id}").get_data(as_text=True))
    steps = [li for li in page.find(id="audit").find_all("li") if "audit-changes" not in li.parent.classes()]
    heads = [" ".join(next(li.find_all("div")).text().split()) for li in steps]
    who = f"{officer.full_name} ({officer.username})"  # as accounts are named everywhere
    # Newest first; the account is disabled in the same step as the leave, after it.
    assert [h.split(" · ", 1)[1] for h in heads] == [
        f"{who} · account disabled", f"{who} · left the team", f"{who} · created", f"{who} · role changed",
        f"{who} · moved", f"{who} · changed", f"{who} · created"]
    changes = [" ".join(li.text().split()).split(" · ", 2)[2] for li in steps]
    assert changes[0] == "account disabled Username: 0987654322 Account enabled: yes → no"
    assert changes[1] == "left the team Left on: Jun 30, 2024"
    # The account's member by name, never by the database's number.
    assert changes[2] == "created Member: Trần Thị Bình Role in the team: Team leader Username: 0987654322"
    assert changes[3] == "role changed Team: Tổ khu vực 2 Role in the team: Member → Leader"
    assert changes[4] == ("moved Team: Tổ công nghệ số ấp Thạnh Hòa → Tổ khu vực 2 "
                          "Role in the team: Deputy leader → Member Joined on: Mar 1, 2024")
    assert changes[5] == "changed Mobile number: 0987 654 321 → 0987 654 322 Role in the team: Member → Deputy leader"
    # In the order of the forms, not of the fields' codes.
    assert changes[6] == ("created Full name: Trần Thị Bình Mobile number: 0987 654 321 Gender: Female "
                          "Year of birth: 1995 Team: Tổ công nghệ số ấp Thạnh Hòa Role in the team: Member "
                          "Affiliation: Women's union Joined on: May 1, 2023")
    # The team the member was in first keeps their steps in its own trail.
    trail = " ".join(parse(client.get(f"/teams/{team.id}").get_data(as_text=True)).find(id="audit").text().split())
    assert "moved: Trần Thị Bình" in trail and "created: Trần Thị Bình" in trail


def test_a_members_account_follows_their_team_and_role_and_is_signed_out_when_they_leave(
        app, client, db, tree, login_as):
    from tests.visits_helpers import sign_in_as
    team = make_team(tree)
    other = make_team(tree, name="Tổ khu vực 2", hamlets=[tree.hamlet2])
    m = make_member(team)
    phone, account = sign_in_as(app, "team_member", tree.commune, team, m)
    assert phone.get("/visits/new").status_code == 200
    login_as("commune", tree.commune)

    def held():
        db.session.expire_all()
        a = db.session.get(User, account.id)
        return a.role, a.team_id, a.is_enabled

    assert client.post(f"/teams/members/{m.id}/leader").status_code == 302
    assert held() == ("team_leader", team.id, True)
    assert client.post(f"/teams/members/{m.id}/move", data={"team": str(other.id), "role": "member",
                                                            "moved_on": "2024-03-01"}).status_code == 302
    assert held() == ("team_member", other.id, True)
    data = {f"edit-{m.id}-{k}": v for k, v in {"full_name": "Nguyễn Văn An", "phone": "0912 345 678",
                                               "gender": "male", "birth_year": "1990", "role": "leader",
                                               "affiliation": "youth_union", "joined_on": "2024-03-01"}.items()}
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302
    assert held() == ("team_leader", other.id, True)
    # Leaving disables the account: the phone already signed in is signed out on its next page.
    assert client.post(f"/teams/members/{m.id}/leave", data={"left_on": "2024-06-30"}).status_code == 302
    assert held()[2] is False
    out = phone.get("/visits/new")
    assert out.status_code == 302 and "/auth/login" in out.headers["Location"]


def test_a_members_new_number_is_theirs_and_their_old_one_free(client, db, tree, login_as):
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, phone="0912345678")
    data = {f"edit-{m.id}-{k}": v for k, v in {"full_name": "Nguyễn Văn An", "phone": "0912 345 679",
                                               "gender": "male", "birth_year": "1990", "role": "member",
                                               "affiliation": "youth_union", "joined_on": "2022-04-01"}.items()}
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, m.id).active_phone == "0912345679"
    taken = client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "0912 345 679"}))
    assert taken.status_code == 400 and "Nguyễn Văn An" in taken.get_data(as_text=True)
    assert client.post(f"/teams/{team.id}/members", data=member_form(**{"member-phone": "0912 345 678"})
                       ).status_code == 302


def test_a_renamed_member_s_account_takes_the_new_name_and_the_trail_says_so(app, client, db, tree, login_as):
    """The account copied the member's name when it was made; a name corrected later (a typo, a name typed
    without accents) reaches the account too: the account list finds it by the new name, not the old."""
    login_as("commune", tree.commune)
    team = make_team(tree)
    m = make_member(team, name="Nguyen Van An")
    assert client.post(f"/teams/members/{m.id}/account").status_code == 200
    account = db.session.scalar(sa.select(User).where(User.member_id == m.id))
    assert account.full_name == "Nguyen Van An"
    data = {f"edit-{m.id}-{k}": v for k, v in {"full_name": "Nguyễn Văn Ân", "phone": "0912 345 678",
                                               "gender": "male", "birth_year": "1990", "role": "member",
                                               "affiliation": "youth_union", "joined_on": "2022-04-01"}.items()}
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302
    db.session.expire_all()
    account = db.session.get(User, account.id)
    assert (account.full_name, account.full_name_folded) == ("Nguyễn Văn Ân", "nguyen van an")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_type == "user",
                                                          AuditEvent.record_id == account.id,
                                                          AuditEvent.action == "rename"))
    assert event is not None and event.unit_id == tree.commune.id
    # On the member's page, beside the member's own change.
    page = parse(client.get(f"/teams/members/{m.id}").get_data(as_text=True))
    trail = " ".join(page.find(id="audit").text().split())
    assert "đã đổi tên trên tài khoản Họ và tên: Nguyen Van An → Nguyễn Văn Ân Tên đăng nhập: 0912345678" in trail
    # Province staff's account list finds the account by the new name, with or without its accents.
    from flask import g
    g.pop("_login_user", None)
    staff = app.test_client()
    login_as("province", tree.province, http=staff)
    listing = staff.get("/users/?q=Văn Ân").get_data(as_text=True)
    assert "Nguyễn Văn Ân" in listing and "0912345678" in listing
    assert ("Đã đổi tên trên tài khoản Nguyen Van An (0912345678) thành Nguyễn Văn Ân"
            in staff.get("/audit/").get_data(as_text=True))
    # Saving the member without a new name leaves the account alone: no second event.
    data[f"edit-{m.id}-birth_year"] = "1991"
    assert client.post(f"/teams/members/{m.id}/edit", data=with_version(
        client, f"/teams/members/{m.id}/edit", data)).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.record_type == "user", AuditEvent.action == "rename")) == 1


def test_a_teams_ended_hamlet_is_marked_after_its_current_ones_in_the_list_the_page_and_the_filter(
        db, tree, client, login_as):
    """A hamlet ended (merged, split or retired) stays on the team it served, but the commune's list, the team's
    page and the hamlet filter say how it ended and from when, after the hamlets of today: retired by hand, or
    merged into the hamlet its households went to."""
    from app.extensions import db as _db
    from app.units import hamlet_changes
    from app.units import operations as unit_ops
    team = make_team(tree, hamlets=[tree.hamlet, tree.hamlet2])
    unit_ops.retire_unit(_db.session.get(type(tree.hamlet), tree.hamlet.id), date(2024, 12, 1))
    _db.session.commit()
    login_as("commune", tree.commune)
    ended = "Khu vực 1 (ngừng sử dụng từ 01/12/2024)"
    html = " ".join(client.get(f"/teams/unit/{tree.commune.id}").get_data(as_text=True).split())
    assert f"Khu vực 2, {ended}" in re.sub(r"<[^>]+>", "", html)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', html)
    hamlet_options = [label for value, label in options if value.isdigit()]
    assert hamlet_options == ["Khu vực 2", ended]
    page = " ".join(client.get(f"/teams/{team.id}").get_data(as_text=True).split())
    assert f"Khu vực 2, {ended}" in re.sub(r"<[^>]+>", "", page)
    # Khu vực 2 merged into a hamlet of today: each place names where its households went.
    new = unit_ops.create_unit("Khu vực 3", "hamlet", _db.session.get(type(tree.hamlet), tree.commune.id))
    hamlet_changes.merge_hamlets(_db.session.get(type(tree.hamlet), tree.hamlet2.id), new, date(2025, 1, 1), 700)
    _db.session.commit()
    merged = "Khu vực 2 (đã sáp nhập vào Khu vực 3 từ 01/01/2025)"
    html = " ".join(client.get(f"/teams/unit/{tree.commune.id}").get_data(as_text=True).split())
    assert f"Khu vực 3, {ended}, {merged}" in re.sub(r"<[^>]+>", "", html)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', html)
    assert [label for value, label in options if value.isdigit()] == ["Khu vực 3", ended, merged]
    page = " ".join(client.get(f"/teams/{team.id}").get_data(as_text=True).split())
    assert f"Khu vực 3, {ended}, {merged}" in re.sub(r"<[^>]+>", "", page)


def test_a_team_is_not_dissolved_for_a_reason_of_one_word(client, db, tree, login_as):
    """The reason stays on the team's page and in its history: one word such as "Bổ sung" is refused with the
    message every reason box gives, beside the box that keeps it, and the team stays active."""
    login_as("commune", tree.commune)
    team = make_team(tree)
    resp = client.post(f"/teams/{team.id}/dissolve", data={"dissolved_on": "2024-06-30", "reason": "Bổ sung"})
    assert resp.status_code == 400
    page = parse(resp.get_data(as_text=True))
    error = page.find(id="reason-error")
    assert error is not None and "Hãy ghi lý do bằng lời, ít nhất 10 ký tự" in error.text()
    assert page.find(tag="textarea", name="reason").text().strip() == "Bổ sung"
    db.session.expire_all()
    assert db.session.get(Team, team.id).status == "active"
